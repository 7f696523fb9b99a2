/**
 * Interactive dialogs (Mattermost's `OpenInteractiveDialog`, `SubmitInteractiveDialog` and
 * `LookupInteractiveDialog`):
 * - an integration opens a dialog for the user who clicked its button or ran its command, with the
 *   signed trigger id it got (lib/integrations/trigger-id.ts); no session, the trigger id is the
 *   credential. The dialog goes to every websocket connection of that user as `open_dialog`.
 * - the user's client submits it (or cancels it, or asks a dynamic select for options); Hookline
 *   forwards that to the dialog's URL through the one integration caller and hands back the
 *   integration's `error`/`errors`, as Mattermost does, with HTTP 200.
 *
 * Hookline's differences, both so that an integration can trust what reaches it: submissions and
 * lookups are signed (Standard Webhooks, with the deployment's action signing secret), and they
 * are accepted only for a URL of a dialog opened for that user within OPENED_DIALOG_TTL_SECONDS
 * (Mattermost forwards any URL any user names). A client that submits a dialog it was shown is
 * never refused.
 */
import * as z from '../zod.js';
import { AppError, errors } from '../errors.js';
import { decodeUtf8 } from '../http/body.js';
import { decodeGoJsonObject, goBool, goString, GoJsonError, isPlainObject } from '../http/go-json.js';
import { hashToken, isValidId } from '../ids.js';
import { canReadChannel, hasTeamPermission, type Caller } from '../permissions.js';
import type { Runtime } from '../runtime.js';
import { callIntegration, IntegrationCallError } from './call.js';
import { dialogProblems, isValidLookupUrl, isValidSubmitResponse, type Dialog, type SubmitDialogResponse } from './dialog.js';
import { verifyTriggerId } from './trigger-id.js';

/** How long a user may take to fill in an opened dialog; Mattermost sets no limit. */
export const OPENED_DIALOG_TTL_SECONDS = 24 * 3600;
/** The lookup URLs of one dialog that are remembered (one transaction holds 100 items, one is the submit URL). */
const MAX_REMEMBERED_LOOKUP_URLS = 99;

const dialogBody = () => errors.invalidBodyParam('dialog');
const urlBody = () => errors.invalidBodyParam('url');

const openRequestSchema = z.object({
  trigger_id: goString,
  url: goString,
  dialog: z.pipe(
    z.nullish(z.record(z.string(), z.unknown())),
    z.transform((value: Record<string, unknown> | null | undefined) => (value ?? {}) as Dialog),
  ),
});

function decodeBody<S extends z.ZodMiniType>(body: Buffer, keys: readonly string[], schema: S): z.output<S> {
  try {
    return decodeGoJsonObject(decodeUtf8(body), keys, schema, { trailing: 'ignore', empty: 'refuse', null: 'zero' })!;
  } catch (error) {
    if (error instanceof GoJsonError) throw dialogBody();
    throw error;
  }
}

/** The dialog for the websocket's `open_dialog` event: the request, with the client's trigger id. */
export interface OpenedDialog {
  userId: string;
  request: { trigger_id: string; url: string; dialog: Dialog } & Record<string, unknown>;
}

/**
 * `POST /api/v4/actions/dialogs/open`. The dialog's problems are logged, never refused, as in
 * Mattermost; the caller publishes the returned event to the user.
 */
export async function openDialog(runtime: Runtime, body: Buffer): Promise<OpenedDialog> {
  const request = decodeBody(body, ['trigger_id', 'url', 'dialog'], openRequestSchema);
  if (request.url === '') throw urlBody();
  const secret = (await runtime.directory.actionSigningSecret()) ?? '';
  const nowMs = runtime.nowMs();
  const { clientTriggerId, userId } = verifyTriggerId(secret, request.trigger_id, nowMs, runtime.config.outgoingRequestsTimeoutMs);
  const problems = dialogProblems(request);
  if (problems.length > 0) runtime.logger.warn('Interactive dialog is invalid', { problems: problems.slice(0, 20) });
  const elements = Array.isArray(request.dialog.elements) ? request.dialog.elements : [];
  const lookupUrls = [
    ...new Set(
      elements.flatMap((element) =>
        isPlainObject(element) && element.data_source === 'dynamic' && typeof element.data_source_url === 'string' ? [element.data_source_url] : [],
      ),
    ),
  ].slice(0, MAX_REMEMBERED_LOOKUP_URLS);
  await runtime.entities.putOpenedDialog(
    userId,
    [{ purpose: 'submit', urlHash: hashToken(request.url) }, ...lookupUrls.map((url) => ({ purpose: 'lookup' as const, urlHash: hashToken(url) }))],
    Math.floor(nowMs / 1000) + OPENED_DIALOG_TTL_SECONDS,
  );
  return { userId, request: { trigger_id: clientTriggerId, url: request.url, dialog: request.dialog } };
}

const submitRequestSchema = z.object({
  url: goString,
  callback_id: goString,
  state: goString,
  user_id: goString,
  channel_id: goString,
  team_id: goString,
  submission: z.pipe(
    z.nullish(z.record(z.string(), z.unknown())),
    z.transform((value: Record<string, unknown> | null | undefined) => ({ ...(value ?? {}) })),
  ),
  cancelled: goBool,
  type: goString,
});
const SUBMIT_KEYS = ['url', 'callback_id', 'state', 'user_id', 'channel_id', 'team_id', 'submission', 'cancelled', 'type'] as const;

const integrationError = (detail: string, status = 400) =>
  new AppError('api.post.do_action.action_integration.app_error', 'Action integration error.', status, detail);

