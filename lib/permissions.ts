/**
 * Roles and permissions, as Mattermost resolves them (`app/authorization.go`): a user has system
 * roles; each team and channel membership has roles of its own; a role is a set of permission ids.
 * Mattermost's default roles are here, as they stand after its "integrations own" migration;
 * custom roles come from the seed file and are read through the Directory's cache. Every route
 * that checks a permission calls one of the `has…`/`require…` functions below, and nothing else
 * decides who may do what.
 */
import { errors } from './errors.js';
import { authenticate } from './auth.js';
import type { HttpRequest } from './http/handler.js';
import type { Channel, User } from './model.js';
import type { Runtime } from './runtime.js';
import { DEFAULT_SYSTEM_ROLES } from './store/entities.js';

/** Managing a team's incoming and outgoing webhooks and slash commands: what a team admin holds. */
const INTEGRATION_MANAGEMENT = [
  'manage_own_incoming_webhooks',
  'manage_others_incoming_webhooks',
  'bypass_incoming_webhook_channel_lock',
  'manage_own_outgoing_webhooks',
  'manage_others_outgoing_webhooks',
  'manage_own_slash_commands',
  'manage_others_slash_commands',
] as const;

/** The Mattermost permission ids that Hookline's routes check, or that seed roles may name. */
export const PERMISSIONS = [
  'manage_system',
  'edit_other_users',
  'create_user_access_token',
  'read_user_access_token',
  'revoke_user_access_token',
  'create_direct_channel',
  'view_members',
  'view_team',
  'list_team_channels',
  'read_public_channel',
  'read_channel',
  'create_post',
  'edit_post',
  'edit_others_posts',
  'delete_post',
  'delete_others_posts',
  'add_reaction',
  'remove_reaction',
  'use_slash_commands',
  ...INTEGRATION_MANAGEMENT,
] as const;

export type Permission = (typeof PERMISSIONS)[number];

export function isPermission(name: string): name is Permission {
  return (PERMISSIONS as readonly string[]).includes(name);
}

/**
 * Mattermost's default roles, as far as these permissions go. `system_user` and `team_user` hold
 * none of the integration permissions: with default roles, team admins manage their team's
 * integrations and plain members manage none (an operator grants more through a custom role).
 * `system_user_access_token` is the role Mattermost gives users allowed to create tokens.
 */
export const DEFAULT_ROLES: Readonly<Record<string, readonly Permission[]>> = {
  system_admin: PERMISSIONS,
  system_user: ['create_direct_channel', 'view_members'],
  system_user_access_token: ['create_user_access_token', 'read_user_access_token', 'revoke_user_access_token'],
  team_admin: [
    ...INTEGRATION_MANAGEMENT,
    'edit_others_posts',
    'delete_post',
    'delete_others_posts',
  ],
  team_user: ['view_team', 'list_team_channels', 'read_public_channel'],
  channel_admin: [],
  channel_user: ['read_channel', 'create_post', 'add_reaction', 'remove_reaction', 'use_slash_commands'],
};

export function isDefaultRole(name: string): boolean {
  return Object.hasOwn(DEFAULT_ROLES, name);
}

/** Role names from Mattermost's space-separated form. */
export function roleNames(roles: string | undefined): string[] {
  return (roles ?? '').split(' ').filter((name) => name !== '');
}

/**
 * Who is acting. A user authenticated by a token, or the operator CLI: Mattermost's local-mode
 * session, which passes every check except an empty team or channel id. `origin` says where the
 * change came from, for the audit records: the client's address, or `cli:<os user>`.
 */
export interface Caller {
  user: User;
  unrestricted: boolean;
  origin: string;
}

/** The caller behind a request's token; 401 without a valid one. */
export async function callerFromRequest(runtime: Runtime, request: HttpRequest): Promise<Caller> {
  const user = await authenticate(runtime, request.headers.authorization);
  return { user, unrestricted: false, origin: request.sourceIp };
}

