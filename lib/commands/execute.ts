import { STATUS_CODES } from 'node:http';
import * as z from '../zod.js';
import { AppError, errors } from '../errors.js';
import { encodeGoForm } from '../http/form.js';
import { isValidId, newId } from '../ids.js';
import { callIntegration, IntegrationCallError } from '../integrations/call.js';
import { newTriggerIds } from '../integrations/trigger-id.js';
import { MAX_COMMAND_MENTIONS, MAX_NAME_LENGTH, MAX_TRIGGER_LENGTH } from '../limits.js';
import type { Channel, Command, User } from '../model.js';
import type { Runtime } from '../runtime.js';
import { CommandResponseError, decodeCommandResponse, handleCommandResponse, type CommandResponse } from './response.js';
import { stripActionIntegrations } from '../posts/attachments.js';
import { checkRootPost } from '../posts/rules.js';
import { isVisibleTo } from '../posts/visibility.js';

/** `CommandArgs`, the body of `POST /api/v4/commands/execute`. */
export const commandArgsSchema = z.object({
  command: z._default(z.optional(z.string()), ''),
  channel_id: z._default(z.optional(z.string()), ''),
  team_id: z._default(z.optional(z.string()), ''),
  root_id: z._default(z.optional(z.string()), ''),
  parent_id: z._default(z.optional(z.string()), ''),
});
export type CommandArgsBody = z.infer<typeof commandArgsSchema>;

/** A `response_url` lives 30 minutes and takes at most 5 answers. */
export const COMMAND_WEBHOOK_LIFETIME_MS = 30 * 60 * 1000;
export const COMMAND_WEBHOOK_MAX_USES = 5;

const failed = (trigger: string, detail: string) =>
  new AppError('api.command.execute_command.failed.app_error', `Command with a trigger of '${trigger}' failed.`, 500, detail);

/** Splits `/Trigger rest` at the first whitespace: the trigger lower-cased, the rest after that one character. */
export function parseCommand(command: string): { trigger: string; message: string } {
  const match = /\s/u.exec(command);
  if (!match) return { trigger: command.toLowerCase(), message: '' };
  return { trigger: command.slice(0, match.index).toLowerCase(), message: command.slice(match.index + match[0].length) };
}

/** Mattermost's `possibleAtMentions`: `@name` words (ASCII start), de-duplicated, lower-cased. */
export function possibleAtMentions(message: string): string[] {
  return [...new Set([...message.matchAll(/\B@([0-9A-Za-z][0-9A-Za-z.\-_:]*)/g)].map((match) => match[1]!.toLowerCase()))];
}

/** Trailing `.`, `-` or `_` trimmed from a mention to find its user (see `mentions`). */
export const MAX_MENTION_TRIM_ROUNDS = 3;

/** `trimUsernameSpecialChar`: drops one trailing `.`, `-` or `_`; false when there is none. */
export function trimUsernameSpecialChar(name: string): [string, boolean] {
  return /[.\-_]$/.test(name) ? [name.slice(0, -1), true] : [name, false];
}

const tooManyMentions = () =>
  new AppError(
    'api.command.execute_command.too_many_mentions.app_error',
    `A command may mention at most ${MAX_COMMAND_MENTIONS} users and ${MAX_COMMAND_MENTIONS} channels.`,
    400,
  );

interface MentionCandidates {
  candidates: string[];
  channelNames: string[];
}

/** The `@name` and `~channel` words of a command's text, refused beyond MAX_COMMAND_MENTIONS before any lookup. */
function mentionCandidates(message: string): MentionCandidates {
  const candidates = possibleAtMentions(message);
  const channelNames = [...new Set([...message.matchAll(/\B~([a-z0-9\-_]+)/g)].map((match) => match[1]!))];
  if (candidates.length > MAX_COMMAND_MENTIONS || channelNames.length > MAX_COMMAND_MENTIONS) throw tooManyMentions();
  return { candidates, channelNames };
}

/** `name`, cut as `trimUsernameSpecialChar` would until it is no longer than any username; undefined when it cannot be. */
function withinNameLength(name: string): string | undefined {
  let current = name;
  while (current.length > MAX_NAME_LENGTH) {
    const [trimmed, changed] = trimUsernameSpecialChar(current);
    if (!changed) return undefined;
    current = trimmed;
  }
  return current;
}

