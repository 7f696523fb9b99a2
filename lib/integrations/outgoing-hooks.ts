/**
 * Managing outgoing webhooks, as Mattermost's api4 `createOutgoingHook`, `getOutgoingHooks`,
 * `getOutgoingHook`, `updateOutgoingHook`, `regenOutgoingHookToken`, `deleteOutgoingHook` and
 * `App.CreateOutgoingWebhook` / `App.UpdateOutgoingWebhook`: same checks, order, statuses and ids,
 * except where docs/compatibility.md says otherwise (Mattermost's 500s here answer 400).
 *
 * Plus Hookline's `rotate_signing_secret`: a new Standard Webhooks secret, shown once, while the
 * replaced one keeps signing beside it for SIGNING_SECRET_ROTATION_WINDOW_SECONDS.
 *
 * Credentials live in the hook's secrets item: `token` is returned to whoever may manage the hook
 * (as Mattermost returns it), the signing secret only by create and rotation.
 */
import { AppError, errors } from '../errors.js';
import { isValidId, newId, newSigningSecret } from '../ids.js';
import type { Channel, IntegrationSecrets, OutgoingWebhook } from '../model.js';
import {
  hasChannelPermission,
  hasSystemPermission,
  requireChannelPermission,
  requireSystemPermission,
  requireTeamPermission,
  type Caller,
} from '../permissions.js';
import type { Runtime } from '../runtime.js';
import { itemsFor } from '../store/entities.js';
import { keys } from '../store/keys.js';
import { assertValidOutgoingWebhook, isValidOutgoingToken } from './webhook-validity.js';
import { audited, channelNotFound, hasTeamPermissionFor, requireTeamPermissionFor, decodeGoStruct, hookPage, requireHookId, statusOk, teamMismatch } from './hook-common.js';
import { userNotFound } from '../rest/users.js';

export const outgoingErrors = {
  disabled: (status = 501) => new AppError('api.outgoing_webhook.disabled.app_error', 'Outgoing webhooks have been disabled by the system admin.', status),
  notFound: () => new AppError('app.webhooks.get_outgoing.app_error', 'Unable to get the webhook.', 404),
  override: () => new AppError('app.webhooks.save_outgoing.override.app_error', 'You cannot overwrite an existing OutgoingWebhook.', 400),
  notOpen: () => new AppError('api.webhook.create_outgoing.not_open.app_error', 'Outgoing webhooks can only be created for public channels.', 403),
  otherTeam: () => new AppError('api.webhook.create_outgoing.permissions.app_error', 'Invalid permissions to create outgoing webhook.', 403),
  triggers: () => new AppError('api.webhook.create_outgoing.triggers.app_error', 'Either trigger_words or channel_id must be set.', 400),
  createIntersect: () =>
    new AppError('api.webhook.create_outgoing.intersect.app_error', 'Outgoing webhooks from the same channel cannot have the same trigger words/callback URLs.', 400),
  updateIntersect: () =>
    new AppError('api.webhook.update_outgoing.intersect.app_error', 'Outgoing webhooks from the same channel cannot have the same trigger words/callback URLs.', 400),
  token: () => new AppError('model.outgoing_hook.is_valid.token.app_error', 'Invalid token.', 400),
  triggerWhen: () => new AppError('model.outgoing_hook.is_valid.content_type.app_error', 'Invalid value for trigger_when.', 400),
};

const OUTGOING_FIELDS = {
  id: 'string',
  token: 'string',
  create_at: 'integer',
  update_at: 'integer',
  delete_at: 'integer',
  creator_id: 'string',
  channel_id: 'string',
  team_id: 'string',
  trigger_words: 'strings',
  trigger_when: 'integer',
  callback_urls: 'strings',
  display_name: 'string',
  description: 'string',
  content_type: 'string',
  username: 'string',
  icon_url: 'string',
} as const;
type Decoded<F> = Partial<{ [K in keyof F]: F[K] extends 'string' ? string : F[K] extends 'strings' ? string[] : F[K] extends 'boolean' ? boolean : number }>;
export type OutgoingBody = Decoded<typeof OUTGOING_FIELDS>;

