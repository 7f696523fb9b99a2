import { authenticate } from '../lib/auth.js';
import { errors } from '../lib/errors.js';
import { parseJsonBody } from '../lib/http/body.js';
import { httpHandler, json } from '../lib/http/handler.js';
import {
  createDirectChannel,
  getChannel,
  getChannelByName,
  getChannelByNameAndTeamName,
  getChannelsForTeamForUser,
  queryFlag,
} from '../lib/rest/channels.js';
import { runtimeFromEnv, type Runtime } from '../lib/runtime.js';

/**
 * The channel routes: `GET /api/v4/channels/{channel_id}`, a channel by name (team id or team
 * name), `GET /api/v4/users/{user_id}/teams/{team_id}/channels`, `POST /api/v4/channels/direct`.
 */
export const createHandler = (runtime: Runtime) =>
  httpHandler(
    'channels',
    async (request, rt) => {
      const caller = await authenticate(rt, request.headers.authorization);
      const parameters = request.pathParameters;
      const includeDeleted = queryFlag(request.query, 'include_deleted');
      switch (request.routeKey) {
        case 'GET /api/v4/channels/{channel_id}':
          return json(200, await getChannel(rt, caller, parameters.channel_id ?? ''));
        case 'GET /api/v4/teams/{team_id}/channels/name/{channel_name}':
          return json(200, await getChannelByName(rt, caller, parameters.team_id ?? '', parameters.channel_name ?? '', includeDeleted));
        case 'GET /api/v4/teams/name/{team_name}/channels/name/{channel_name}':
          return json(200, await getChannelByNameAndTeamName(rt, caller, parameters.team_name ?? '', parameters.channel_name ?? '', includeDeleted));
        case 'GET /api/v4/users/{user_id}/teams/{team_id}/channels':
          return json(200, await getChannelsForTeamForUser(rt, caller, parameters.user_id ?? '', parameters.team_id ?? '', includeDeleted));
        case 'POST /api/v4/channels/direct':
          return json(201, await createDirectChannel(rt, caller, parseJsonBody(request.body, 'user_ids')));
        default:
          throw errors.notFoundRoute();
      }
    },
    runtime,
  );

export const handler = createHandler(runtimeFromEnv());