/** The operator CLI's caller (`npm run ctl`), which runs with the deployment's own credentials. */
export function operatorCaller(osUser = process.env.USER ?? 'unknown'): Caller {
  return {
    user: { id: '', username: 'operator', roles: 'system_admin', create_at: 0, update_at: 0, delete_at: 0 },
    unrestricted: true,
    origin: `cli:${osUser}`,
  };
}

/** Whether any of these roles grants the permission; a role holding `manage_system` grants every one. */
async function rolesGrant(runtime: Runtime, roles: string[], permission: Permission): Promise<boolean> {
  for (const name of roles) {
    const granted = DEFAULT_ROLES[name] ?? (await runtime.directory.customRole(name))?.permissions ?? [];
    if (granted.includes(permission) || granted.includes('manage_system')) return true;
  }
  return false;
}

/** Mattermost's `SessionHasPermissionTo`: the caller's system roles only (a team admin does not pass). */
export async function hasSystemPermission(runtime: Runtime, caller: Caller, permission: Permission): Promise<boolean> {
  if (caller.unrestricted) return true;
  return rolesGrant(runtime, roleNames(caller.user.roles || DEFAULT_SYSTEM_ROLES), permission);
}

/**
 * Mattermost's `SessionHasPermissionToTeam`: an empty team id passes for no one; then the roles of
 * the caller's membership of that team; then the system roles. A non-member has only the latter.
 */
export async function hasTeamPermission(runtime: Runtime, caller: Caller, teamId: string, permission: Permission): Promise<boolean> {
  if (teamId === '') return false;
  if (caller.unrestricted) return true;
  const member = await runtime.directory.teamMember(teamId, caller.user.id);
  if (member && member.delete_at === 0 && (await rolesGrant(runtime, roleNames(member.roles), permission))) return true;
  return hasSystemPermission(runtime, caller, permission);
}

/**
 * Mattermost's `SessionHasPermissionToChannel`: an empty or unknown channel passes for no one (so
 * a random channel id is a 403, even for a system admin); then the channel membership's roles, the
 * system roles, and the roles of the channel's team.
 */
export async function hasChannelPermission(runtime: Runtime, caller: Caller, channelId: string, permission: Permission): Promise<boolean> {
  if (channelId === '') return false;
  const channel = await runtime.directory.channel(channelId);
  if (!channel) return false;
  if (caller.unrestricted) return true;
  const member = await runtime.directory.channelMember(channelId, caller.user.id);
  if (member && (await rolesGrant(runtime, roleNames(member.roles), permission))) return true;
  if (await hasSystemPermission(runtime, caller, permission)) return true;
  return channel.team_id !== '' && hasTeamPermission(runtime, caller, channel.team_id, permission);
}

/**
 * Mattermost's `SessionHasPermissionToReadChannel`: a member may read; anyone with
 * `read_public_channel` in the team may read a public channel; and whoever the system roles allow.
 */
export async function canReadChannel(runtime: Runtime, caller: Caller, channel: Channel): Promise<boolean> {
  if (await hasChannelPermission(runtime, caller, channel.id, 'read_channel')) return true;
  return channel.type === 'O' && hasTeamPermission(runtime, caller, channel.team_id, 'read_public_channel');
}

async function required(granted: Promise<boolean>): Promise<void> {
  if (!(await granted)) throw errors.permissions();
}

export const requireSystemPermission = (runtime: Runtime, caller: Caller, permission: Permission) =>
  required(hasSystemPermission(runtime, caller, permission));
export const requireTeamPermission = (runtime: Runtime, caller: Caller, teamId: string, permission: Permission) =>
  required(hasTeamPermission(runtime, caller, teamId, permission));
export const requireChannelPermission = (runtime: Runtime, caller: Caller, channelId: string, permission: Permission) =>
  required(hasChannelPermission(runtime, caller, channelId, permission));
