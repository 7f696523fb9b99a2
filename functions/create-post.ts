import { authenticate } from '../lib/auth.js';
import { errors } from '../lib/errors.js';
import { parseJsonBody } from '../lib/http/body.js';
import { httpHandler, json } from '../lib/http/handler.js';
import { createPostBodySchema, createUserPost } from '../lib/posts/service.js';
import { runtimeFromEnv, type Runtime } from '../lib/runtime.js';

/** `POST /api/v4/posts`. */
export const createHandler = (runtime: Runtime) =>
  httpHandler(
    'create-post',
    async (request, rt) => {
      const user = await authenticate(rt, request.headers.authorization);
      const body = createPostBodySchema.safeParse(parseJsonBody(request.body, 'post'));
      if (!body.success) throw errors.invalidBodyParam('post');
      return json(201, await createUserPost(rt, user, body.data));
    },
    runtime,
  );

export const handler = createHandler(runtimeFromEnv());
