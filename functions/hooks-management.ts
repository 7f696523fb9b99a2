import { errors } from '../lib/errors.js';
import { httpHandler, json } from '../lib/http/handler.js';
import { requireHookId } from '../lib/integrations/hook-common.js';
import {
  createIncomingHook,
  decodeIncomingHook,
  deleteIncomingHook,
  getIncomingHook,
  listIncomingHooks,
  moveIncomingHook,
  updateIncomingHook,
} from '../lib/integrations/incoming-hooks.js';
import {
  createOutgoingHook,
  decodeOutgoingHook,
  deleteOutgoingHook,
  getOutgoingHook,
  listOutgoingHooks,
  regenOutgoingHookToken,
  rotateOutgoingHookSigningSecret,
  updateOutgoingHook,
} from '../lib/integrations/outgoing-hooks.js';
import { callerFromRequest } from '../lib/permissions.js';
import { pagingFromQuery, parseBoolParam } from '../lib/rest/paging.js';
import { runtimeFromEnv, type Runtime } from '../lib/runtime.js';

/**
 * The hook management routes, `/api/v4/hooks/incoming[...]` and `/api/v4/hooks/outgoing[...]`
 * (docs/management-hooks.md). Path ids are checked before bodies are decoded, as in Mattermost.
 */
export const createHandler = (runtime: Runtime) =>
  httpHandler(
    'hooksManagement',
    async (request, rt) => {
      const caller = await callerFromRequest(rt, request);
      const hookId = request.pathParameters.hook_id ?? '';
      const query = request.query;
      switch (request.routeKey) {
        case 'POST /api/v4/hooks/incoming':
          return json(201, await createIncomingHook(rt, caller, decodeIncomingHook(request.body)));
        case 'GET /api/v4/hooks/incoming':
          return json(200, await listIncomingHooks(rt, caller, { teamId: query.get('team_id') ?? '', includeTotalCount: parseBoolParam(query.get('include_total_count')), ...pagingFromQuery(query) }));
        case 'GET /api/v4/hooks/incoming/{hook_id}':
          return json(200, await getIncomingHook(rt, caller, hookId));
        case 'PUT /api/v4/hooks/incoming/{hook_id}':
          requireHookId(hookId);
          // 201, not 200: Mattermost's answer to this update.
          return json(201, await updateIncomingHook(rt, caller, hookId, decodeIncomingHook(request.body)));
        case 'DELETE /api/v4/hooks/incoming/{hook_id}':
          return json(200, await deleteIncomingHook(rt, caller, hookId));
        case 'POST /api/v4/hooks/incoming/{hook_id}/move/{user_id}':
          return json(200, await moveIncomingHook(rt, caller, hookId, request.pathParameters.user_id ?? ''));
        case 'POST /api/v4/hooks/outgoing':
          return json(201, await createOutgoingHook(rt, caller, decodeOutgoingHook(request.body)));
        case 'GET /api/v4/hooks/outgoing':
          return json(200, await listOutgoingHooks(rt, caller, { channelId: query.get('channel_id') ?? '', teamId: query.get('team_id') ?? '', ...pagingFromQuery(query) }));
        case 'GET /api/v4/hooks/outgoing/{hook_id}':
          return json(200, await getOutgoingHook(rt, caller, hookId));
        case 'PUT /api/v4/hooks/outgoing/{hook_id}':
          requireHookId(hookId);
          return json(200, await updateOutgoingHook(rt, caller, hookId, decodeOutgoingHook(request.body)));
        case 'DELETE /api/v4/hooks/outgoing/{hook_id}':
          return json(200, await deleteOutgoingHook(rt, caller, hookId));
        case 'POST /api/v4/hooks/outgoing/{hook_id}/regen_token':
          return json(200, await regenOutgoingHookToken(rt, caller, hookId));
        case 'POST /api/v4/hooks/outgoing/{hook_id}/rotate_signing_secret':
          return json(200, await rotateOutgoingHookSigningSecret(rt, caller, hookId));
        default:
          throw errors.notFoundRoute();
      }
    },
    runtime,
    // An incoming hook's id is the secret of its URL: logs carry its hash only.
    { credentialParameters: ['hook_id'] },
  );

export const handler = createHandler(runtimeFromEnv());
