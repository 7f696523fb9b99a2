import { performPostAction, actionRequestSchema } from '../lib/actions/perform.js';
import { authenticate } from '../lib/auth.js';
import { errors } from '../lib/errors.js';
import { parseJsonBody } from '../lib/http/body.js';
import { httpHandler, json } from '../lib/http/handler.js';
import { runtimeFromEnv, type Runtime } from '../lib/runtime.js';

/** `POST /api/v4/posts/{post_id}/actions/{action_id}`: a click on a button or a menu choice. */
export const createHandler = (runtime: Runtime) =>
  httpHandler(
    'post-action',
    async (request, rt) => {
      const user = await authenticate(rt, request.headers.authorization);
      const actionId = request.pathParameters.action_id ?? '';
      // Letters, digits, "_" and "-": Mattermost's older route refused the last two, breaking such buttons.
      if (!/^[A-Za-z0-9_-]+$/.test(actionId)) throw errors.notFoundRoute();
      const raw = request.body.length === 0 ? {} : parseJsonBody(request.body, 'action_request');
      const body = actionRequestSchema.safeParse(raw);
      if (!body.success) throw errors.invalidParam('action_request');
      const triggerId = await performPostAction(rt, user, request.pathParameters.post_id ?? '', actionId, body.data);
      return json(200, { status: 'OK', trigger_id: triggerId });
    },
    runtime,
  );

export const handler = createHandler(runtimeFromEnv());
