import * as z from '../zod.js';
import { AppError, errors } from '../errors.js';
import { firstJsonValue, parseJsonText } from '../http/body.js';
import { OutboundError, outboundRequest } from '../http/outbound.js';
import { isValidId, newId } from '../ids.js';
import type { Post, User } from '../model.js';
import { readablePost } from '../posts/visibility.js';
import { buildPost, checkPostSize, checkPropsDepth, countRunes, MAX_POST_RUNES } from '../posts/rules.js';
import type { Runtime } from '../runtime.js';
import { canonicalizeKeys, convertModelLinks, decodeAttachments, isPlainObject } from '../slack.js';
import { signatureHeaders } from '../webhooks/signing.js';
import { clickableAction, prepareActions, RETAINED_PROPS } from '../posts/attachments.js';
import { publishEphemeralPost } from '../live/live.js';

export const actionRequestSchema = z.object({
  selected_option: z._default(z.optional(z.string()), ''),
  /** Mattermost's cookie authenticates ephemeral posts it does not store; Hookline stores them, so it is ignored. */
  cookie: z._default(z.optional(z.string()), ''),
});
export type ActionRequest = z.infer<typeof actionRequestSchema>;

const integrationError = (detail: string) =>
  new AppError('api.post.do_action.action_integration.app_error', 'Action integration error.', 400, detail);
const actionNotFound = () => new AppError('api.post.do_action.action_id.app_error', 'Unable to find the action.', 404);

/** The integration's answer: `update` (a post), `ephemeral_text`, `skip_slack_parsing`. */
export function decodeActionResponse(body: Buffer) {
  const text = body.toString('utf8');
  if (text.trim() === '') return undefined;
  const first = firstJsonValue(text);
  if (first === undefined) throw integrationError('the answer is not complete JSON');
  let raw: unknown;
  try {
    raw = parseJsonText(first);
  } catch (error) {
    throw integrationError((error as Error).message);
  }
  if (raw === null) return undefined;
  if (!isPlainObject(raw)) throw integrationError('the answer is not a JSON object');
  const answer = canonicalizeKeys(raw, ['update', 'ephemeral_text', 'skip_slack_parsing']);
  if (answer.update !== undefined && answer.update !== null && !isPlainObject(answer.update)) throw integrationError('update is not an object');
  if (answer.ephemeral_text !== undefined && answer.ephemeral_text !== null && typeof answer.ephemeral_text !== 'string') throw integrationError('ephemeral_text is not a string');
  return {
    update: (answer.update ?? null) as Record<string, unknown> | null,
    ephemeralText: (answer.ephemeral_text ?? '') as string,
    skipSlackParsing: answer.skip_slack_parsing === true,
  };
}

/** A `selected_option` of a users or channels menu must name something the clicking user can see. */
async function checkSelection(runtime: Runtime, user: User, dataSource: string, selected: string, teamId: string): Promise<void> {
  if (dataSource === 'users') {
    const chosen = isValidId(selected) ? await runtime.directory.user(selected) : undefined;
    const visible = chosen && chosen.delete_at === 0 && (teamId === '' ? true : await runtime.entities.isTeamMember(teamId, chosen.id));
    if (!visible) throw errors.invalidParam('selected_option');
  } else if (dataSource === 'channels') {
    const chosen = isValidId(selected) ? await runtime.directory.channel(selected) : undefined;
    const visible =
      chosen && chosen.delete_at === 0 && ((chosen.type === 'O' && chosen.team_id === teamId) || (await runtime.directory.isChannelMember(chosen.id, user.id)));
    if (!visible) throw errors.invalidParam('selected_option');
  }
}

/**
 * The secret a click is signed with. A button on a command's answer or an outgoing hook's reply is
 * signed with that integration's own signing secret, so the integration, verifying with its own
 * secret, knows the button is one it made: a user who posts a button with its URL gets the
 * deployment's action secret instead, and the signature fails. Buttons of incoming webhooks (which
 * have no secret of their own) and of users are signed with the deployment's action secret, and
 * the signed `origin` says which kind of post it was.
 */
async function clickSigningSecret(runtime: Runtime, post: Post): Promise<string | undefined> {
  const origin = post.origin;
  if (origin?.kind === 'command') return (await runtime.directory.commandSecrets(origin.id))?.signing_secret;
  if (origin?.kind === 'outgoing_reply') return (await runtime.entities.getIntegrationSecrets('OUTHOOK', origin.id))?.signing_secret;
  return runtime.directory.actionSigningSecret();
}

/**
 * `POST /api/v4/posts/{post_id}/actions/{action_id}`: the request to the
 * action's integration, then its `update` of the post (message and props replaced, the retained
 * props kept) and its `ephemeral_text` for the clicking user alone. Returns the client trigger id.
 */
