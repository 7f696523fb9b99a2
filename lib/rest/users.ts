/**
 * The user routes bots and alerting tools call: who am I, a user by id or username, users by ids
 * or usernames, in Mattermost's user shape. Hookline keeps no email, password, auth service or
 * profile fields, so those read as Mattermost's empty defaults; nothing more is shown to another
 * user than to oneself.
 */
import { AppError, errors } from '../errors.js';
import { isValidId } from '../ids.js';
import { MAX_USERS_PER_LOOKUP } from '../limits.js';
import type { User } from '../model.js';
import type { Runtime } from '../runtime.js';
import { keys } from '../store/keys.js';
import { isValidUsername } from '../validation.js';

/** Mattermost's `model.User` as `/api/v4/users` routes answer it, sanitized. */
export interface ClientUser {
  id: string;
  create_at: number;
  update_at: number;
  delete_at: number;
  username: string;
  auth_service: string;
  email: string;
  nickname: string;
  first_name: string;
  last_name: string;
  position: string;
  roles: string;
  props: Record<string, string>;
  notify_props: Record<string, string>;
  last_picture_update: number;
  locale: string;
  timezone: { useAutomaticTimezone: string; automaticTimezone: string; manualTimezone: string };
  is_bot: boolean;
  disable_welcome_email: boolean;
}

export function userForClient(user: User): ClientUser {
  return {
    id: user.id,
    create_at: user.create_at,
    update_at: user.update_at,
    delete_at: user.delete_at,
    username: user.username,
    auth_service: '',
    email: '',
    nickname: '',
    first_name: '',
    last_name: '',
    position: '',
    roles: user.roles || 'system_user',
    props: {},
    notify_props: {},
    last_picture_update: 0,
    locale: 'en',
    timezone: { useAutomaticTimezone: 'true', automaticTimezone: '', manualTimezone: '' },
    is_bot: false,
    disable_welcome_email: false,
  };
}

export const userNotFound = () => new AppError('app.user.missing_account.const', 'Unable to find the user.', 404);

/** A path's `user_id`: `me` is the caller, as in Mattermost; anything else must be an id (400). */
export function resolveUserId(caller: User, userId: string): string {
  if (userId === 'me') return caller.id;
  if (!isValidId(userId)) throw errors.invalidUrlParam('user_id');
  return userId;
}

/** `GET /api/v4/users/{user_id}` (and `/users/me`). Deactivated users are shown, with their `delete_at`. */
export async function getUser(runtime: Runtime, caller: User, userIdParam: string): Promise<ClientUser> {
  const userId = resolveUserId(caller, userIdParam);
  if (userId === caller.id) return userForClient(caller);
  const user = await runtime.directory.user(userId);
  if (!user) throw userNotFound();
  return userForClient(user);
}

/** `GET /api/v4/users/username/{username}`: Mattermost lowercases the name before looking it up. */
export async function getUserByUsername(runtime: Runtime, usernameParam: string): Promise<ClientUser> {
  const username = usernameParam.toLowerCase();
  if (!isValidUsername(username)) throw errors.invalidUrlParam('username');
  const user = await runtime.directory.userByUsername(username);
  if (!user) {
    throw new AppError('app.user.get_by_username.app_error', 'Unable to find an existing account matching your username for this team.', 404);
  }
  return userForClient(user);
}

/** A JSON array of strings, or Mattermost's 400 naming `name`; at most MAX_USERS_PER_LOOKUP entries. */
function stringList(body: unknown, name: string): string[] {
  if (!Array.isArray(body) || body.length === 0 || body.some((entry) => typeof entry !== 'string')) throw errors.invalidBodyParam(name);
  if (body.length > MAX_USERS_PER_LOOKUP) throw errors.invalidBodyParam(name);
  return [...new Set(body as string[])];
}

/**
 * `POST /api/v4/users/ids`: the users among the ids that exist, unknown ids left out, in no
 * particular order (Mattermost's). A malformed id is a 400, as in Mattermost's `getUsersByIds`.
 */
export async function getUsersByIds(runtime: Runtime, body: unknown): Promise<ClientUser[]> {
  const ids = stringList(body, 'user_ids');
  if (ids.some((id) => !isValidId(id))) throw errors.invalidBodyParam('user_id');
  const users = await runtime.entities.getMany<User>(ids.map((id) => keys.user(id)));
  return users.filter((user): user is User => user !== undefined).map(userForClient);
}

/** `POST /api/v4/users/usernames`: the users among the names that exist; names no user could have are not found. */
export async function getUsersByUsernames(runtime: Runtime, body: unknown): Promise<ClientUser[]> {
  const names = stringList(body, 'usernames').map((name) => name.toLowerCase()).filter(isValidUsername);
  if (names.length === 0) return [];
  const found = await runtime.directory.usersByUsernames(names);
  return [...found.values()].map(userForClient);
}