export function decodeOutgoingHook(body: Buffer): OutgoingBody {
  return decodeGoStruct<OutgoingBody>(body, 'outgoing_webhook', OUTGOING_FIELDS);
}

/** An outgoing hook as the management API answers it: Mattermost's object, `token` included. */
export type OutgoingHookView = OutgoingWebhook & { token: string };

function view(hook: OutgoingWebhook, token: string): OutgoingHookView {
  const { id, ...rest } = hook;
  return { id, token, ...rest };
}

const OWN = 'manage_own_outgoing_webhooks';
const OTHERS = 'manage_others_outgoing_webhooks';

function requireEnabled(runtime: Runtime): void {
  if (!runtime.config.enableOutgoingWebhooks) throw outgoingErrors.disabled();
}

/** The channel rules of `App.CreateOutgoingWebhook` / `UpdateOutgoingWebhook` (which differ only in one id). */
async function checkChannelAndTriggers(runtime: Runtime, hook: OutgoingWebhook, onCreate: boolean): Promise<void> {
  if (hook.channel_id !== '') {
    const channel: Channel | undefined = isValidId(hook.channel_id) ? await runtime.entities.getChannel(hook.channel_id) : undefined;
    if (!channel) throw channelNotFound();
    // Mattermost's create answers this 403 with the "disabled" id; its update has a proper one.
    if (channel.type !== 'O') throw onCreate ? outgoingErrors.disabled(403) : outgoingErrors.notOpen();
    if (channel.team_id !== hook.team_id) throw outgoingErrors.otherTeam();
  } else if (hook.trigger_words.length === 0) {
    throw outgoingErrors.triggers();
  }
}

/** Whether another live hook of the team listens in the same channel to a shared URL and a shared word (Mattermost's intersect rule). */
async function intersects(runtime: Runtime, hook: OutgoingWebhook): Promise<boolean> {
  if (!isValidId(hook.team_id)) return false;
  const words = new Set(hook.trigger_words);
  const urls = new Set(hook.callback_urls);
  const others = await runtime.entities.listOutgoingWebhooksOfTeam(hook.team_id);
  return others.some(
    (other) =>
      other.id !== hook.id &&
      other.delete_at === 0 &&
      other.channel_id === hook.channel_id &&
      other.callback_urls.some((url) => urls.has(url)) &&
      other.trigger_words.some((word) => words.has(word)),
  );
}

function triggerWhen(value: number | undefined): 0 | 1 {
  const when = value ?? 0;
  // Mattermost lets negative values through (its matcher then treats them as "exact"); Hookline refuses them.
  if (when !== 0 && when !== 1) throw outgoingErrors.triggerWhen();
  return when;
}

/** What a create or an update takes from the body; absent fields are Go's zero values, as Mattermost decodes the whole hook. */
function editableFields(body: OutgoingBody) {
  return {
    channel_id: body.channel_id ?? '',
    trigger_words: body.trigger_words ?? [],
    trigger_when: triggerWhen(body.trigger_when),
    callback_urls: body.callback_urls ?? [],
    display_name: body.display_name ?? '',
    description: body.description ?? '',
    content_type: body.content_type ?? '',
    username: body.username ?? '',
    icon_url: body.icon_url ?? '',
  };
}

