import { authenticate } from '../lib/auth.js';
import { executeCommand, commandArgsSchema } from '../lib/commands/execute.js';
import { AppError, errors } from '../lib/errors.js';
import { parseJsonBody } from '../lib/http/body.js';
import { httpHandler, json } from '../lib/http/handler.js';
import { runtimeFromEnv, type Runtime } from '../lib/runtime.js';

/** `POST /api/v4/commands/execute`. */
export const createHandler = (runtime: Runtime) =>
  httpHandler(
    'execute-command',
    async (request, rt) => {
      const user = await authenticate(rt, request.headers.authorization);
      const args = commandArgsSchema.safeParse(parseJsonBody(request.body, 'command_args'));
      if (!args.success) throw errors.invalidParam('command_args');
      // Never the request's Host: a caller could point response_url, and the answers it carries, at any host.
      const siteUrl = rt.config.siteUrl;
      if (!siteUrl) throw new AppError('api.command.execute_command.site_url.app_error', 'SITE_URL is not configured.', 500);
      return json(200, await executeCommand(rt, { user, siteUrl }, args.data));
    },
    runtime,
  );

export const handler = createHandler(runtimeFromEnv());
