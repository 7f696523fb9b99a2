/**
 * Managing incoming webhooks, as Mattermost's api4 `createIncomingHook`, `getIncomingHooks`,
 * `getIncomingHook`, `updateIncomingHook`, `deleteIncomingHook`, `moveIncomingHook` and the app
 * functions behind them: the same checks in the same order (existence of the channel before
 * permissions, the feature switch after them on create and list, before them on a single hook),
 * the same statuses and error ids. Used by the HTTP API and the operator CLI alike.
 *
 * Every read here goes to the store, never the per-instance caches: a caller sees its own change at
 * once. Instances that serve `POST /hooks/{id}` see it within ENTITY_CACHE_TTL_SECONDS.
 */
import { AppError, errors } from '../errors.js';
import { isValidId, logHash, newId } from '../ids.js';
import type { Channel, IncomingWebhook } from '../model.js';
import { canReadChannel, hasSystemPermission, hasTeamPermission, requireSystemPermission, requireTeamPermission, type Caller } from '../permissions.js';
import type { Runtime } from '../runtime.js';
import { itemsFor } from '../store/entities.js';
import { keys } from '../store/keys.js';
import { assertValidIncomingWebhook, incomingUsernameProblem } from './webhook-validity.js';
import { audited, channelNotFound, hasTeamPermissionFor, requireTeamPermissionFor, decodeGoStruct, hookPage, requireHookId, statusOk, teamMismatch } from './hook-common.js';
import { userNotFound } from '../rest/users.js';

/**
 * An incoming hook's id is the secret of its URL: audit records name the hook by the short hash the
 * request logs use (lib/ids.ts `logHash`), never by the id itself.
 */
export const auditedHookId = (hookId: string) => (hookId === '' ? '' : `hash:${logHash(hookId)}`);

export const incomingErrors = {
  disabled: () => new AppError('api.incoming_webhook.disabled.app_error', 'Incoming webhooks have been disabled by the system admin.', 501),
  notFound: () => new AppError('app.webhooks.get_incoming.app_error', 'Unable to get the webhook.', 404),
  existing: () => new AppError('app.webhooks.save_incoming.existing.app_error', 'You cannot overwrite an existing IncomingWebhook.', 400),
  userMembership: () =>
    new AppError('api.webhook.incoming.user_membership.app_error', 'The webhook user must be a member of the target team or channel.', 400),
};

/** The fields a client may send, with Go's types (`IncomingWebhook`). */
const INCOMING_FIELDS = {
  id: 'string',
  create_at: 'integer',
  update_at: 'integer',
  delete_at: 'integer',
  user_id: 'string',
  channel_id: 'string',
  team_id: 'string',
  display_name: 'string',
  description: 'string',
  username: 'string',
  icon_url: 'string',
  channel_locked: 'boolean',
} as const;
type IncomingBody = Partial<{ [K in keyof typeof INCOMING_FIELDS]: (typeof INCOMING_FIELDS)[K] extends 'string' ? string : (typeof INCOMING_FIELDS)[K] extends 'boolean' ? boolean : number }>;

export function decodeIncomingHook(body: Buffer): IncomingBody {
  return decodeGoStruct<IncomingBody>(body, 'incoming_webhook', INCOMING_FIELDS);
}

const OWN = 'manage_own_incoming_webhooks';
const OTHERS = 'manage_others_incoming_webhooks';
const BYPASS = 'bypass_incoming_webhook_channel_lock';

function requireEnabled(runtime: Runtime): void {
  if (!runtime.config.enableIncomingWebhooks) throw incomingErrors.disabled();
}

/** A channel by a client-given id; ids that are not ids cannot name one (and never reach the store). */
async function existingChannel(runtime: Runtime, channelId: string | undefined): Promise<Channel> {
  const channel = channelId && isValidId(channelId) ? await runtime.entities.getChannel(channelId) : undefined;
  if (!channel) throw channelNotFound();
  return channel;
}

/** A live hook, read from the store (501 when the feature is off, 404 when absent or deleted). */
async function liveHook(runtime: Runtime, hookId: string): Promise<IncomingWebhook> {
  requireEnabled(runtime);
  const hook = await runtime.entities.getIncomingWebhook(hookId);
  if (!hook || hook.delete_at !== 0) throw incomingErrors.notFound();
  return hook;
}

/** The checks of `getIncomingHook`, shared by get, delete: team permission, channel readability, ownership. */
async function authorizeExistingHook(runtime: Runtime, caller: Caller, hookId: string): Promise<{ hook: IncomingWebhook; channel: Channel }> {
  const hook = await liveHook(runtime, requireHookId(hookId));
  const channel = await existingChannel(runtime, hook.channel_id);
  await requireTeamPermission(runtime, caller, hook.team_id, OWN);
  if (channel.type !== 'O' && !(await canReadChannel(runtime, caller, channel))) throw errors.permissions();
  if (hook.user_id !== caller.user.id) await requireTeamPermission(runtime, caller, hook.team_id, OTHERS);
  return { hook, channel };
}

