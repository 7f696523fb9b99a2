import * as z from '../zod.js';
import { AppError, errors } from '../errors.js';
import { decodeGoJsonObject, decodeGoObject, goBool, goString, GoJsonError, type GoJsonOptions } from '../http/go-json.js';
import { isValidId } from '../ids.js';
import { callIntegration, IntegrationCallError } from '../integrations/call.js';
import { newTriggerIds } from '../integrations/trigger-id.js';
import type { Post, User } from '../model.js';
import { postNotFound, readablePost } from '../posts/visibility.js';
import { editWithRetry } from '../posts/edit.js';
import { buildPost, checkPostSize, checkPropsDepth, countRunes, MAX_POST_RUNES } from '../posts/rules.js';
import type { Runtime } from '../runtime.js';
import { decodeAttachments } from '../slack.js';
import { clickableAction, prepareActions } from '../posts/attachments.js';
import { integrationPost } from '../posts/integration-post.js';
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

/**
 * `json.NewDecoder(resp.Body).Decode(&response)` into Mattermost's `PostActionIntegrationResponse`,
 * whose `Update` is a `*Post`: an empty body or `null` is no answer, what follows the first value
 * is ignored, and a field of the wrong type is the integration's error (400).
 */
const JSON_OPTIONS: GoJsonOptions = { trailing: 'ignore', empty: 'absent', null: 'absent' };
const ANSWER_KEYS = ['update', 'ephemeral_text', 'skip_slack_parsing'] as const;
const answerSchema = z.object({ update: z.optional(z.unknown()), ephemeral_text: goString, skip_slack_parsing: goBool });
/** Of the post an update carries, the fields Mattermost's update takes: its message and props. */
const UPDATE_KEYS = ['message', 'props'] as const;
const updateSchema = z.object({ message: goString, props: z.nullish(z.record(z.string(), z.unknown())) });

export interface ActionUpdate {
  message: string;
  /** Null when the update has none: the post keeps its props. */
  props: Record<string, unknown> | null;
}

/** The integration's answer: `update` (a post), `ephemeral_text`, `skip_slack_parsing`. */
export function decodeActionResponse(body: Buffer) {
  try {
    const answer = decodeGoJsonObject(body.toString('utf8'), ANSWER_KEYS, answerSchema, JSON_OPTIONS);
    if (!answer) return undefined;
    const update = decodeGoObject(answer.update ?? null, UPDATE_KEYS, updateSchema, JSON_OPTIONS);
    return {
      update: update ? ({ message: update.message, props: update.props ?? null } satisfies ActionUpdate) : null,
      ephemeralText: answer.ephemeral_text,
      skipSlackParsing: answer.skip_slack_parsing,
    };
  } catch (error) {
    if (error instanceof GoJsonError) throw integrationError(error.message);
    throw error;
  }
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
  const { clientTriggerId, triggerId } = await newTriggerIds(runtime, user.id, runtime.nowMs());
  const payload = {
    user_id: user.id,
    user_name: user.username,
    channel_id: channel.id,
    channel_name: channel.name,
    team_id: teamId,
    team_domain: team?.name ?? '',
    post_id: post.id,
    trigger_id: triggerId,
    type,
    data_source: dataSource,
    ...(finalContext ? { context: finalContext } : {}),
    // Hookline's addition, under the signature: which button, on a post made by whom.
    action_id: action.id ?? actionId,
    origin: { kind: post.origin?.kind ?? '', id: post.origin?.id ?? '' },
  };
  const body = JSON.stringify(payload);
  let response;
  try {
    response = await callIntegration(runtime, {
      kind: 'action',
      url: action.integration.url,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      signingSecret: await clickSigningSecret(runtime, post),
      messageId: clientTriggerId,
    });
  } catch (error) {
    if (error instanceof IntegrationCallError) throw integrationError(error.message);
    throw error;
  }
  if (response.truncated) throw integrationError('the answer is longer than 1 MiB');
  const answer = decodeActionResponse(response.body);
  if (!answer) return clientTriggerId;
  if (countRunes(answer.ephemeralText) > MAX_POST_RUNES) throw integrationError('ephemeral_text is longer than a post may be');

  if (answer.update) await applyUpdate(runtime, post, answer.update);
  if (answer.ephemeralText !== '') {
    const mapped = integrationPost(
      runtime.config,
      { text: answer.ephemeralText, type: '', props: {}, attachments: null },
      { path: 'action_ephemeral', original: post, skipSlackParsing: answer.skipSlackParsing },
    );
    const ephemeral = buildPost({ ...mapped, userId: post.user_id, channelId: channel.id, rootId: post.root_id || post.id }, runtime.nowMs());
    await runtime.posts.createEphemeralPost(ephemeral, user.id, Math.floor(runtime.nowMs() / 1000) + runtime.config.ephemeralPostTtlSeconds);
    await publishEphemeralPost(runtime, ephemeral, user.id);
    runtime.metrics.postsCreated('ephemeral', 1);
  }
  return clientTriggerId;
}

/**
 * Step 6 of `DoPostActionWithCookie`: message and props replaced (an update without props keeps
 * the post's), the server-owned props and pins kept (`integrationPost`'s `action_update`). As
 * Mattermost's `UpdatePost`, the update applies to the post as it is when the answer arrives, read
 * again, not as it was clicked: a delete, an edit or a reaction made while the integration
 * answered is kept. A post deleted meanwhile is not brought back: 404.
 */
async function applyUpdate(runtime: Runtime, post: Post, update: ActionUpdate): Promise<void> {
  const props = update.props ? { ...update.props } : undefined;
  if (props?.attachments !== undefined) {
    // Validated as Slack attachments, and actions given ids, but stored as sent: an update is no new post.
    try {
      props.attachments = prepareActions(decodeAttachments(props.attachments)) ?? [];
    } catch (error) {
      if (error instanceof AppError) throw error;
      throw integrationError(`update.props.attachments: ${(error as Error).message}`);
    }
  }
  const change = (current: Post): Post => {
    const mapped = integrationPost(runtime.config, { text: update.message, type: current.type, props: { ...(props ?? current.props) }, attachments: null }, { path: 'action_update', original: current });
    checkPostSize(mapped.message, mapped.props);
    checkPropsDepth(mapped.props);
    const nowMs = runtime.nowMs();
    return {
      ...current,
      message: mapped.message,
      props: mapped.props,
      // Later than the version it replaces, even within its millisecond: readers and the thread
      // backfill tell versions apart by update_at.
      update_at: Math.max(nowMs, current.update_at + 1),
      edit_at: mapped.message !== current.message ? nowMs : current.edit_at,
    };
  };
  if (post.ephemeral_for !== undefined) {
    const updated = change(post);
    await runtime.posts.updateEphemeralPost({ ...updated, ephemeral_for: post.ephemeral_for }, Math.floor(runtime.nowMs() / 1000) + runtime.config.ephemeralPostTtlSeconds);
    return;
  }
  const readCurrent = async () => {
    const current = await runtime.posts.getPost(post.id, { consistent: true });
    return current && current.delete_at === 0 ? current : undefined;
  };
  if (!(await editWithRetry(runtime, readCurrent, change))) throw postNotFound();
}
