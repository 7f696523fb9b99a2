import { errors } from '../lib/errors.js';
import { httpHandler, json } from '../lib/http/handler.js';
import { isValidId } from '../lib/ids.js';
import { autocompleteCommands, autocompleteSuggestions } from '../lib/integrations/commands.js';
import { callerFromRequest, requireTeamPermission } from '../lib/permissions.js';
import { runtimeFromEnv, type Runtime } from '../lib/runtime.js';

/**
 * `GET /api/v4/teams/{team_id}/commands/autocomplete_suggestions`: the suggestions for what the
 * user typed (lib/integrations/commands.ts `autocompleteSuggestions`).
 *
 * `GET /api/v4/teams/{team_id}/commands/autocomplete`: Mattermost's `ListAutocompleteCommands`,
 * the listed built-in commands and the team's custom commands with `auto_complete`, sanitized as
 * `Command.Sanitize` (no token, URL, method or creator). Read from the store, so a deleted or
 * moved command leaves the list at once.
 */
export const createHandler = (runtime: Runtime) =>
  httpHandler(
    'commands-autocomplete',
    async (request, rt) => {
      const caller = await callerFromRequest(rt, request);
      const teamId = request.pathParameters.team_id ?? '';
      if (!isValidId(teamId)) throw errors.invalidUrlParam('team_id');
      await requireTeamPermission(rt, caller, teamId, 'view_team');
      if (request.routeKey === 'GET /api/v4/teams/{team_id}/commands/autocomplete_suggestions') {
        return json(200, await autocompleteSuggestions(rt, teamId, request.query.get('user_input') ?? ''));
      }
      return json(200, await autocompleteCommands(rt, teamId));
    },
    runtime,
  );

export const handler = createHandler(runtimeFromEnv());