export async function performPostAction(runtime: Runtime, user: User, postId: string, actionId: string, request: ActionRequest): Promise<string> {
  const { post, channel } = await readablePost(runtime, user, postId);
  const action = clickableAction(post.props, actionId);
  if (!action?.integration?.url) throw actionNotFound();

  const teamId = channel.type === 'D' ? '' : channel.team_id;
  const team = teamId ? await runtime.directory.team(teamId) : undefined;
  const type = action.type ?? '';
  const context: Record<string, unknown> | undefined = action.integration.context ? { ...action.integration.context } : undefined;
  let dataSource = '';
  let finalContext = context;
  if (type === 'select' && request.selected_option !== '') {
    await checkSelection(runtime, user, action.data_source ?? '', request.selected_option, channel.team_id);
    dataSource = action.data_source ?? '';
    finalContext = { ...(context ?? {}), selected_option: request.selected_option };
  }
  const clientTriggerId = newId();
  const nowMs = runtime.nowMs();
  const payload = {
    user_id: user.id,
    user_name: user.username,
    channel_id: channel.id,
    channel_name: channel.name,
    team_id: teamId,
    team_domain: team?.name ?? '',
    post_id: post.id,
    trigger_id: Buffer.from(`${clientTriggerId}:${user.id}:${nowMs}`).toString('base64'),
    type,
    data_source: dataSource,
    ...(finalContext ? { context: finalContext } : {}),
    // Hookline's addition, under the signature: which button, on a post made by whom.
    action_id: action.id ?? actionId,
    origin: { kind: post.origin?.kind ?? '', id: post.origin?.id ?? '' },
  };
  const body = JSON.stringify(payload);
  const secret = await clickSigningSecret(runtime, post);
  let response;
  const callStartedMs = runtime.nowMs();
  try {
    response = await outboundRequest({
      url: action.integration.url,
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json',
        ...(secret ? signatureHeaders(secret, clientTriggerId, body, new Date(nowMs)) : {}),
      },
      body,
      timeoutMs: Math.min(runtime.config.outgoingRequestsTimeoutMs, 25_000),
      allowList: runtime.allowList,
    });
  } catch (error) {
    if (error instanceof OutboundError) {
      runtime.metrics.integrationCall('action', 'failed', runtime.nowMs() - callStartedMs);
      throw integrationError(error.message);
    }
    throw error;
  }
  runtime.metrics.integrationCall('action', response.status === 200 ? 'answered' : 'failed', response.latencyMs);
  if (response.status !== 200) throw integrationError(`status=${response.status}`);
  if (response.truncated) throw integrationError('the answer is longer than 1 MiB');
  const answer = decodeActionResponse(response.body);
  if (!answer) return clientTriggerId;
  if (countRunes(answer.ephemeralText) > MAX_POST_RUNES) throw integrationError('ephemeral_text is longer than a post may be');

  const retained: Record<string, unknown> = {};
  for (const key of RETAINED_PROPS) if (post.props[key] !== undefined) retained[key] = post.props[key];
  if (answer.update) await applyUpdate(runtime, post, answer.update, retained);
  if (answer.ephemeralText !== '') {
    const ephemeral = buildPost(
      {
        userId: post.user_id,
        channelId: channel.id,
        rootId: post.root_id || post.id,
        message: answer.skipSlackParsing ? answer.ephemeralText : convertModelLinks(answer.ephemeralText),
        type: 'system_ephemeral',
        props: { ...retained },
      },
      runtime.nowMs(),
    );
    await runtime.posts.createEphemeralPost(ephemeral, user.id, Math.floor(runtime.nowMs() / 1000) + runtime.config.ephemeralPostTtlSeconds);
    await publishEphemeralPost(runtime, ephemeral, user.id);
    runtime.metrics.postsCreated('ephemeral', 1);
  }
  return clientTriggerId;
}

/** Step 6 of `DoPostActionWithCookie`: message and props replaced, retained props and pins kept. */
async function applyUpdate(runtime: Runtime, post: Post, update: Record<string, unknown>, retained: Record<string, unknown>): Promise<void> {
  const message = typeof update.message === 'string' ? update.message : '';
  let props: Record<string, unknown>;
  if (update.props === undefined || update.props === null) {
    props = post.props;
  } else {
    if (!isPlainObject(update.props)) throw integrationError('update.props is not an object');
    props = { ...update.props };
    for (const key of RETAINED_PROPS) delete props[key];
    Object.assign(props, retained);
    if (props.attachments !== undefined) {
      try {
        props.attachments = prepareActions(decodeAttachments(props.attachments)) ?? [];
      } catch (error) {
        if (error instanceof AppError) throw error;
        throw integrationError(`update.props.attachments: ${(error as Error).message}`);
      }
    }
  }
  checkPostSize(message, props);
  checkPropsDepth(props);
  const nowMs = runtime.nowMs();
  const updated: Post = {
    ...post,
    message,
    props,
    update_at: nowMs,
    edit_at: message !== post.message ? nowMs : post.edit_at,
  };
  await runtime.posts.updatePost(updated, Math.floor(nowMs / 1000) + runtime.config.ephemeralPostTtlSeconds);
}
