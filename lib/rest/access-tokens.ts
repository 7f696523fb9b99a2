/**
 * Personal access tokens, as Mattermost's `api4/user.go` serves them (`createUserAccessToken`,
 * `getUserAccessToken…`, `revoke/disable/enableUserAccessToken`, `searchUserAccessTokens`) and
 * `app/user.go` applies them (`CreateUserAccessToken`). The HTTP routes and the operator CLI both
 * call these. A token's secret is shown once, by create; every other answer leaves it out, and
 * only its hash is stored. Revoking deletes the token, as Mattermost does; disabling keeps it.
 */
import { recordAudit } from '../audit.js';
import { AppError, errors } from '../errors.js';
import { hashToken, isValidId, newId } from '../ids.js';
import type { User, UserAccessToken } from '../model.js';
import { hasSystemPermission, requireSystemPermission, type Caller, type Permission } from '../permissions.js';
import type { Runtime } from '../runtime.js';
import { decodeGoObject, goBool, GoJsonError, goString, isPlainObject } from '../http/go-json.js';
import { keys } from '../store/keys.js';
import { byteLength } from '../validation.js';
import * as z from '../zod.js';
import { MAX_LIST_OFFSET, type Paging } from './paging.js';
import { resolveUserId, userNotFound } from './users.js';

/** Mattermost's `UserAccessToken.IsValid`: the description is at most 255 bytes. */
export const MAX_TOKEN_DESCRIPTION_BYTES = 255;
/** Mattermost answers at most this many tokens to a search. */
export const MAX_TOKEN_SEARCH_RESULTS = 1000;
/** A search by prefix reads at most this many tokens, newest first (exact ids and usernames are always found). */
export const MAX_TOKENS_SEARCHED = 1000;

/** A token as the API answers it; `token` only in the answer to create. */
export interface ClientAccessToken extends UserAccessToken {
  token?: string;
}

export const tokenErrors = {
  notFound: () => new AppError('app.user_access_token.get_by_user.app_error', 'Unable to get user access token.', 404),
  disabled: () => new AppError('app.user_access_token.disabled', 'Personal access tokens are disabled on this server. Please contact your system administrator for details.', 501),
  descriptionTooLong: () =>
    new AppError('model.user_access_token.is_valid.description.app_error', `Description must be ${MAX_TOKEN_DESCRIPTION_BYTES} characters or less.`, 400),
  expiresAtInPast: () => new AppError('app.user_access_token.expires_at_in_past.app_error', 'The expiry date of the token must be in the future.', 400),
};

/** Who may act on a user's tokens (Mattermost's `SessionHasPermissionToUser`): themself, or `edit_other_users`. */
async function requireSelfOrEditOthers(runtime: Runtime, caller: Caller, userId: string): Promise<void> {
  if (caller.unrestricted || caller.user.id === userId) return;
  if (!(await hasSystemPermission(runtime, caller, 'edit_other_users'))) throw errors.permissions();
}

/** A Go int64 field: `null` leaves 0; a fraction, a string or a number beyond 2^53 is a type error. */
const goInt64 = z.pipe(
  z.nullish(z.number()),
  z.transform((value: number | null | undefined, ctx) => (value === null || value === undefined ? 0 : Number.isSafeInteger(value) ? value : z.refuse(ctx, 'expected an int64'))),
);

const CREATE_KEYS = ['id', 'token', 'user_id', 'description', 'is_active', 'expires_at'] as const;
/** `model.UserAccessToken` as a request body; only description and expires_at are used, the others must still have their types. */
const createSchema = z.object({ id: goString, token: goString, user_id: goString, description: goString, is_active: goBool, expires_at: goInt64 });

const SEARCH_KEYS = ['term'] as const;
const searchSchema = z.object({ term: goString });

/** A body decoded as Go decodes it into a struct (`null` is the zero value); a type error is Mattermost's 400 naming `name`. */
function decodeBody<S extends z.ZodMiniType>(body: unknown, keys: readonly string[], schema: S, name: string): z.output<S> {
  try {
    return decodeGoObject(body, keys, schema, { null: 'zero' })!;
  } catch (error) {
    if (error instanceof GoJsonError) throw errors.invalidBodyParam(name);
    throw error;
  }
}

/**
 * Runs a change and writes its audit record, `success` or `fail` (with the error's id). The record
 * names the token (or, for a create that failed, the user), never the secret.
 */
