import { authenticate } from '../lib/auth.js';
import { errors } from '../lib/errors.js';
import { parseJsonBody } from '../lib/http/body.js';
import { httpHandler, json } from '../lib/http/handler.js';
import { deletePost, patchPost, updatePost } from '../lib/posts/edit.js';
import { runtimeFromEnv, type Runtime } from '../lib/runtime.js';

/** `PUT /api/v4/posts/{post_id}`, `PUT /api/v4/posts/{post_id}/patch`, `DELETE /api/v4/posts/{post_id}`. */
export const createHandler = (runtime: Runtime) =>
  httpHandler(
    'post-edits',
    async (request, rt) => {
      const user = await authenticate(rt, request.headers.authorization);
      const postId = request.pathParameters.post_id ?? '';
      switch (request.routeKey) {
        case 'PUT /api/v4/posts/{post_id}':
          return json(200, await updatePost(rt, user, postId, parseJsonBody(request.body, 'post')));
        case 'PUT /api/v4/posts/{post_id}/patch':
          return json(200, await patchPost(rt, user, postId, parseJsonBody(request.body, 'post')));
        case 'DELETE /api/v4/posts/{post_id}':
          return json(200, await deletePost(rt, user, postId));
        default:
          throw errors.notFoundRoute();
      }
    },
    runtime,
  );

export const handler = createHandler(runtimeFromEnv());
