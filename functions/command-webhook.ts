import { handleCommandWebhook } from '../lib/commands/webhook.js';
import { errors } from '../lib/errors.js';
import { httpHandler, text } from '../lib/http/handler.js';
import { runtimeFromEnv, type Runtime } from '../lib/runtime.js';

/** `POST /hooks/commands/{id}`: a slash command's delayed answers. */
export const createHandler = (runtime: Runtime) =>
  httpHandler(
    'command-webhook',
    async (request, rt) => {
      const id = request.pathParameters.id ?? '';
      if (!/^[A-Za-z0-9]+$/.test(id)) throw errors.notFoundRoute();
      await handleCommandWebhook(rt, id, request.headers['content-type'], request.body);
      return text(200, 'ok');
    },
    runtime,
    { credentialParameters: ['id'] },
  );

export const handler = createHandler(runtimeFromEnv());
