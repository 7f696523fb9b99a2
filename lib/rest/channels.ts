/**
 * The channel routes: a channel by id or by name, the caller's channels of a team, and the direct
 * channel of two users. Who may see a channel is Mattermost's rule: a public channel any member of
 * its team; a private or direct channel its members.
 */
import { AppError, errors } from '../errors.js';
import { isValidId } from '../ids.js';
import { MAX_CHANNELS_PER_USER } from '../limits.js';
import type { Channel, Team, User } from '../model.js';
import type { Runtime } from '../runtime.js';
import { keys } from '../store/keys.js';
import { isValidChannelName, isValidTeamName } from '../validation.js';
import { resolveUserId } from './users.js';
import { getOrCreateDirectChannel } from '../direct-channels.js';

/** Mattermost's `model.Channel` as its routes answer it; what Hookline does not keep reads as Mattermost's defaults. */
export interface ClientChannel {
  id: string;
  create_at: number;
  update_at: number;
  delete_at: number;
  team_id: string;
  type: Channel['type'];
  display_name: string;
  name: string;
  header: string;
  purpose: string;
  last_post_at: number;
  last_root_post_at: number;
  total_msg_count: number;
  total_msg_count_root: number;
  extra_update_at: number;
  creator_id: string;
  scheme_id: string | null;
  props: Record<string, unknown> | null;
  group_constrained: boolean | null;
  shared: boolean | null;
  policy_id: string | null;
}

export function channelForClient(channel: Channel): ClientChannel {
  return {
    id: channel.id,
    create_at: channel.create_at,
    update_at: channel.update_at,
    delete_at: channel.delete_at,
    team_id: channel.team_id,
    type: channel.type,
    display_name: channel.display_name,
    name: channel.name,
    header: '',
    purpose: '',
    last_post_at: 0,
    last_root_post_at: 0,
    total_msg_count: 0,
    total_msg_count_root: 0,
    extra_update_at: 0,
    creator_id: channel.creator_id,
    scheme_id: null,
    props: null,
    group_constrained: null,
    shared: null,
    policy_id: null,
  };
}

/**
 * Mattermost's `SessionHasPermissionToReadChannel`: a member, or, for a public channel, a member of
 * its team. Read afresh (not through the Directory's cache), both memberships in one BatchGetItem,
 * so a channel read stays within two requests (docs/performance.md).
 */
async function mayRead(runtime: Runtime, user: User, channel: Channel): Promise<boolean> {
  const [channelMember, teamMember] = await runtime.entities.getMany<Record<string, unknown>>([
    keys.channelMember(channel.id, user.id),
    ...(channel.type === 'O' ? [keys.teamMember(channel.team_id, user.id)] : []),
  ]);
  return channelMember !== undefined || (channel.type === 'O' && teamMember !== undefined);
}

/** `GET /api/v4/channels/{channel_id}`: 404 for an unknown channel, 403 for one the caller may not read. */
export async function getChannel(runtime: Runtime, caller: User, channelId: string): Promise<ClientChannel> {
  if (!isValidId(channelId)) throw errors.invalidUrlParam('channel_id');
  const channel = await runtime.entities.getChannel(channelId);
  if (!channel) throw new AppError('app.channel.get.existing.app_error', 'Unable to find the existing channel.', 404);
  if (!(await mayRead(runtime, caller, channel))) throw errors.permissions();
  return channelForClient(channel);
}

const channelByNameMissing = () =>
  new AppError('app.channel.get_by_name.missing.app_error', 'Channel does not exist.', 404);

/**
 * A channel of a team by name. As in Mattermost, a channel the caller may not read, or an archived
 * one (without `include_deleted`), answers the same 404 as a missing one, so names do not leak.
 */
async function channelOfTeamByName(runtime: Runtime, caller: User, team: Team, nameParam: string, includeDeleted: boolean): Promise<ClientChannel> {
  const name = nameParam.toLowerCase();
  if (!isValidChannelName(name)) throw errors.invalidUrlParam('channel_name');
  // Two requests: the name's pointer, then the channel with both of the caller's memberships (the
  // pointer is the team's, so the channel's team is known before the channel is).
  const pointer = await runtime.entities.getRaw(keys.channelName(team.id, name));
  if (typeof pointer?.target_id !== 'string') throw channelByNameMissing();
  const channelId = pointer.target_id;
  const [channel, channelMember, teamMember] = await runtime.entities.getMany<Record<string, unknown>>([
    keys.channel(channelId),
    keys.channelMember(channelId, caller.id),
    keys.teamMember(team.id, caller.id),
  ]);
  const found = channel as Channel | undefined;
  if (!found || (found.delete_at !== 0 && !includeDeleted)) throw channelByNameMissing();
  const readable = channelMember !== undefined || (found.type === 'O' && found.team_id === team.id && teamMember !== undefined);
  if (!readable) throw channelByNameMissing();
  return channelForClient(found);
}

