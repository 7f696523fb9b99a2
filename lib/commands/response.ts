import * as z from '../zod.js';
import { AppError } from '../errors.js';
import { isValidId } from '../ids.js';
import { canonicalizeKeys, decodeGoObject, goBool, goProps, goString, GoJsonError, isPlainObject, parseGoJson, type GoJsonOptions } from '../http/go-json.js';
import { MAX_EXTRA_RESPONSES } from '../limits.js';
import type { Command, Post } from '../model.js';
import { integrationPost } from '../posts/integration-post.js';
import { buildPost, checkChannelOpenForPosts, checkPostSize } from '../posts/rules.js';
import type { Runtime } from '../runtime.js';
import {
  boundedUsernameLookup,
  decodeAttachments,
  processSlackAttachments,
  processSlackText,
  SlackDecodeError,
  type SlackAttachment,
} from '../slack.js';
import { publishEphemeralPost } from '../live/live.js';

/** Mattermost's `CommandResponse`. */
export interface CommandResponse {
  response_type: string;
  text: string;
  username: string;
  channel_id: string;
  icon_url: string;
  type: string;
  props: Record<string, unknown>;
  goto_location: string;
  trigger_id: string;
  skip_slack_parsing: boolean;
  attachments: SlackAttachment[] | null;
  extra_responses: CommandResponse[] | null;
}

const KEYS = [
  'response_type', 'text', 'username', 'channel_id', 'icon_url', 'type', 'props', 'goto_location', 'trigger_id',
  'skip_slack_parsing', 'attachments', 'extra_responses',
] as const;

const schema = z.object({
  response_type: goString,
  text: goString,
  username: goString,
  channel_id: goString,
  icon_url: goString,
  type: goString,
  props: goProps,
  goto_location: goString,
  trigger_id: goString,
  skip_slack_parsing: goBool,
  attachments: z.optional(z.unknown()),
  extra_responses: z.nullish(z.array(z.unknown())),
});

export class CommandResponseError extends Error {}

/** `json.Unmarshal(body, &o)` into a struct value: the whole body one value; `null` the zero answer. */
const JSON_OPTIONS: GoJsonOptions = { trailing: 'refuse', empty: 'refuse', null: 'zero' };

function decodeObject(raw: unknown, nested: boolean): CommandResponse {
  // Each extra response is a post: counted before any of them is decoded.
  const extra = isPlainObject(raw) ? canonicalizeKeys(raw, ['extra_responses']).extra_responses : undefined;
  if (Array.isArray(extra) && extra.length > MAX_EXTRA_RESPONSES) {
    throw new CommandResponseError(`more than ${MAX_EXTRA_RESPONSES} extra_responses`);
  }
  let parsed;
  let attachments: SlackAttachment[] | null;
  try {
    parsed = decodeGoObject(raw, KEYS, schema, JSON_OPTIONS)!;
    attachments = decodeAttachments(parsed.attachments);
  } catch (error) {
    if (error instanceof GoJsonError || error instanceof SlackDecodeError) throw new CommandResponseError(error.message);
    throw error;
  }
  // A `null` among the extra responses is a nil pointer that Mattermost's loop skips.
  const extraResponses = nested || !parsed.extra_responses
    ? null
    : parsed.extra_responses.filter((entry) => entry !== null).map((entry) => decodeObject(entry, true));
  return { ...parsed, attachments, extra_responses: extraResponses };
}

/**
 * `CommandResponseFromHTTPBody`: JSON when the media type is exactly `application/json` (then the
 * whole body must be one JSON value, as with `json.Unmarshal`), otherwise the text is the answer.
 */
export function decodeCommandResponse(contentType: string | undefined, body: Buffer): CommandResponse {
  const text = body.toString('utf8');
  if ((contentType ?? '').split(';')[0]!.trim() === 'application/json') {
    let raw: unknown;
    try {
      raw = parseGoJson(text, JSON_OPTIONS);
    } catch (error) {
      if (error instanceof GoJsonError) throw new CommandResponseError(error.message);
      throw error;
    }
    return decodeObject(raw, false);
  }
  return { ...decodeObject({}, false), text };
}

export interface CommandArgs {
  /** The path that posts the answers, for the PostsCreated metric. */
  source: 'command' | 'command_response_url';
  userId: string;
  channelId: string;
  teamId: string;
  rootId: string;
}

/**
 * `HandleCommandResponse`: the main answer, then each extra response, in order. `in_channel`
 * answers are posted as the invoking user and trigger outgoing webhooks; the default, `ephemeral`,
 * is stored for the invoking user alone. The command's configured username and icon beat the
 * answer's. One failing answer does not stop the others; the call then fails with Mattermost's error.
 */