async function audited<T>(runtime: Runtime, caller: Caller, event: string, objectId: string | ((result: T) => string), detail: Record<string, string>, action: () => Promise<T>): Promise<T> {
  let result: T;
  try {
    result = await action();
  } catch (error) {
    if (error instanceof AppError) {
      const failedOn = typeof objectId === 'string' ? objectId : (detail.user_id ?? '');
      await recordAudit(runtime, caller, { event, objectId: failedOn, status: 'fail', detail: { ...detail, error_id: error.id } });
    }
    throw error;
  }
  await recordAudit(runtime, caller, { event, objectId: typeof objectId === 'string' ? objectId : objectId(result), status: 'success', detail });
  return result;
}

/**
 * `POST /api/v4/users/{user_id}/tokens`: a new token for the user, the secret shown this once.
 * Mattermost's order: the body (400), the caller's rights (403), the user (404), the switch (501),
 * the expiry (400), then the description's length (400).
 */
export async function createUserAccessToken(runtime: Runtime, caller: Caller, userIdParam: string, body: unknown): Promise<ClientAccessToken> {
  const userId = resolveUserId(caller.user, userIdParam);
  const { description, expires_at: expiresAt } = decodeBody(body, CREATE_KEYS, createSchema, 'user_access_token');
  if (description === '') throw errors.invalidBodyParam('description');
  return audited(runtime, caller, 'createUserAccessToken', (token: ClientAccessToken) => token.id, { user_id: userId }, async () => {
    await requireSystemPermission(runtime, caller, 'create_user_access_token');
    await requireSelfOrEditOthers(runtime, caller, userId);
    const user = await runtime.entities.getUser(userId);
    if (!user) throw userNotFound();
    if (!runtime.config.enableUserAccessTokens) throw tokenErrors.disabled();
    const nowMs = runtime.nowMs();
    if (expiresAt !== 0 && expiresAt <= nowMs) throw tokenErrors.expiresAtInPast();
    if (byteLength(description) > MAX_TOKEN_DESCRIPTION_BYTES) throw tokenErrors.descriptionTooLong();
    // Mattermost's token: one NewId, 128 random bits in 26 characters.
    const secret = newId();
    const token: UserAccessToken = { id: newId(), user_id: user.id, description, is_active: true, expires_at: expiresAt, create_at: nowMs };
    await runtime.entities.accessTokens.create(token, hashToken(secret));
    return { ...token, token: secret };
  });
}

/**
 * `GET /api/v4/users/{user_id}/tokens?page&per_page`: the user's tokens, oldest first (Mattermost's
 * order is unspecified). A page starting past MAX_LIST_OFFSET is empty, so the read stays bounded.
 */
export async function getUserAccessTokensForUser(runtime: Runtime, caller: Caller, userIdParam: string, paging: Paging): Promise<UserAccessToken[]> {
  const userId = resolveUserId(caller.user, userIdParam);
  await requireSystemPermission(runtime, caller, 'read_user_access_token');
  await requireSelfOrEditOthers(runtime, caller, userId);
  const offset = paging.page * paging.perPage;
  return offset > MAX_LIST_OFFSET ? [] : runtime.entities.accessTokens.listOfUser(userId, offset, paging.perPage);
}

/** `GET /api/v4/users/tokens?page&per_page`: every token, oldest first; system admins only. */
export async function getUserAccessTokens(runtime: Runtime, caller: Caller, paging: Paging): Promise<UserAccessToken[]> {
  await requireSystemPermission(runtime, caller, 'manage_system');
  const offset = paging.page * paging.perPage;
  return offset > MAX_LIST_OFFSET ? [] : runtime.entities.accessTokens.listAll(offset, paging.perPage);
}

/** A token by id for a caller holding `permission` over its owner; 404 when there is none. */
async function tokenForCaller(runtime: Runtime, caller: Caller, tokenId: string, permission: Permission) {
  await requireSystemPermission(runtime, caller, permission);
  const located = isValidId(tokenId) ? await runtime.entities.accessTokens.byId(tokenId) : undefined;
  if (!located) throw tokenErrors.notFound();
  await requireSelfOrEditOthers(runtime, caller, located.token.user_id);
  return located;
}

/** `GET /api/v4/users/tokens/{token_id}`. */
export async function getUserAccessToken(runtime: Runtime, caller: Caller, tokenIdParam: string): Promise<UserAccessToken> {
  if (!isValidId(tokenIdParam)) throw errors.invalidUrlParam('token_id');
  return (await tokenForCaller(runtime, caller, tokenIdParam, 'read_user_access_token')).token;
}

