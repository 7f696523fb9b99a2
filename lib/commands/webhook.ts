import { AppError } from '../errors.js';
import { isValidId } from '../ids.js';
import type { Runtime } from '../runtime.js';
import { COMMAND_WEBHOOK_LIFETIME_MS, COMMAND_WEBHOOK_MAX_USES } from './execute.js';
import { CommandResponseError, decodeCommandResponse, handleCommandResponse } from './response.js';

/**
 * `POST /hooks/commands/{id}`, a command's `response_url`: the body parsed first
 * (a bad body costs no use), then the hook (404 once 30 minutes have passed), then one use counted
 * atomically (400 after five), then the answer handled as the command's own answer was.
 */
export async function handleCommandWebhook(runtime: Runtime, hookId: string, contentType: string | undefined, body: Buffer): Promise<void> {
  let answer;
  try {
    answer = decodeCommandResponse(contentType, body);
  } catch (error) {
    if (!(error instanceof CommandResponseError)) throw error;
    throw new AppError('web.command_webhook.parse.app_error', `Unable to parse incoming data for webhook ${hookId}.`, 400);
  }
  // Only a Mattermost id can name a response_url; anything else is unknown, without a lookup.
  const hook = isValidId(hookId) ? await runtime.entities.getCommandWebhook(hookId) : undefined;
  if (!hook || hook.create_at <= runtime.nowMs() - COMMAND_WEBHOOK_LIFETIME_MS) {
    throw new AppError('app.command_webhook.get.missing', 'Unable to get the webhook.', 404);
  }
  const command = await runtime.entities.getCommand(hook.command_id);
  if (!command || command.delete_at !== 0) throw new AppError('web.command_webhook.command.app_error', "Couldn't find the command.", 400);
  if (!(await runtime.entities.tryUseCommandWebhook(hookId, COMMAND_WEBHOOK_MAX_USES))) {
    throw new AppError('app.command_webhook.try_use.invalid', 'Invalid webhook: it has been used too many times.', 400);
  }
  await handleCommandResponse(runtime, command, { source: 'command_response_url', userId: hook.user_id, channelId: hook.channel_id, teamId: command.team_id, rootId: hook.root_id }, answer);
}
