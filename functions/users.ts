import { authenticate } from '../lib/auth.js';
import { errors } from '../lib/errors.js';
import { parseJsonBody } from '../lib/http/body.js';
import { httpHandler, json } from '../lib/http/handler.js';
import { getTeamsForUser } from '../lib/rest/teams.js';
import { getUser, getUserByUsername, getUsersByIds, getUsersByUsernames } from '../lib/rest/users.js';
import { runtimeFromEnv, type Runtime } from '../lib/runtime.js';

/**
 * The user routes: `GET /api/v4/users/{user_id}` (and `me`), `GET /api/v4/users/username/{username}`,
 * `POST /api/v4/users/ids`, `POST /api/v4/users/usernames`, `GET /api/v4/users/{user_id}/teams`.
 */
export const createHandler = (runtime: Runtime) =>
  httpHandler(
    'users',
    async (request, rt) => {
      const caller = await authenticate(rt, request.headers.authorization);
      const parameters = request.pathParameters;
      switch (request.routeKey) {
        case 'GET /api/v4/users/{user_id}':
          return json(200, await getUser(rt, caller, parameters.user_id ?? ''));
        case 'GET /api/v4/users/username/{username}':
          return json(200, await getUserByUsername(rt, parameters.username ?? ''));
        case 'POST /api/v4/users/ids':
          return json(200, await getUsersByIds(rt, parseJsonBody(request.body, 'user_ids')));
        case 'POST /api/v4/users/usernames':
          return json(200, await getUsersByUsernames(rt, parseJsonBody(request.body, 'usernames')));
        case 'GET /api/v4/users/{user_id}/teams':
          return json(200, await getTeamsForUser(rt, caller, parameters.user_id ?? ''));
        default:
          throw errors.notFoundRoute();
      }
    },
    runtime,
  );

export const handler = createHandler(runtimeFromEnv());
