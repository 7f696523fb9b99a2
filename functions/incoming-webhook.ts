import { errors } from '../lib/errors.js';
import { httpHandler, json, text } from '../lib/http/handler.js';
import { runtimeFromEnv, type Runtime } from '../lib/runtime.js';
import { rateLimitHeaders } from '../lib/rate-limit.js';
import { admitIncomingWebhook, handleIncomingWebhook } from '../lib/webhooks/incoming.js';
import { decodeIncomingWebhookBody } from '../lib/webhooks/incoming-request.js';

/** `POST /hooks/{hook_id}`: answers `ok`, or the created post ids with `Prefer: return=representation`. */
export const createHandler = (runtime: Runtime) =>
  httpHandler(
    'incoming-webhook',
    async (request, rt) => {
      const hookId = request.pathParameters.hook_id ?? '';
      // Mattermost's route only matches letters and digits; anything else is no route at all.
      if (!/^[A-Za-z0-9]+$/.test(hookId)) throw errors.notFoundRoute();
      const admitted = await admitIncomingWebhook(rt, hookId);
      // Mattermost's rate limiter answers in plain text, with its headers.
      const limitHeaders = admitted ? rateLimitHeaders(admitted) : {};
      if (admitted && !admitted.allowed) return text(429, 'limit exceeded', limitHeaders);
      const body = await decodeIncomingWebhookBody(request.body, request.headers['content-type'], request.query);
      const posts = await handleIncomingWebhook(rt, hookId, body);
      // Debug level: API Gateway's access log already records every request; this adds the post ids.
      request.log.debug('incoming webhook posted', { post_id: posts[0]?.id, parts: posts.length });
      const wantsPosts =
        rt.config.incomingWebhookReturnPosts || /\breturn=representation\b/i.test(request.headers.prefer ?? '');
      if (!wantsPosts) return text(200, 'ok', limitHeaders);
      const response = json(200, { post_id: posts[0]?.id ?? '', post_ids: posts.map((post) => post.id) });
      response.headers = { ...response.headers, ...limitHeaders, 'preference-applied': 'return=representation' };
      return response;
    },
    runtime,
    { credentialParameters: ['hook_id'] },
  );

export const handler = createHandler(runtimeFromEnv());