/** `POST /api/v4/hooks/outgoing`: 201 with the hook, its token and (Hookline) its signing secret, shown this once. */
export function createOutgoingHook(runtime: Runtime, caller: Caller, body: OutgoingBody): Promise<OutgoingHookView & { signing_secret: string }> {
  return audited(runtime, caller, 'createOutgoingHook', '', async (setObjectId) => {
    const teamId = body.team_id ?? '';
    await requireTeamPermissionFor(runtime, caller, teamId, OWN);
    let creatorId = caller.user.id;
    // Any creator_id, even the caller's own, needs the others permission (unlike incoming hooks and commands).
    if (body.creator_id) {
      await requireTeamPermissionFor(runtime, caller, teamId, OTHERS);
      const creator = isValidId(body.creator_id) ? await runtime.entities.getUser(body.creator_id) : undefined;
      if (!creator) throw userNotFound();
      creatorId = creator.id;
    }
    requireEnabled(runtime);
    const nowMs = runtime.nowMs();
    const hook: OutgoingWebhook = {
      id: body.id ?? '',
      creator_id: creatorId,
      team_id: teamId,
      ...editableFields(body),
      create_at: nowMs,
      update_at: nowMs,
      delete_at: 0,
    };
    await checkChannelAndTriggers(runtime, hook, true);
    if (await intersects(runtime, hook)) throw outgoingErrors.createIntersect();
    if (hook.id !== '') throw outgoingErrors.override();
    hook.id = newId();
    // As Mattermost's PreSave: a client may choose its token.
    const secrets: IntegrationSecrets = { token: body.token || newId(), signing_secret: newSigningSecret() };
    assertValidOutgoingWebhook(hook, secrets.token);
    await runtime.entities.writeIntegrationChanges(itemsFor.outgoingWebhook(hook, secrets).map((write) => ({ put: write.item, condition: 'createOnly' as const })));
    setObjectId(hook.id);
    return { ...view(hook, secrets.token), signing_secret: secrets.signing_secret };
  }, (hook) => ({ team_id: hook.team_id, channel_id: hook.channel_id, creator_id: hook.creator_id }));
}

/** A live hook and its secrets, strongly consistent (501 when the feature is off, 404 when absent or deleted). */
async function liveHook(runtime: Runtime, hookId: string): Promise<{ hook: OutgoingWebhook; secrets: IntegrationSecrets }> {
  requireEnabled(runtime);
  const found = await runtime.entities.getOutgoingWebhookWithSecrets(hookId);
  if (!found || found.hook.delete_at !== 0) throw outgoingErrors.notFound();
  return found;
}

/** The checks of `getOutgoingHook`, shared by get, regen, rotate and delete. */
async function authorizeExistingHook(runtime: Runtime, caller: Caller, hookIdParam: string) {
  const found = await liveHook(runtime, requireHookId(hookIdParam));
  await requireTeamPermission(runtime, caller, found.hook.team_id, OWN);
  if (found.hook.creator_id !== caller.user.id) await requireTeamPermission(runtime, caller, found.hook.team_id, OTHERS);
  return found;
}

/** Writes a changed hook and/or its secrets in one transaction; 404 when the hook was deleted meanwhile. */
async function save(runtime: Runtime, hook: OutgoingWebhook, secrets: IntegrationSecrets, withSecrets: boolean): Promise<void> {
  const [secretsItem, hookItem] = itemsFor.outgoingWebhook(hook, secrets);
  const changes: Parameters<Runtime['entities']['writeIntegrationChanges']>[0] = [{ put: hookItem!.item, condition: 'whileLive' }];
  if (withSecrets) changes.push({ put: secretsItem!.item });
  if (hook.delete_at !== 0) changes.push({ delete: keys.outgoingWebhookListing(hook.id) });
  if (!(await runtime.entities.writeIntegrationChanges(changes))) throw outgoingErrors.notFound();
}

/**
 * An outgoing hook the caller may manage, with the checks of `getOutgoingHook` but without reading
 * its credentials: for the delivery log routes, whose function may not read secrets.
 */
