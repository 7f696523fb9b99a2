import { authenticate } from '../lib/auth.js';
import { errors } from '../lib/errors.js';
import { httpHandler, json } from '../lib/http/handler.js';
import { getTeam, getTeamByName } from '../lib/rest/teams.js';
import { runtimeFromEnv, type Runtime } from '../lib/runtime.js';

/** The team routes: `GET /api/v4/teams/{team_id}`, `GET /api/v4/teams/name/{name}`. */
export const createHandler = (runtime: Runtime) =>
  httpHandler(
    'teams',
    async (request, rt) => {
      const caller = await authenticate(rt, request.headers.authorization);
      switch (request.routeKey) {
        case 'GET /api/v4/teams/{team_id}':
          return json(200, await getTeam(rt, caller, request.pathParameters.team_id ?? ''));
        case 'GET /api/v4/teams/name/{name}':
          return json(200, await getTeamByName(rt, caller, request.pathParameters.name ?? ''));
        default:
          throw errors.notFoundRoute();
      }
    },
    runtime,
  );

export const handler = createHandler(runtimeFromEnv());