export async function handleCommandResponse(runtime: Runtime, command: Command, args: CommandArgs, response: CommandResponse): Promise<void> {
  const answers = [response, ...(response.extra_responses ?? [])];
  // Every answer's channel is checked before any is posted: a refusal (403) leaves nothing behind.
  for (const answer of answers) await checkAnswerChannel(runtime, args, answer);
  let failure: AppError | undefined;
  let everyFailureRefused = true;
  for (const answer of answers) {
    try {
      await postAnswer(runtime, command, args, answer);
    } catch (error) {
      if (error instanceof AppError && error.statusCode === 403) throw error;
      everyFailureRefused &&= error instanceof AppError && error.statusCode < 500;
      failure = new AppError(
        'api.command.execute_command.create_post_failed.app_error',
        `Command '${command.trigger}' failed to post response. Please contact your System Administrator.`,
        // Mattermost answers 500 to the user who ran the command; on a response_url the caller is the
        // integration whose answer was refused (a system type, too long), so that is its 400.
        args.source === 'command_response_url' && everyFailureRefused ? 400 : 500,
        error instanceof Error ? error.message : String(error),
      );
    }
  }
  if (failure) throw failure;
}

/**
 * The channel an answer posts to: the command's own, or the answer's `channel_id` if the user
 * belongs to it (else 403). A thread stays in its channel: an answer to another channel cannot
 * join the command's thread.
 */
async function checkAnswerChannel(runtime: Runtime, args: CommandArgs, answer: CommandResponse): Promise<string> {
  if (answer.channel_id === '' || answer.channel_id === args.channelId) return args.channelId;
  if (!isValidId(answer.channel_id) || !(await runtime.directory.isChannelMember(answer.channel_id, args.userId))) {
    throw new AppError('api.command.command_post.forbidden.app_error', 'Specified user is not a member of specified channel.', 403);
  }
  if (args.rootId !== '') throw new AppError('api.post.create_post.channel_root_id.app_error', 'Invalid ChannelId for RootId parameter.', 400);
  return answer.channel_id;
}

async function postAnswer(runtime: Runtime, command: Command, args: CommandArgs, answer: CommandResponse): Promise<void> {
  const { config } = runtime;
  const channelId = await checkAnswerChannel(runtime, args, answer);
  const usernameOf = boundedUsernameLookup(async (userId: string) => (await runtime.directory.user(userId))?.username);
  const skipSlackParsing = answer.skip_slack_parsing;
  const { message: text, type, props, origin } = integrationPost(
    config,
    {
      text: skipSlackParsing ? answer.text : await processSlackText(answer.text, usernameOf),
      type: answer.type,
      props: answer.props,
      attachments: answer.attachments && !skipSlackParsing ? await processSlackAttachments(answer.attachments, usernameOf) : answer.attachments,
    },
    // The command's configured username and icon beat the answer's.
    { path: 'command', overrides: { username: command.username || answer.username, iconUrl: command.icon_url || answer.icon_url }, skipSlackParsing, origin: { kind: 'command', id: command.id } },
  );
  checkPostSize(text, props);

  const inChannel = answer.response_type === 'in_channel';
  const ephemeral = answer.response_type === '' || answer.response_type === 'ephemeral';
  if (!inChannel && !(ephemeral && (text !== '' || answer.attachments))) return;
  const post: Post = buildPost(
    { userId: args.userId, channelId, rootId: args.rootId, message: text, type, props, ...(origin ? { origin } : {}) },
    runtime.nowMs(),
  );
  if (inChannel) {
    // The channel may have been archived since the command ran: a response_url answers for 30
    // minutes, so it reads the channel afresh; the command's own answer comes right after its check.
    const channel = args.source === 'command_response_url' ? await runtime.entities.getChannel(channelId) : await runtime.directory.channel(channelId);
    if (!channel) throw new AppError('api.command.command_post.forbidden.app_error', 'Specified user is not a member of specified channel.', 403);
    checkChannelOpenForPosts(channel);
    await runtime.posts.createPosts([post], { triggerWebhooks: true });
    runtime.metrics.postsCreated(args.source, 1);
  } else {
    if (post.type === '') post.type = 'system_ephemeral';
    await runtime.posts.createEphemeralPost(post, args.userId, Math.floor(runtime.nowMs() / 1000) + config.ephemeralPostTtlSeconds);
    await publishEphemeralPost(runtime, post, args.userId);
    runtime.metrics.postsCreated('ephemeral', 1);
  }
}
