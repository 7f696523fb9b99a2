import { parseJsonBody } from '../lib/http/body.js';
import { httpHandler, json } from '../lib/http/handler.js';
import { errors } from '../lib/errors.js';
import {
  createCommand,
  decodeCommandBody,
  deleteCommand,
  getCommand,
  listCommands,
  moveCommand,
  regenCommandToken,
  updateCommand,
} from '../lib/integrations/commands.js';
import { callerFromRequest } from '../lib/permissions.js';
import { runtimeFromEnv, type Runtime } from '../lib/runtime.js';

/**
 * Slash command management (docs/management-commands.md): `POST|GET /api/v4/commands`,
 * `GET|PUT|DELETE /api/v4/commands/{command_id}`, `PUT .../move`, `PUT .../regen_token`.
 * `POST /api/v4/commands/execute` is a literal route of its own (executeCommand), which API
 * Gateway and the local gateway prefer to `{command_id}`.
 */
export const createHandler = (runtime: Runtime) =>
  httpHandler(
    'commands-management',
    async (request, rt) => {
      const caller = await callerFromRequest(rt, request);
      const commandId = request.pathParameters.command_id ?? '';
      switch (request.routeKey) {
        case 'POST /api/v4/commands':
          return json(201, await createCommand(rt, caller, decodeCommandBody(parseJsonBody(request.body, 'command'))));
        case 'GET /api/v4/commands':
          return json(200, await listCommands(rt, caller, request.query));
        case 'GET /api/v4/commands/{command_id}':
          return json(200, await getCommand(rt, caller, commandId));
        case 'PUT /api/v4/commands/{command_id}':
          return json(200, await updateCommand(rt, caller, commandId, () => parseJsonBody(request.body, 'command')));
        case 'PUT /api/v4/commands/{command_id}/move':
          return json(200, await moveCommand(rt, caller, commandId, () => parseJsonBody(request.body, 'team_id')));
        case 'PUT /api/v4/commands/{command_id}/regen_token':
          return json(200, await regenCommandToken(rt, caller, commandId));
        case 'DELETE /api/v4/commands/{command_id}':
          return json(200, await deleteCommand(rt, caller, commandId));
        default:
          throw errors.notFoundRoute();
      }
    },
    runtime,
  );

export const handler = createHandler(runtimeFromEnv());
