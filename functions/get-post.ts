import { authenticate } from '../lib/auth.js';
import { httpHandler, json } from '../lib/http/handler.js';
import { getPostForUser } from '../lib/posts/service.js';
import { runtimeFromEnv, type Runtime } from '../lib/runtime.js';

/** `GET /api/v4/posts/{post_id}`. */
export const createHandler = (runtime: Runtime) =>
  httpHandler(
    'get-post',
    async (request, rt) => {
      const user = await authenticate(rt, request.headers.authorization);
      return json(200, await getPostForUser(rt, user, request.pathParameters.post_id ?? ''));
    },
    runtime,
  );

export const handler = createHandler(runtimeFromEnv());