/** Writes a hook whose fields changed (404 when it was deleted meanwhile); a deleted hook leaves its team's listing. */
async function saveChanged(runtime: Runtime, hook: IncomingWebhook): Promise<void> {
  const [entity] = itemsFor.incomingWebhook(hook);
  const put = { put: entity!.item, condition: 'whileLive' as const };
  const changes = hook.delete_at === 0 ? [put] : [put, { delete: keys.incomingWebhookOfTeam(hook.team_id, hook.id) }];
  if (!(await runtime.entities.writeIntegrationChanges(changes))) throw incomingErrors.notFound();
}

/** `POST /api/v4/hooks/incoming`: 201 with the stored hook. */
export function createIncomingHook(runtime: Runtime, caller: Caller, body: IncomingBody): Promise<IncomingWebhook> {
  return audited(runtime, caller, 'createIncomingHook', '', async (setObjectId) => {
    const channel = await existingChannel(runtime, body.channel_id);
    // A direct channel has no team: the team check refuses it, as in Mattermost.
    await requireTeamPermission(runtime, caller, channel.team_id, OWN);
    if (!(await canReadChannel(runtime, caller, channel))) throw errors.permissions();
    let ownerId = caller.user.id;
    if (body.user_id && body.user_id !== caller.user.id) {
      await requireTeamPermission(runtime, caller, channel.team_id, OTHERS);
      const owner = isValidId(body.user_id) ? await runtime.entities.getUser(body.user_id) : undefined;
      if (!owner) throw userNotFound();
      ownerId = owner.id;
    }
    const mayUnlock = await hasTeamPermission(runtime, caller, channel.team_id, BYPASS);
    requireEnabled(runtime);
    const username = runtime.config.enablePostUsernameOverride ? (body.username ?? '') : '';
    const iconUrl = runtime.config.enablePostIconOverride ? (body.icon_url ?? '') : '';
    const usernameProblem = incomingUsernameProblem(username);
    if (usernameProblem) throw usernameProblem;
    if (body.id) throw incomingErrors.existing();
    const nowMs = runtime.nowMs();
    const hook: IncomingWebhook = {
      id: newId(),
      channel_id: channel.id,
      team_id: channel.team_id,
      user_id: ownerId,
      display_name: body.display_name ?? '',
      description: body.description ?? '',
      username,
      icon_url: iconUrl,
      channel_locked: mayUnlock ? (body.channel_locked ?? false) : true,
      create_at: nowMs,
      update_at: nowMs,
      delete_at: 0,
    };
    assertValidIncomingWebhook(hook);
    await runtime.entities.writeIntegrationChanges(itemsFor.incomingWebhook(hook).map((write) => ({ put: write.item, condition: 'createOnly' as const })));
    setObjectId(auditedHookId(hook.id));
    return hook;
  }, (hook) => ({ channel_id: hook.channel_id, team_id: hook.team_id, user_id: hook.user_id }));
}

export interface IncomingListQuery {
  teamId: string;
  page: number;
  perPage: number;
  includeTotalCount: boolean;
}

export type IncomingList = IncomingWebhook[] | { incoming_webhooks: IncomingWebhook[]; total_count: number };

/**
 * `GET /api/v4/hooks/incoming`: a team's hooks (team permission) or every hook (system
 * permission), only the caller's own unless it may manage others'. Ordered by creation, oldest
 * first (Mattermost's store leaves the order unspecified).
 */
export async function listIncomingHooks(runtime: Runtime, caller: Caller, query: IncomingListQuery): Promise<IncomingList> {
  let hooks: IncomingWebhook[];
  let allOwners: boolean;
  if (query.teamId !== '') {
    await requireTeamPermissionFor(runtime, caller, query.teamId, OWN);
    allOwners = await hasTeamPermissionFor(runtime, caller, query.teamId, OTHERS);
    requireEnabled(runtime);
    hooks = isValidId(query.teamId) ? await hooksOfTeam(runtime, query.teamId) : [];
  } else {
    await requireSystemPermission(runtime, caller, OWN);
    allOwners = await hasSystemPermission(runtime, caller, OTHERS);
    requireEnabled(runtime);
    hooks = await hooksByIds(runtime, await runtime.entities.allIncomingWebhookIds());
  }
  const visible = allOwners ? hooks : hooks.filter((hook) => hook.user_id === caller.user.id);
  const page = hookPage(visible, query);
  return query.includeTotalCount ? { incoming_webhooks: page, total_count: visible.length } : page;
}

async function hooksOfTeam(runtime: Runtime, teamId: string): Promise<IncomingWebhook[]> {
  return (await hooksByIds(runtime, await runtime.entities.incomingWebhookIdsOfTeam(teamId))).filter((hook) => hook.team_id === teamId);
}

/** The live hooks among listed ids, read strongly consistent (a listing may outlive a hook the seed deleted). */
async function hooksByIds(runtime: Runtime, ids: string[]): Promise<IncomingWebhook[]> {
  const hooks = await runtime.entities.getMany<IncomingWebhook>(ids.map((id) => keys.incomingWebhook(id)), true);
  return hooks.filter((hook): hook is IncomingWebhook => hook !== undefined && hook.delete_at === 0);
}

