/**
 * npm run ctl -- token create USER --description TEXT [--expires-at ISO]
 * npm run ctl -- token list USER
 * npm run ctl -- token revoke TOKEN_ID
 *
 * Personal access tokens, as mmctl's `token` commands: create prints the new token once (only its
 * hash is stored), list shows a user's tokens without their secrets, revoke deletes a token. USER
 * is a username or a user id. The same use cases as the HTTP routes (lib/rest/access-tokens.ts),
 * as the operator, who passes every permission check; ENABLE_USER_ACCESS_TOKENS still applies
 * (create is refused with 501 when it is off).
 */
import { parseArgs } from 'node:util';
import { isValidId } from '../../lib/ids.js';
import type { User, UserAccessToken } from '../../lib/model.js';
import { changeUserAccessToken, createUserAccessToken, getUserAccessTokensForUser } from '../../lib/rest/access-tokens.js';
import { MAX_LIST_PER_PAGE } from '../../lib/rest/paging.js';
import type { Runtime } from '../../lib/runtime.js';
import { print, UsageError, type CtlGroup } from './context.js';

async function findUser(runtime: Runtime, nameOrId: string): Promise<User> {
  const user = (isValidId(nameOrId) ? await runtime.entities.getUser(nameOrId) : undefined) ?? (await runtime.entities.getUserByUsername(nameOrId));
  if (!user) throw new UsageError(`unknown user "${nameOrId}"`);
  return user;
}

function parseExpiresAt(text: string | undefined): number {
  if (text === undefined) return 0;
  const ms = Date.parse(text);
  if (!Number.isFinite(ms)) throw new UsageError(`--expires-at: "${text}" is not an ISO 8601 date`);
  return ms;
}

function describeToken(token: UserAccessToken): string {
  const expires = token.expires_at === 0 ? 'never expires' : `expires ${new Date(token.expires_at).toISOString()}`;
  return [token.id, token.is_active ? 'active  ' : 'disabled', expires, JSON.stringify(token.description)].join('  ');
}

export const tokenGroup: CtlGroup = {
  usage: 'token create USER --description TEXT [--expires-at ISO] | token list USER | token revoke TOKEN_ID',
  async run(args, context) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: { description: { type: 'string' }, 'expires-at': { type: 'string' } },
    });
    const [command, target, ...extra] = positionals;
    if (target === undefined || extra.length > 0) throw new UsageError('expected: token create|list USER, or token revoke TOKEN_ID');
    const { runtime, caller } = context;
    switch (command) {
      case 'create': {
        if (values.description === undefined) throw new UsageError('token create: --description is required');
        const user = await findUser(runtime, target);
        const created = await createUserAccessToken(runtime, caller, user.id, { description: values.description, expires_at: parseExpiresAt(values['expires-at']) });
        print(context, created, (token) => [token.token!, `(token id ${token.id} for ${user.username}; the token is shown only this once)`]);
        return 0;
      }
      case 'list': {
        const user = await findUser(runtime, target);
        const tokens: UserAccessToken[] = [];
        for (let page = 0; ; page++) {
          const batch = await getUserAccessTokensForUser(runtime, caller, user.id, { page, perPage: MAX_LIST_PER_PAGE });
          tokens.push(...batch);
          if (batch.length < MAX_LIST_PER_PAGE) break;
        }
        print(context, tokens, (list) => (list.length === 0 ? [`${user.username} has no personal access tokens`] : list.map(describeToken)));
        return 0;
      }
      case 'revoke': {
        const result = await changeUserAccessToken(runtime, caller, 'revoke', { token_id: target });
        print(context, result, () => [`revoked ${target}`]);
        return 0;
      }
      default:
        throw new UsageError(`unknown subcommand "${command}"`);
    }
  },
};
