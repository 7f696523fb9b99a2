import { authenticate } from '../lib/auth.js';
import { errors } from '../lib/errors.js';
import { httpHandler, json } from '../lib/http/handler.js';
import { isValidId } from '../lib/ids.js';
import { runtimeFromEnv, type Runtime } from '../lib/runtime.js';

/**
 * `GET /api/v4/teams/{team_id}/commands/autocomplete`: the team's commands offered for
 * autocomplete, sanitized as Mattermost's `Command.Sanitize` (no token, URL, method or creator).
 */
export const createHandler = (runtime: Runtime) =>
  httpHandler(
    'commands-autocomplete',
    async (request, rt) => {
      const user = await authenticate(rt, request.headers.authorization);
      const teamId = request.pathParameters.team_id ?? '';
      if (!isValidId(teamId)) throw errors.invalidUrlParam('team_id');
      if (!(await rt.entities.isTeamMember(teamId, user.id))) throw errors.permissions();
      const commands = (await rt.entities.listCommandsOfTeam(teamId))
        .filter((command) => command.auto_complete && command.delete_at === 0)
        .sort((a, b) => a.trigger.localeCompare(b.trigger))
        .map(({ url: _url, method: _method, creator_id: _creator, username: _username, icon_url: _icon, ...rest }) => ({
          ...rest,
          token: '',
          creator_id: '',
          method: '',
          url: '',
          username: '',
          icon_url: '',
        }));
      return json(200, commands);
    },
    runtime,
  );

export const handler = createHandler(runtimeFromEnv());
