import { errors } from './errors.js';
import { hashToken } from './ids.js';
import type { User } from './model.js';
import type { Runtime } from './runtime.js';

/**
 * The user behind a personal access token, sent as `Authorization: Bearer <token>` (or Mattermost's
 * older `Token <token>`). Tokens are stored only as hashes, so lookup is by hash: nothing compares
 * the secret itself, and a stolen table does not reveal tokens.
 */
export async function authenticate(runtime: Runtime, authorization: string | undefined): Promise<User> {
  const match = /^(?:bearer|token)\s+(\S+)\s*$/i.exec(authorization ?? '');
  if (!match) throw errors.sessionExpired();
  const userId = await runtime.directory.userIdForTokenHash(hashToken(match[1]!));
  const user = userId ? await runtime.directory.user(userId) : undefined;
  if (!user || user.delete_at !== 0) throw errors.sessionExpired();
  return user;
}
