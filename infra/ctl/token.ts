/**
 * The `token` group of the operator CLI (infra/ctl/cli.ts), modelled on mmctl's `token` commands:
 *
 *   token create USER --description TEXT [--expires-at ISO]   prints the new token, once
 *   token list USER                                          the user's tokens, never their secrets
 *   token revoke TOKEN_ID                                    deletes the token
 *
 * USER is a username or a user id. `--json` prints JSON instead of text. The commands call the
 * same use cases as the HTTP routes (lib/rest/access-tokens.ts) as the operator, who passes every
 * permission check; ENABLE_USER_ACCESS_TOKENS still applies (create answers 501 when it is off).
 */
import { parseArgs } from 'node:util';
import { AppError } from '../../lib/errors.js';
import { isValidId } from '../../lib/ids.js';
import type { User, UserAccessToken } from '../../lib/model.js';
import type { Caller } from '../../lib/permissions.js';
import { changeUserAccessToken, createUserAccessToken, getUserAccessTokensForUser } from '../../lib/rest/access-tokens.js';
import type { Runtime } from '../../lib/runtime.js';

export interface TokenCommandContext {
  runtime: Runtime;
  caller: Caller;
  json: boolean;
  output: (text: string) => void;
  /** Where problems go (stderr); defaults to `output`. */
  error?: (text: string) => void;
}

export const TOKEN_USAGE = [
  'token create USER --description TEXT [--expires-at ISO]',
  'token list USER',
  'token revoke TOKEN_ID',
].join('\n');

/** A page the listing asks for: the API's largest. */
const LIST_PAGE_SIZE = 200;

class UsageError extends Error {}

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

function describe(token: UserAccessToken): string {
  const expires = token.expires_at === 0 ? 'never expires' : `expires ${new Date(token.expires_at).toISOString()}`;
  return `${token.id}  ${token.is_active ? 'active  ' : 'disabled'}  ${expires}  ${JSON.stringify(token.description)}`;
}

/** Runs `token ...`; returns the exit code (0 done, 1 refused, 2 usage). */
export async function run(args: string[], context: TokenCommandContext): Promise<number> {
  const problem = context.error ?? context.output;
  try {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: { description: { type: 'string' }, 'expires-at': { type: 'string' }, json: { type: 'boolean' } },
    });
    const json = context.json || values.json === true;
    const [command, target, ...extra] = positionals;
    if (!target || extra.length > 0) throw new UsageError(`usage:\n${TOKEN_USAGE}`);
    const { runtime, caller } = context;
    switch (command) {
      case 'create': {
        if (values.description === undefined) throw new UsageError('token create: --description is required');
        const user = await findUser(runtime, target);
        const created = await createUserAccessToken(runtime, caller, user.id, { description: values.description, expires_at: parseExpiresAt(values['expires-at']) });
        context.output(json ? JSON.stringify(created) : `${created.token}\n(token id ${created.id} for ${user.username}; the token is shown only this once)`);
        return 0;
      }
      case 'list': {
        const user = await findUser(runtime, target);
        const tokens: UserAccessToken[] = [];
        for (let page = 0; ; page++) {
          const batch = await getUserAccessTokensForUser(runtime, caller, user.id, { page, perPage: LIST_PAGE_SIZE });
          tokens.push(...batch);
          if (batch.length < LIST_PAGE_SIZE) break;
        }
        context.output(json ? JSON.stringify(tokens) : tokens.length === 0 ? `${user.username} has no personal access tokens` : tokens.map(describe).join('\n'));
        return 0;
      }
      case 'revoke': {
        const result = await changeUserAccessToken(runtime, caller, 'revoke', { token_id: target });
        context.output(json ? JSON.stringify(result) : `revoked ${target}`);
        return 0;
      }
      default:
        throw new UsageError(`usage:\n${TOKEN_USAGE}`);
    }
  } catch (error) {
    if (error instanceof AppError) {
      problem(context.json ? JSON.stringify({ id: error.id, message: error.message, status_code: error.statusCode }) : `error: ${error.message} (${error.id}, ${error.statusCode})`);
      return 1;
    }
    if (error instanceof UsageError || (error instanceof Error && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'))) {
      problem(error.message);
      return 2;
    }
    throw error;
  }
}
