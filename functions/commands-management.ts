import { decodeUtf8 } from '../lib/http/body.js';
import { GoJsonError, parseGoJson } from '../lib/http/go-json.js';
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

/** The body's first JSON value, as Go's `json.NewDecoder(r.Body).Decode` reads it; else the 400 naming `name`. */
function jsonBody(body: Buffer, name: string): unknown {
  try {
    return parseGoJson(decodeUtf8(body), { trailing: 'ignore', empty: 'refuse' });
  } catch (error) {
    if (error instanceof GoJsonError) throw errors.invalidBodyParam(name);
    throw error;
  }
}

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
          return json(201, await createCommand(rt, caller, decodeCommandBody(jsonBody(request.body, 'command'))));
        case 'GET /api/v4/commands':
          return json(200, await listCommands(rt, caller, request.query));
        case 'GET /api/v4/commands/{command_id}':
          return json(200, await getCommand(rt, caller, commandId));
        case 'PUT /api/v4/commands/{command_id}':
          return json(200, await updateCommand(rt, caller, commandId, () => jsonBody(request.body, 'command')));
        case 'PUT /api/v4/commands/{command_id}/move':
          return json(200, await moveCommand(rt, caller, commandId, () => jsonBody(request.body, 'team_id')));
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
