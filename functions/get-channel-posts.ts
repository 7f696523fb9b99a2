import { authenticate } from '../lib/auth.js';
import { httpHandler, json } from '../lib/http/handler.js';
import { getChannelPosts, parseChannelPostsQuery } from '../lib/posts/service.js';
import { runtimeFromEnv, type Runtime } from '../lib/runtime.js';

/** `GET /api/v4/channels/{channel_id}/posts`. */
export const createHandler = (runtime: Runtime) =>
  httpHandler(
    'get-channel-posts',
    async (request, rt) => {
      const user = await authenticate(rt, request.headers.authorization);
      const query = parseChannelPostsQuery(request.query);
      return json(200, await getChannelPosts(rt, user, request.pathParameters.channel_id ?? '', query));
    },
    runtime,
  );

export const handler = createHandler(runtimeFromEnv());