/**
 * The users and public channels a command's text mentions, as Mattermost's `possibleAtMentions`
 * and `~channel` rules find them, resolved in batches: each round looks up every name still
 * unresolved in one batch, and a name that is not a team member's loses one trailing `.`, `-` or
 * `_` for the next round, for at most MAX_MENTION_TRIM_ROUNDS rounds: Mattermost trims until the
 * name is found, which on hostile text (a hundred names each ending in sixty dots) meant seconds
 * of lookups; real mentions end in one or two such characters ("@bob." at the end of a sentence).
 */
async function mentions(runtime: Runtime, { candidates, channelNames }: MentionCandidates, teamId: string) {
  const { directory } = runtime;

  const matched: Array<{ name: string; id: string } | undefined> = candidates.map(() => undefined);
  let pending = candidates
    .map((candidate, index) => ({ index, name: withinNameLength(candidate) }))
    .filter((entry): entry is { index: number; name: string } => entry.name !== undefined);
  for (let round = 0; pending.length > 0 && round <= MAX_MENTION_TRIM_ROUNDS; round++) {
    const users = await directory.usersByUsernames(pending.map((entry) => entry.name));
    const members = await directory.teamMembersAmong(teamId, [...users.values()].map((user) => user.id));
    const next: typeof pending = [];
    for (const entry of pending) {
      const user = users.get(entry.name);
      if (user && members.has(user.id)) {
        matched[entry.index] = { name: entry.name, id: user.id };
        continue;
      }
      const [trimmed, changed] = trimUsernameSpecialChar(entry.name);
      if (changed) next.push({ index: entry.index, name: trimmed });
    }
    pending = next;
  }
  const users: Array<{ name: string; id: string }> = [];
  for (const user of matched) if (user && !users.some((known) => known.id === user.id)) users.push(user);

  const named = channelNames.filter((name) => name.length <= MAX_NAME_LENGTH);
  const found = await directory.channelsByNames(teamId, named);
  const channels: Array<{ name: string; id: string }> = [];
  for (const name of named) {
    const channel = found.get(name);
    if (channel && channel.type === 'O' && channel.delete_at === 0) channels.push({ name, id: channel.id });
  }
  return { users, channels };
}

export interface ExecuteContext {
  user: User;
  /** Base of `response_url`: the configured SITE_URL, never the request's Host. */
  siteUrl: string;
}