/**
 * The `token_id` of a revoke, disable or enable body, read as Go's `model.MapFromJSON` reads it (a
 * JSON object of strings; anything else reads as empty). Mattermost sets the 400 for a missing id
 * but carries on, so its answer then depends on later checks; Hookline answers the 400.
 */
function tokenIdFromBody(body: unknown): string {
  const values: Record<string, unknown> = isPlainObject(body) && Object.values(body).every((value) => typeof value === 'string') ? body : {};
  const tokenId = values.token_id;
  if (typeof tokenId !== 'string' || tokenId === '') throw errors.invalidBodyParam('token_id');
  return tokenId;
}

type TokenChange = 'revoke' | 'disable' | 'enable';

const CHANGES: Record<TokenChange, { event: string; permission: Permission }> = {
  revoke: { event: 'revokeUserAccessToken', permission: 'revoke_user_access_token' },
  disable: { event: 'disableUserAccessToken', permission: 'revoke_user_access_token' },
  // Mattermost: enabling needs the right to create tokens.
  enable: { event: 'enableUserAccessToken', permission: 'create_user_access_token' },
};

/**
 * `POST /api/v4/users/tokens/revoke|disable|enable` `{"token_id"}`. The change applies at once on
 * this instance (its cached copy is dropped) and within ENTITY_CACHE_TTL_SECONDS on the others.
 */
export async function changeUserAccessToken(runtime: Runtime, caller: Caller, change: TokenChange, body: unknown): Promise<{ status: 'OK' }> {
  const tokenId = tokenIdFromBody(body);
  const { event, permission } = CHANGES[change];
  return audited(runtime, caller, event, tokenId, {}, async () => {
    const { token, tokenHash } = await tokenForCaller(runtime, caller, tokenId, permission);
    if (change === 'revoke') await runtime.entities.accessTokens.remove(token.id, tokenHash);
    else if (!(await runtime.entities.accessTokens.setActive(token.id, tokenHash, change === 'enable'))) throw tokenErrors.notFound();
    runtime.directory.forgetAccessToken(tokenHash);
    return { status: 'OK' as const };
  });
}

/**
 * `POST /api/v4/users/tokens/search` `{"term"}`, system admins only: tokens whose id, user id or
 * owner's username starts with the term (Mattermost's `LIKE term%`), the username compared without
 * case. An exact token id, user id or username is always found; other prefixes are looked for
 * among the newest MAX_TOKENS_SEARCHED tokens, so the work per request is bounded.
 */
export async function searchUserAccessTokens(runtime: Runtime, caller: Caller, body: unknown): Promise<UserAccessToken[]> {
  await requireSystemPermission(runtime, caller, 'manage_system');
  const { term } = decodeBody(body, SEARCH_KEYS, searchSchema, 'user_access_token_search');
  if (term === '') throw errors.invalidBodyParam('term');
  const store = runtime.entities.accessTokens;
  const found = new Map<string, UserAccessToken>();
  const add = (tokens: Array<UserAccessToken | undefined>) => tokens.forEach((token) => token && token.id !== '' && found.set(token.id, token));
  if (isValidId(term)) {
    add([(await store.byId(term))?.token]);
    add(await store.listOfUser(term, 0, MAX_TOKEN_SEARCH_RESULTS));
  }
  const named = term.length <= 64 ? await runtime.entities.getUserByUsername(term.toLowerCase()) : undefined;
  if (named) add(await store.listOfUser(named.id, 0, MAX_TOKEN_SEARCH_RESULTS));
  const candidates = await store.listAll(0, MAX_TOKENS_SEARCHED, true);
  const owners = await runtime.entities.getMany<User>([...new Set(candidates.map((token) => token.user_id))].map((userId) => keys.user(userId)));
  const usernames = new Map(owners.filter((user) => user !== undefined).map((user) => [user.id, user.username]));
  const lowered = term.toLowerCase();
  add(candidates.filter((token) => token.id.startsWith(term) || token.user_id.startsWith(term) || (usernames.get(token.user_id) ?? '').startsWith(lowered)));
  return [...found.values()].sort((a, b) => a.create_at - b.create_at || a.id.localeCompare(b.id)).slice(0, MAX_TOKEN_SEARCH_RESULTS);
}
