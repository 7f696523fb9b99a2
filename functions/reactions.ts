import { authenticate } from '../lib/auth.js';
import { errors } from '../lib/errors.js';
import { parseJsonBody } from '../lib/http/body.js';
import { httpHandler, json } from '../lib/http/handler.js';
import { deleteReaction, getReactions, saveReaction } from '../lib/posts/reactions.js';
import { runtimeFromEnv, type Runtime } from '../lib/runtime.js';

/** `POST /api/v4/reactions`, `DELETE /api/v4/users/{user_id}/posts/{post_id}/reactions/{emoji_name}`, `GET /api/v4/posts/{post_id}/reactions`. */
export const createHandler = (runtime: Runtime) =>
  httpHandler(
    'reactions',
    async (request, rt) => {
      const user = await authenticate(rt, request.headers.authorization);
      const parameters = request.pathParameters;
      switch (request.routeKey) {
        case 'POST /api/v4/reactions':
          return json(200, await saveReaction(rt, user, parseJsonBody(request.body, 'reaction')));
        case 'DELETE /api/v4/users/{user_id}/posts/{post_id}/reactions/{emoji_name}':
          return json(200, await deleteReaction(rt, user, parameters.user_id ?? '', parameters.post_id ?? '', parameters.emoji_name ?? ''));
        case 'GET /api/v4/posts/{post_id}/reactions':
          return json(200, await getReactions(rt, user, parameters.post_id ?? ''));
        default:
          throw errors.notFoundRoute();
      }
    },
    runtime,
  );

export const handler = createHandler(runtimeFromEnv());