export async function manageableOutgoingHook(runtime: Runtime, caller: Caller, hookIdParam: string): Promise<OutgoingWebhook> {
  requireEnabled(runtime);
  const hook = await runtime.entities.getOutgoingWebhook(requireHookId(hookIdParam));
  if (!hook || hook.delete_at !== 0) throw outgoingErrors.notFound();
  await requireTeamPermission(runtime, caller, hook.team_id, OWN);
  if (hook.creator_id !== caller.user.id) await requireTeamPermission(runtime, caller, hook.team_id, OTHERS);
  return hook;
}

/** `GET /api/v4/hooks/outgoing/{hook_id}`: the hook with its token. */
export function getOutgoingHook(runtime: Runtime, caller: Caller, hookId: string): Promise<OutgoingHookView> {
  return audited(runtime, caller, 'getOutgoingHook', hookId, async () => {
    const { hook, secrets } = await authorizeExistingHook(runtime, caller, hookId);
    return view(hook, secrets.token);
  });
}

/** `DELETE /api/v4/hooks/outgoing/{hook_id}`: a soft delete. */
export function deleteOutgoingHook(runtime: Runtime, caller: Caller, hookId: string): Promise<typeof statusOk> {
  return audited(runtime, caller, 'deleteOutgoingHook', hookId, async () => {
    const { hook, secrets } = await authorizeExistingHook(runtime, caller, hookId);
    const nowMs = runtime.nowMs();
    await save(runtime, { ...hook, delete_at: nowMs, update_at: nowMs }, secrets, false);
    return statusOk;
  });
}

/** `POST /api/v4/hooks/outgoing/{hook_id}/regen_token`: 200 with the whole hook; the old token dies at once. */
export function regenOutgoingHookToken(runtime: Runtime, caller: Caller, hookId: string): Promise<OutgoingHookView> {
  return audited(runtime, caller, 'regenOutgoingHookToken', hookId, async () => {
    const { hook, secrets } = await authorizeExistingHook(runtime, caller, hookId);
    const renewed = { ...secrets, token: newId() };
    const changed = { ...hook, update_at: Math.max(runtime.nowMs(), hook.update_at + 1) };
    await save(runtime, changed, renewed, true);
    return view(changed, renewed.token);
  });
}

/**
 * `POST /api/v4/hooks/outgoing/{hook_id}/rotate_signing_secret` (Hookline): a new signing secret,
 * answered once as `{signing_secret}`; the replaced one keeps signing beside it until the rotation
 * window ends (a second rotation within the window drops the oldest secret at once).
 */
export function rotateOutgoingHookSigningSecret(runtime: Runtime, caller: Caller, hookId: string): Promise<{ signing_secret: string }> {
  return audited(runtime, caller, 'rotateOutgoingHookSigningSecret', hookId, async () => {
    const { hook, secrets } = await authorizeExistingHook(runtime, caller, hookId);
    const nowMs = runtime.nowMs();
    const windowMs = runtime.config.signingSecretRotationWindowMs;
    const { previous_signing_secret: _previous, previous_signing_secret_expires_at: _expires, ...rest } = secrets;
    const rotated: IntegrationSecrets = {
      ...rest,
      signing_secret: newSigningSecret(),
      ...(windowMs > 0 ? { previous_signing_secret: secrets.signing_secret, previous_signing_secret_expires_at: nowMs + windowMs } : {}),
    };
    await save(runtime, { ...hook, update_at: Math.max(nowMs, hook.update_at + 1) }, rotated, true);
    return { signing_secret: rotated.signing_secret };
  });
}

/**
 * `PUT /api/v4/hooks/outgoing/{hook_id}`: 200 with the hook. Creator, team and times are kept. The
 * body's `token` replaces the token when given (26 bytes); an omitted or empty one keeps it
 * (Mattermost would store the empty token).
 */