/** Mattermost's newest mapping of an integration's status: throttling and unavailability pass through, other 5xx are a bad gateway. */
function statusError(status: number): AppError {
  if (status === 429 || status === 503) return integrationError(`status=${status}`, status);
  if (status >= 500) return integrationError(`status=${status}`, 502);
  return integrationError(`status=${status}`);
}

/**
 * The checks submit and lookup share, in Mattermost's order: the channel exists (404) and the
 * caller may read it (403); the team is the channel's, and the caller needs `view_team` there when
 * it has one (a direct channel has none). Then Hookline's: a dialog with that URL was opened for
 * the caller (403 otherwise). Answers the request as the integration receives it.
 */
async function forwardedRequest(runtime: Runtime, caller: Caller, body: Buffer, purpose: 'submit' | 'lookup') {
  const request = decodeBody(body, SUBMIT_KEYS, submitRequestSchema);
  if (request.url === '' || (purpose === 'lookup' && !isValidLookupUrl(request.url))) throw urlBody();
  const channel = isValidId(request.channel_id) ? await runtime.directory.channel(request.channel_id) : undefined;
  if (!channel || channel.delete_at !== 0) throw new AppError('app.channel.get.existing.app_error', 'Unable to find the existing channel.', 404);
  if (!(await canReadChannel(runtime, caller, channel))) throw errors.permissions();
  if (channel.team_id !== '' && !(await hasTeamPermission(runtime, caller, channel.team_id, 'view_team'))) throw errors.permissions();
  const open = await runtime.entities.isDialogOpen(caller.user.id, purpose, hashToken(request.url), Math.floor(runtime.nowMs() / 1000));
  if (!open) {
    throw new AppError('api.dialog.not_opened.app_error', 'No dialog with this URL was opened for you, or it has expired.', 403);
  }
  if (request.url.startsWith('/plugins/')) throw new AppError('api.dialog.plugin_not_found.app_error', 'Hookline runs no plugins.', 404);
  const { url, ...rest } = request;
  return {
    url,
    // The integration gets the struct with its URL emptied, as Mattermost sends it.
    payload: {
      url: '',
      ...rest,
      type: purpose === 'lookup' ? 'dialog_lookup' : 'dialog_submission',
      user_id: caller.user.id,
      team_id: channel.team_id,
    },
  };
}

async function call(runtime: Runtime, url: string, payload: Record<string, unknown>) {
  const body = JSON.stringify(payload);
  const signingSecret = await runtime.directory.actionSigningSecret();
  try {
    return await callIntegration(runtime, {
      kind: 'dialog',
      url,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      signingSecret,
      messageId: `${payload.type}_${hashToken(body).slice(0, 26)}`,
    });
  } catch (error) {
    if (!(error instanceof IntegrationCallError)) throw error;
    if (error.failure === 'status' && error.response) throw statusError(error.response.status);
    throw integrationError(error.failure === 'timeout' ? 'context deadline exceeded' : error.message);
  }
}

/** The integration's answer as JSON, or undefined when it sent none or something that is not a JSON object. */
function answerObject(body: Buffer): Record<string, unknown> | undefined {
  const text = body.toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return isPlainObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `POST /api/v4/actions/dialogs/submit`. The integration's validation answer comes back with 200:
 * `error` above the fields, `errors` on them. An answer that is not JSON reads as `{}` (success),
 * as in Mattermost's stable releases; a JSON answer that is not a valid `SubmitDialogResponse` is a 400.
 */
export async function submitDialog(runtime: Runtime, caller: Caller, body: Buffer): Promise<SubmitDialogResponse> {
  const { url, payload } = await forwardedRequest(runtime, caller, body, 'submit');
  const response = await call(runtime, url, payload);
  if (response.truncated) throw integrationError('the answer is longer than 1 MiB');
  const answer = answerObject(response.body) ?? {};
  const result: SubmitDialogResponse = {};
  if (typeof answer.error === 'string' && answer.error !== '') result.error = answer.error;
  if (isPlainObject(answer.errors)) {
    const fieldErrors = Object.fromEntries(Object.entries(answer.errors).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
    if (Object.keys(fieldErrors).length > 0) result.errors = fieldErrors;
  }
  if (typeof answer.type === 'string' && answer.type !== '') result.type = answer.type;
  if (isPlainObject(answer.form)) result.form = answer.form as Dialog;
  if (!isValidSubmitResponse(result)) {
    throw new AppError('app.submit_interactive_dialog.invalid_response', 'The integration answered the dialog with an invalid response.', 400);
  }
  return result;
}

/** `POST /api/v4/actions/dialogs/lookup`: the options of a dynamic select, `{"items":[{text,value}]}`. */
export async function lookupDialog(runtime: Runtime, caller: Caller, body: Buffer): Promise<{ items: Array<{ text: string; value: string }> }> {
  const { url, payload } = await forwardedRequest(runtime, caller, body, 'lookup');
  const response = await call(runtime, url, payload);
  if (response.truncated) throw integrationError('the answer is longer than 1 MiB');
  if (response.body.toString('utf8').trim() === '') return { items: [] };
  const answer = answerObject(response.body);
  if (!answer) throw new AppError('app.lookup_interactive_dialog.decode_json_error', 'The integration answered the lookup with invalid JSON.', 400);
  const items = Array.isArray(answer.items) ? answer.items : [];
  return {
    items: items.flatMap((item) =>
      isPlainObject(item) && typeof item.text === 'string' && typeof item.value === 'string' ? [{ text: item.text, value: item.value }] : [],
    ),
  };
}
