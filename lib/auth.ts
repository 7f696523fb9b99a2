import { errors } from './errors.js';
import { hashToken } from './ids.js';
import type { User } from './model.js';
import type { Runtime } from './runtime.js';

/**
 * The user behind a personal access token, sent as `Authorization: Bearer <token>` (or Mattermost's
 * older `Token <token>`). Tokens are stored only as hashes, so lookup is by hash: nothing compares
 * the secret itself, and a stolen table does not reveal tokens. As in Mattermost's
 * `createSessionForUserAccessToken`, a disabled or expired token, a deactivated user, or tokens
 * switched off (ENABLE_USER_ACCESS_TOKENS) answer 401.
 */
export async function authenticate(runtime: Runtime, authorization: string | undefined): Promise<User> {
  const match = /^(?:bearer|token)\s+(\S+)\s*$/i.exec(authorization ?? '');
  if (!match || !runtime.config.enableUserAccessTokens) throw errors.sessionExpired();
  const token = await runtime.directory.accessTokenByHash(hashToken(match[1]!));
  if (!token || !token.is_active || (token.expires_at !== 0 && token.expires_at <= runtime.nowMs())) throw errors.sessionExpired();
  const user = await runtime.directory.user(token.user_id);
  if (!user || user.delete_at !== 0) throw errors.sessionExpired();
  return user;
}
