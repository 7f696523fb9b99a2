import { errors } from '../lib/errors.js';
import { httpHandler } from '../lib/http/handler.js';
import { matchPath, routes } from '../lib/routes.js';
import { edgeRuntimeFromEnv, type EdgeRuntime } from '../lib/edge-runtime.js';

/** API Gateway's `$default` route: 405 for a known path with another method, else 404. */
export const createHandler = (runtime: EdgeRuntime) =>
  httpHandler(
    'not-found',
    async (request) => {
      const pathKnown = routes.some((route) => matchPath(route.path, request.path) !== undefined);
      throw pathKnown ? errors.methodNotAllowed() : errors.notFoundRoute();
    },
    runtime,
  );

export const handler = createHandler(edgeRuntimeFromEnv());