/** `POST /api/v4/commands/execute`. Returns the integration's answer with a client trigger id. */
export async function executeCommand(runtime: Runtime, context: ExecuteContext, args: CommandArgsBody): Promise<CommandResponse> {
  const { config, directory } = runtime;
  const { user } = context;
  if (args.command.length <= 1 || !args.command.startsWith('/') || !isValidId(args.channel_id)) {
    throw new AppError('api.command.execute_command.start.app_error', 'No command trigger found.', 400);
  }
  const channel: Channel | undefined = await directory.channel(args.channel_id);
  if (!channel || !(await directory.isChannelMember(channel.id, user.id))) throw errors.permissions();
  if (channel.delete_at !== 0) throw new AppError('api.command.execute_command.deleted.error', 'Can not run command in deleted channel.', 400);
  let teamId = channel.team_id;
  if (channel.type === 'D') {
    if (!isValidId(args.team_id) || !(await runtime.entities.isTeamMember(args.team_id, user.id))) throw errors.permissions();
    teamId = args.team_id;
  }
  if (args.root_id !== '' && !isValidId(args.root_id)) throw errors.invalidParam('root_id');
  if (args.root_id !== '') {
    // The answers join this thread: a post the user can read, in this channel, and a root.
    const root = await runtime.posts.getPost(args.root_id);
    if (!isVisibleTo(root, user.id)) throw errors.invalidParam('root_id');
    checkRootPost(root, channel.id);
  }

  const { trigger, message } = parseCommand(args.command);
  const mentioned = mentionCandidates(message);
  if (!config.enableCommands) throw new AppError('api.command.disabled.app_error', 'Commands have been disabled by the system admin.', 501);
  // A trigger longer than any command's cannot match; no lookup (its key could exceed DynamoDB's limit).
  const command: Command | undefined =
    trigger.length - 1 <= MAX_TRIGGER_LENGTH ? await directory.commandByTrigger(teamId, trigger.slice(1)) : undefined;
  if (!command || command.delete_at !== 0) {
    const shown = Buffer.byteLength(trigger) > 512 ? `${Buffer.from(trigger).subarray(0, 512).toString()}...` : trigger;
    throw new AppError(
      'api.command.execute_command.not_found.app_error',
      `Command with a trigger of '${shown}' not found. To send a message beginning with "/", try adding an empty space at the beginning of the message.`,
      404,
    );
  }
  const [team, secrets] = await Promise.all([directory.team(teamId), directory.commandSecrets(command.id)]);
  if (!secrets) throw new Error(`command ${command.id} has no stored credentials`);
  const nowMs = runtime.nowMs();
  // Every execution gets its response_url, as in Mattermost, whether or not the integration uses it.
  const webhookId = newId();
  await runtime.entities.createCommandWebhook(
    { id: webhookId, create_at: nowMs, command_id: command.id, user_id: user.id, channel_id: channel.id, team_id: teamId, root_id: args.root_id, use_count: 0 },
    Math.floor((nowMs + COMMAND_WEBHOOK_LIFETIME_MS) / 1000),
  );
  const { clientTriggerId, triggerId } = await newTriggerIds(runtime, user.id, nowMs);
  const { users, channels } = await mentions(runtime, mentioned, teamId);
  const params: Record<string, string | string[]> = {
    token: secrets.token,
    team_id: command.team_id,
    team_domain: team?.name ?? '',
    channel_id: channel.id,
    channel_name: channel.name,
    user_id: user.id,
    user_name: user.username,
    command: trigger,
    text: message,
    trigger_id: triggerId,
    response_url: `${context.siteUrl}/hooks/commands/${webhookId}`,
    ...(users.length ? { user_mentions: users.map((entry) => entry.name), user_mentions_ids: users.map((entry) => entry.id) } : {}),
    ...(channels.length ? { channel_mentions: channels.map((entry) => entry.name), channel_mentions_ids: channels.map((entry) => entry.id) } : {}),
  };
  const encoded = encodeGoForm(params);
  const url = command.method === 'G' ? `${command.url}${command.url.includes('?') ? '&' : '?'}${encoded}` : command.url;
  const body = command.method === 'G' ? '' : encoded;

  let response;
  try {
    response = await callIntegration(runtime, {
      kind: 'command',
      url,
      method: command.method === 'G' ? 'GET' : 'POST',
      headers: {
        ...(secrets.token ? { authorization: `Token ${secrets.token}` } : {}),
        ...(command.method === 'G' ? {} : { 'content-type': 'application/x-www-form-urlencoded' }),
      },
      body,
      signingSecret: secrets.signing_secret,
      messageId: clientTriggerId,
    });
  } catch (error) {
    if (!(error instanceof IntegrationCallError)) throw error;
    if (error.failure !== 'status' || !error.response) throw failed(trigger, error.message);
    const { status } = error.response;
    throw new AppError(
      'api.command.execute_command.failed_resp.app_error',
      `Command with a trigger of '${trigger}' returned response ${status} ${STATUS_CODES[status] ?? ''}.`.replace(' .', '.'),
      500,
      error.response.body.toString('utf8'),
    );
  }
  // An empty 200 is a common acknowledgement ("nothing now, the answer comes through response_url"):
  // as in Mattermost, a body read in full is an answer, here an empty text, and nothing is posted.
  // Mattermost's failed_empty is for a body that could not be read, which the outbound client
  // reports as a failure above.
  const contentType = Array.isArray(response.headers['content-type']) ? response.headers['content-type'][0] : response.headers['content-type'];
  let answer: CommandResponse;
  try {
    answer = decodeCommandResponse(contentType, response.body);
  } catch (error) {
    if (error instanceof CommandResponseError) throw failed(trigger, error.message);
    throw error;
  }
  await handleCommandResponse(runtime, command, { source: 'command', userId: user.id, channelId: channel.id, teamId, rootId: args.root_id }, answer);
  return { ...answerForClient(answer), trigger_id: clientTriggerId };
}

/** The integration's answer as the client sees it: no action's integration URL or context, as in every post. */
function answerForClient(answer: CommandResponse): CommandResponse {
  const attachments = (list: CommandResponse['attachments']) =>
    list ? (stripActionIntegrations({ attachments: list }).attachments as CommandResponse['attachments']) : list;
  return {
    ...answer,
    props: stripActionIntegrations(answer.props),
    attachments: attachments(answer.attachments),
    extra_responses: answer.extra_responses ? answer.extra_responses.map(answerForClient) : answer.extra_responses,
  };
}
