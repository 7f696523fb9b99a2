import { errors } from '../lib/errors.js';
import { parseJsonBody } from '../lib/http/body.js';
import { httpHandler, json } from '../lib/http/handler.js';
import { callerFromRequest } from '../lib/permissions.js';
import {
  changeUserAccessToken,
  createUserAccessToken,
  getUserAccessToken,
  getUserAccessTokens,
  getUserAccessTokensForUser,
  searchUserAccessTokens,
} from '../lib/rest/access-tokens.js';
import { pagingFromQuery } from '../lib/rest/paging.js';
import { runtimeFromEnv, type Runtime } from '../lib/runtime.js';

/**
 * Personal access tokens (docs/access-tokens.md): create and list a user's tokens, list and search
 * all of them, get one, revoke, disable and enable one.
 */
export const createHandler = (runtime: Runtime) =>
  httpHandler(
    'accessTokens',
    async (request, rt) => {
      const caller = await callerFromRequest(rt, request);
      const userId = request.pathParameters.user_id ?? '';
      switch (request.routeKey) {
        case 'POST /api/v4/users/{user_id}/tokens':
          // Mattermost answers 200, not 201.
          return json(200, await createUserAccessToken(rt, caller, userId, parseJsonBody(request.body, 'user_access_token')));
        case 'GET /api/v4/users/{user_id}/tokens':
          return json(200, await getUserAccessTokensForUser(rt, caller, userId, pagingFromQuery(request.query)));
        case 'GET /api/v4/users/tokens':
          return json(200, await getUserAccessTokens(rt, caller, pagingFromQuery(request.query)));
        case 'GET /api/v4/users/tokens/{token_id}':
          return json(200, await getUserAccessToken(rt, caller, request.pathParameters.token_id ?? ''));
        case 'POST /api/v4/users/tokens/revoke':
          return json(200, await changeUserAccessToken(rt, caller, 'revoke', parseMapBody(request.body)));
        case 'POST /api/v4/users/tokens/disable':
          return json(200, await changeUserAccessToken(rt, caller, 'disable', parseMapBody(request.body)));
        case 'POST /api/v4/users/tokens/enable':
          return json(200, await changeUserAccessToken(rt, caller, 'enable', parseMapBody(request.body)));
        case 'POST /api/v4/users/tokens/search':
          return json(200, await searchUserAccessTokens(rt, caller, parseJsonBody(request.body, 'user_access_token_search')));
        default:
          throw errors.notFoundRoute();
      }
    },
    runtime,
  );

/** Go's `model.MapFromJSON`: a body that does not decode reads as an empty map. */
function parseMapBody(body: Buffer): unknown {
  try {
    return parseJsonBody(body, 'token_id');
  } catch {
    return {};
  }
}

export const handler = createHandler(runtimeFromEnv());
