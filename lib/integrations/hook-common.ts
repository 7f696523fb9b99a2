/**
 * What the incoming- and outgoing-hook use cases share: Go-style decoding of a hook body, the
 * audit wrapper, paging of a listed set, and the errors both raise.
 */
import { audited as auditedChange } from '../audit.js';
import { AppError, errors } from '../errors.js';
import { decodeUtf8 } from '../http/body.js';
import { canonicalizeKeys, isPlainObject, parseGoJson } from '../http/go-json.js';
import { isValidId } from '../ids.js';
import { hasSystemPermission, hasTeamPermission, type Caller, type Permission } from '../permissions.js';
import { pageOf, type Paging } from '../rest/paging.js';
import type { Runtime } from '../runtime.js';

export type FieldKind = 'string' | 'boolean' | 'integer' | 'strings';

/** The most trigger words or callback URLs a body may carry; IsValid's 1024-byte renderings bound them further. */
const MAX_LIST_ITEMS = 1024;

/**
 * A hook body decoded as Mattermost's handlers decode it (`json.NewDecoder(r.Body).Decode(&hook)`,
 * through lib/http/go-json.ts): the first JSON value only, keys case-insensitive, unknown keys
 * ignored, `null` leaving a field unset, a type mismatch refused. Only the fields present come back,
 * so an update can tell "omitted" from "empty". Any failure is Mattermost's 400 naming `name`.
 */
export function decodeGoStruct<T extends Record<string, unknown>>(body: Buffer, name: string, spec: { [K in keyof T]: FieldKind }): Partial<T> {
  const refuse = () => errors.invalidBodyParam(name);
  let value: unknown;
  try {
    value = parseGoJson(decodeUtf8(body), { trailing: 'ignore', empty: 'refuse' });
  } catch {
    throw refuse();
  }
  if (value === null) return {};
  if (!isPlainObject(value)) throw refuse();
  const decoded: Record<string, unknown> = {};
  for (const [field, fieldValue] of Object.entries(canonicalizeKeys(value, Object.keys(spec)))) {
    if (fieldValue === null) continue;
    const kind = spec[field as keyof T];
    const ok =
      (kind === 'string' && typeof fieldValue === 'string') ||
      (kind === 'boolean' && typeof fieldValue === 'boolean') ||
      (kind === 'integer' && typeof fieldValue === 'number' && Number.isSafeInteger(fieldValue)) ||
      (kind === 'strings' && Array.isArray(fieldValue) && fieldValue.length <= MAX_LIST_ITEMS && fieldValue.every((item) => typeof item === 'string'));
    if (!ok) throw refuse();
    decoded[field] = fieldValue;
  }
  return decoded as Partial<T>;
}

/** A path's hook id: Mattermost's `RequireHookId` (400 for anything but a 26-character id). */
export function requireHookId(hookId: string): string {
  if (!isValidId(hookId)) throw errors.invalidUrlParam('hook_id');
  return hookId;
}

/** A hook change with its audit record (lib/audit.ts); `objectId` may be refined by the change (a created hook's id). */
export function audited<T>(
  runtime: Runtime,
  caller: Caller,
  event: string,
  objectId: string,
  action: (setObjectId: (id: string) => void) => Promise<T>,
  detail: (result: T) => Record<string, string | number | boolean> = () => ({}),
): Promise<T> {
  return auditedChange(runtime, caller, { event, objectId, successDetail: detail }, action);
}

/**
 * One page of a hook list (Mattermost's offset paging) in a stable order that Hookline chose, since
 * Mattermost's store has none: oldest first (create_at, then id).
 */
export function hookPage<T extends { create_at: number; id: string }>(items: T[], paging: Paging): T[] {
  return pageOf([...items].sort((a, b) => a.create_at - b.create_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)), paging);
}

export const channelNotFound = () => new AppError('app.channel.get.existing.app_error', 'Unable to find the existing channel.', 404);
export const teamMismatch = () => new AppError('api.webhook.team_mismatch.app_error', 'Unable to update webhook across teams.', 400);
export const statusOk = { status: 'OK' } as const;

/**
 * The team check for a team id a client sent: one that is not an id cannot name a team, so only
 * the caller's system roles can apply (as for a team the caller is not in), and it never becomes a
 * store key. An empty id passes for no one, as always.
 */
export async function requireTeamPermissionFor(runtime: Runtime, caller: Caller, teamId: string, permission: Permission): Promise<void> {
  if (!(await hasTeamPermissionFor(runtime, caller, teamId, permission))) throw errors.permissions();
}

export async function hasTeamPermissionFor(runtime: Runtime, caller: Caller, teamId: string, permission: Permission): Promise<boolean> {
  return teamId !== '' && !isValidId(teamId) ? hasSystemPermission(runtime, caller, permission) : hasTeamPermission(runtime, caller, teamId, permission);
}