export function updateOutgoingHook(runtime: Runtime, caller: Caller, hookIdParam: string, body: OutgoingBody): Promise<OutgoingHookView> {
  return audited(runtime, caller, 'updateOutgoingHook', hookIdParam, async () => {
    const hookId = requireHookId(hookIdParam);
    if (body.id !== hookId) throw errors.invalidBodyParam('hook_id');
    const { hook: old, secrets } = await liveHook(runtime, hookId);
    const teamId = body.team_id || old.team_id;
    if (teamId !== old.team_id) throw teamMismatch();
    await requireTeamPermission(runtime, caller, old.team_id, OWN);
    if (old.creator_id !== caller.user.id) await requireTeamPermission(runtime, caller, old.team_id, OTHERS);
    const hook: OutgoingWebhook = {
      ...old,
      ...editableFields(body),
      update_at: Math.max(runtime.nowMs(), old.update_at + 1),
    };
    await checkChannelAndTriggers(runtime, hook, false);
    if (await intersects(runtime, hook)) throw outgoingErrors.updateIntersect();
    const token = body.token ? body.token : secrets.token;
    if (!isValidOutgoingToken(token)) throw outgoingErrors.token();
    // Mattermost does not validate updates (its database refuses what is too long, with a 500); Hookline answers 400.
    assertValidOutgoingWebhook(hook, token);
    await save(runtime, hook, { ...secrets, token }, token !== secrets.token);
    return view(hook, token);
  });
}

export interface OutgoingListQuery {
  channelId: string;
  teamId: string;
  page: number;
  perPage: number;
}

/**
 * `GET /api/v4/hooks/outgoing`: a channel's hooks (channel permission; team-wide hooks are not
 * included), a team's (team permission) or all (system permission), only the caller's own unless
 * it may manage others'. Oldest first.
 */
export async function listOutgoingHooks(runtime: Runtime, caller: Caller, query: OutgoingListQuery): Promise<OutgoingHookView[]> {
  let hooks: OutgoingWebhook[];
  let allOwners: boolean;
  if (query.channelId !== '') {
    // An id that cannot name a channel is refused as an unknown channel is, without a lookup.
    if (!isValidId(query.channelId)) throw errors.permissions();
    await requireChannelPermission(runtime, caller, query.channelId, OWN);
    allOwners = await hasChannelPermission(runtime, caller, query.channelId, OTHERS);
    requireEnabled(runtime);
    const channel = isValidId(query.channelId) ? await runtime.entities.getChannel(query.channelId) : undefined;
    hooks = channel ? (await runtime.entities.listOutgoingWebhooksOfTeam(channel.team_id)).filter((hook) => hook.channel_id === channel.id) : [];
  } else if (query.teamId !== '') {
    await requireTeamPermissionFor(runtime, caller, query.teamId, OWN);
    allOwners = await hasTeamPermissionFor(runtime, caller, query.teamId, OTHERS);
    requireEnabled(runtime);
    hooks = isValidId(query.teamId) ? await runtime.entities.listOutgoingWebhooksOfTeam(query.teamId) : [];
  } else {
    await requireSystemPermission(runtime, caller, OWN);
    allOwners = await hasSystemPermission(runtime, caller, OTHERS);
    requireEnabled(runtime);
    const ids = await runtime.entities.allOutgoingWebhookIds();
    hooks = (await runtime.entities.getMany<OutgoingWebhook>(ids.map((id) => keys.outgoingWebhook(id)))).filter((hook) => hook !== undefined);
  }
  const visible = hooks.filter((hook) => hook.delete_at === 0 && (allOwners || hook.creator_id === caller.user.id));
  const page = hookPage(visible, query);
  // The index that listed them is eventually consistent: the page is read again from the table,
  // with the credentials, so a change just made is what the caller sees.
  const [current, secrets] = await Promise.all([
    runtime.entities.getMany<OutgoingWebhook>(page.map((hook) => keys.outgoingWebhook(hook.id)), true),
    runtime.entities.getMany<IntegrationSecrets>(page.map((hook) => keys.secrets('OUTHOOK', hook.id)), true),
  ]);
  return current.flatMap((hook, index) => (hook && hook.delete_at === 0 ? [view(hook, secrets[index]?.token ?? '')] : []));
}