/** Go's `strconv.ParseBool`, anything else false (Mattermost's query flags). */
export function queryFlag(query: URLSearchParams, name: string): boolean {
  return ['1', 't', 'T', 'TRUE', 'true', 'True'].includes(query.get(name) ?? '');
}

/** `GET /api/v4/teams/{team_id}/channels/name/{channel_name}`. */
export async function getChannelByName(runtime: Runtime, caller: User, teamId: string, name: string, includeDeleted: boolean): Promise<ClientChannel> {
  if (!isValidId(teamId)) throw errors.invalidUrlParam('team_id');
  const team = await runtime.directory.team(teamId);
  if (!team) throw channelByNameMissing();
  return channelOfTeamByName(runtime, caller, team, name, includeDeleted);
}

/** `GET /api/v4/teams/name/{team_name}/channels/name/{channel_name}`. */
export async function getChannelByNameAndTeamName(
  runtime: Runtime,
  caller: User,
  teamNameParam: string,
  name: string,
  includeDeleted: boolean,
): Promise<ClientChannel> {
  const teamName = teamNameParam.toLowerCase();
  if (!isValidTeamName(teamName)) throw errors.invalidUrlParam('team_name');
  // Through the Directory's cache, as the route by team id reads its team: warm, the channel costs two requests.
  const team = await runtime.directory.teamByName(teamName);
  if (!team) throw new AppError('app.team.get_by_name.missing.app_error', 'Unable to find the existing team.', 404);
  return channelOfTeamByName(runtime, caller, team, name, includeDeleted);
}

/**
 * `GET /api/v4/users/{user_id}/teams/{team_id}/channels`: the channels of the team the caller
 * belongs to, with their direct channels (which have no team), as Mattermost lists them; archived
 * ones only with `include_deleted`. Another user's list, or a team the caller is not in, is 403.
 */
export async function getChannelsForTeamForUser(
  runtime: Runtime,
  caller: User,
  userIdParam: string,
  teamId: string,
  includeDeleted: boolean,
): Promise<ClientChannel[]> {
  const userId = resolveUserId(caller, userIdParam);
  if (!isValidId(teamId)) throw errors.invalidUrlParam('team_id');
  if (userId !== caller.id) throw errors.permissions();
  // The team membership comes in the channels' BatchGetItem: two requests, not three.
  const channelIds = await runtime.entities.channelIdsOfUser(caller.id, MAX_CHANNELS_PER_USER);
  const [teamMember, ...channels] = await runtime.entities.getMany<Channel>([
    keys.teamMember(teamId, caller.id),
    ...channelIds.map((channelId) => keys.channel(channelId)),
  ]);
  if (teamMember === undefined) throw errors.permissions();
  return channels
    .filter((channel): channel is Channel => channel !== undefined && (channel.team_id === teamId || channel.team_id === ''))
    .filter((channel) => includeDeleted || channel.delete_at === 0)
    .sort((a, b) => a.display_name.localeCompare(b.display_name) || a.name.localeCompare(b.name))
    .map(channelForClient);
}

/**
 * `POST /api/v4/channels/direct` with `[user_id, other_user_id]`: the direct channel of the two,
 * created on first use, 201 either way as in Mattermost. The caller must be one of the two
 * (system admins, who may create others' in Mattermost, are not modelled yet).
 */
export async function createDirectChannel(runtime: Runtime, caller: User, body: unknown): Promise<ClientChannel> {
  if (!Array.isArray(body) || body.length !== 2 || body.some((id) => typeof id !== 'string')) throw errors.invalidBodyParam('user_ids');
  const [first, second] = body as [string, string];
  for (const id of [first, second]) if (!isValidId(id)) throw errors.invalidBodyParam('user_id');
  if (first !== caller.id && second !== caller.id) throw errors.permissions();
  const otherId = first === caller.id ? second : first;
  const other = otherId === caller.id ? caller : await runtime.entities.getUser(otherId);
  // Mattermost answers 400 for an unknown or deactivated other user.
  if (!other || other.delete_at !== 0) {
    throw new AppError('api.channel.create_direct_channel.invalid_user.app_error', 'Invalid user ID for direct channel creation.', 400);
  }
  // The body's order, as Mattermost's `direct_added` names the two (`creator_id` is the first).
  return channelForClient(await getOrCreateDirectChannel(runtime, first, second));
}
