import { authenticate } from '../lib/auth.js';
import { httpHandler, json } from '../lib/http/handler.js';
import { getPostThread } from '../lib/posts/thread.js';
import { runtimeFromEnv, type Runtime } from '../lib/runtime.js';

/** `GET /api/v4/posts/{post_id}/thread`. */
export const createHandler = (runtime: Runtime) =>
  httpHandler(
    'post-thread',
    async (request, rt) => {
      const user = await authenticate(rt, request.headers.authorization);
      return json(200, await getPostThread(rt, user, request.pathParameters.post_id ?? ''));
    },
    runtime,
  );

export const handler = createHandler(runtimeFromEnv());
