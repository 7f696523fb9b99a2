import { errors } from '../lib/errors.js';
import { httpHandler, json } from '../lib/http/handler.js';
import { callerFromRequest } from '../lib/permissions.js';
import { pagingFromQuery } from '../lib/rest/paging.js';
import { deliveryLog, redeliver } from '../lib/webhooks/delivery-log.js';
import { createOutgoingRuntime, type OutgoingRuntime } from '../lib/webhooks/outgoing-runtime.js';
import { runtimeFromEnv, type Runtime } from '../lib/runtime.js';

/**
 * An outgoing hook's delivery log and redelivery (Hookline's extension, docs/management-hooks.md):
 * `GET /api/v4/hooks/outgoing/{hook_id}/deliveries` and
 * `POST /api/v4/hooks/outgoing/{hook_id}/deliveries/{delivery_id}/redeliver`.
 */
export const createHandler = (runtime: Runtime) => {
  let outgoing: OutgoingRuntime | undefined;
  return httpHandler(
    'deliveryLog',
    async (request, rt) => {
      const caller = await callerFromRequest(rt, request);
      outgoing ??= createOutgoingRuntime(rt);
      const hookId = request.pathParameters.hook_id ?? '';
      switch (request.routeKey) {
        case 'GET /api/v4/hooks/outgoing/{hook_id}/deliveries':
          return json(200, await deliveryLog(outgoing, caller, hookId, pagingFromQuery(request.query)));
        case 'POST /api/v4/hooks/outgoing/{hook_id}/deliveries/{delivery_id}/redeliver':
          return json(201, await redeliver(outgoing, caller, hookId, request.pathParameters.delivery_id ?? ''));
        default:
          throw errors.notFoundRoute();
      }
    },
    runtime,
  );
};

export const handler = createHandler(runtimeFromEnv());