/** `GET /api/v4/hooks/incoming/{hook_id}`. */
export function getIncomingHook(runtime: Runtime, caller: Caller, hookId: string): Promise<IncomingWebhook> {
  return audited(runtime, caller, 'getIncomingHook', auditedHookId(hookId), async () => (await authorizeExistingHook(runtime, caller, hookId)).hook);
}

/** `DELETE /api/v4/hooks/incoming/{hook_id}`: a soft delete; `POST /hooks/{id}` then fails as for an unknown hook. */
export function deleteIncomingHook(runtime: Runtime, caller: Caller, hookId: string): Promise<typeof statusOk> {
  return audited(runtime, caller, 'deleteIncomingHook', auditedHookId(hookId), async () => {
    const { hook } = await authorizeExistingHook(runtime, caller, hookId);
    const nowMs = runtime.nowMs();
    await saveChanged(runtime, { ...hook, delete_at: nowMs, update_at: nowMs });
    return statusOk;
  });
}

/**
 * `PUT /api/v4/hooks/incoming/{hook_id}` (answers 201, as Mattermost): the body is the whole hook;
 * `channel_id` is required and must stay in the hook's team; owner, team and times are kept.
 */
export function updateIncomingHook(runtime: Runtime, caller: Caller, hookIdParam: string, body: IncomingBody): Promise<IncomingWebhook> {
  return audited(runtime, caller, 'updateIncomingHook', auditedHookId(hookIdParam), async () => {
    const hookId = requireHookId(hookIdParam);
    if (body.id !== hookId) throw errors.invalidBodyParam('hook_id');
    const old = await liveHook(runtime, hookId);
    const teamId = body.team_id || old.team_id;
    if (teamId !== old.team_id) throw teamMismatch();
    const channel = await existingChannel(runtime, body.channel_id);
    if (channel.team_id !== old.team_id) throw errors.invalidBodyParam('channel_id');
    await requireTeamPermission(runtime, caller, old.team_id, OWN);
    if (old.user_id !== caller.user.id) await requireTeamPermission(runtime, caller, old.team_id, OTHERS);
    if (channel.type !== 'O' && !(await canReadChannel(runtime, caller, channel))) throw errors.permissions();
    const mayUnlock = await hasTeamPermission(runtime, caller, old.team_id, BYPASS);
    // With an override setting off, the stored value stays (creation blanks it instead).
    const username = runtime.config.enablePostUsernameOverride ? (body.username ?? '') : old.username;
    const iconUrl = runtime.config.enablePostIconOverride ? (body.icon_url ?? '') : old.icon_url;
    const usernameProblem = incomingUsernameProblem(username);
    if (usernameProblem) throw usernameProblem;
    const hook: IncomingWebhook = {
      ...old,
      channel_id: channel.id,
      display_name: body.display_name ?? '',
      description: body.description ?? '',
      username,
      icon_url: iconUrl,
      channel_locked: mayUnlock ? (body.channel_locked ?? false) : true,
      update_at: Math.max(runtime.nowMs(), old.update_at + 1),
    };
    // Mattermost does not validate updates (an over-long field fails in its database with a 500);
    // Hookline applies the create rules and answers 400.
    assertValidIncomingWebhook(hook);
    await saveChanged(runtime, hook);
    return hook;
  });
}


/**
 * `POST /api/v4/hooks/incoming/{hook_id}/move/{user_id}` (Mattermost's newest): hands the hook to
 * another user; needs `manage_others_incoming_webhooks` even for one's own hook. The new owner must
 * be a member of the hook's team.
 */
export function moveIncomingHook(runtime: Runtime, caller: Caller, hookIdParam: string, userIdParam: string): Promise<IncomingWebhook> {
  return audited(runtime, caller, 'moveIncomingHook', auditedHookId(hookIdParam), async () => {
    const hookId = requireHookId(hookIdParam);
    const userId = userIdParam === 'me' ? caller.user.id : userIdParam;
    if (!isValidId(userId)) throw errors.invalidUrlParam('user_id');
    const hook = await liveHook(runtime, hookId);
    const channel = await existingChannel(runtime, hook.channel_id);
    if (channel.type !== 'O' && !(await canReadChannel(runtime, caller, channel))) throw errors.permissions();
    await requireTeamPermission(runtime, caller, hook.team_id, OTHERS);
    const owner = await runtime.entities.getUser(userId);
    if (!owner) throw userNotFound();
    if (!(await runtime.entities.isTeamMember(hook.team_id, owner.id))) throw incomingErrors.userMembership();
    const moved: IncomingWebhook = { ...hook, user_id: owner.id, update_at: Math.max(runtime.nowMs(), hook.update_at + 1) };
    await saveChanged(runtime, moved);
    return moved;
  }, (hook) => ({ user_id: hook.user_id }));
}
