/**
 * The validity rules of incoming and outgoing webhooks, as Mattermost's `IncomingWebhook.IsValid`
 * and `OutgoingWebhook.IsValid` (server/public/model): the same checks, in the same order, with the
 * same error ids, every length counted in UTF-8 bytes as Go's `len`. Pure functions, called by the
 * management API, the operator CLI and the seed, so that the three agree on what a valid hook is.
 *
 * `…Problems` lists every failing check with the field it concerns (the seed reports them all);
 * `assertValid…` throws the first, as Mattermost's `IsValid` returns it (400).
 */
import { AppError } from '../errors.js';
import { isValidId } from '../ids.js';
import type { IncomingWebhook, OutgoingWebhook } from '../model.js';
import { byteLength, isValidHttpUrl, isValidUsername } from '../validation.js';

export const INCOMING_LIMITS = { displayNameBytes: 64, descriptionBytes: 500, usernameBytes: 64, iconUrlBytes: 1024 } as const;
export const OUTGOING_LIMITS = {
  displayNameBytes: 64,
  descriptionBytes: 500,
  contentTypeBytes: 128,
  usernameBytes: 64,
  iconUrlBytes: 1024,
  /** Of Go's `fmt.Sprintf("%s", list)` rendering, `[a b c]`, brackets and spaces included. */
  triggerWordsRenderedBytes: 1024,
  callbackUrlsRenderedBytes: 1024,
  tokenLength: 26,
} as const;

/** A failed check: the hook field it concerns, the offending item of a list, and Mattermost's error for it. */
export interface FieldProblem {
  field: string;
  item?: string;
  error: AppError;
}

const invalid = (id: string, message: string) => new AppError(id, message, 400);

/** Go's `len(fmt.Sprintf("%s", list))`: `[` + the items joined by spaces + `]`, in bytes. */
export function renderedListBytes(list: readonly string[]): number {
  return 2 + list.reduce((total, item) => total + byteLength(item), 0) + Math.max(0, list.length - 1);
}

type IncomingFields = Pick<IncomingWebhook, 'display_name' | 'description' | 'username' | 'icon_url'>;

/** The content checks of `IncomingWebhook.IsValid` (lengths), which the seed also runs on its entries. */
export function incomingWebhookFieldProblems(hook: IncomingFields): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const check = (field: string, failed: boolean, id: string, message: string) => {
    if (failed) problems.push({ field, error: invalid(id, message) });
  };
  check('display_name', byteLength(hook.display_name) > INCOMING_LIMITS.displayNameBytes, 'model.incoming_hook.display_name.app_error', 'Invalid title.');
  check('description', byteLength(hook.description) > INCOMING_LIMITS.descriptionBytes, 'model.incoming_hook.description.app_error', 'Invalid description.');
  check('username', byteLength(hook.username) > INCOMING_LIMITS.usernameBytes, 'model.incoming_hook.username.app_error', 'Invalid username.');
  // No URL syntax check: Mattermost stores `icon` as given.
  check('icon_url', byteLength(hook.icon_url) > INCOMING_LIMITS.iconUrlBytes, 'model.incoming_hook.icon_url.app_error', 'Invalid icon.');
  return problems;
}

/** Every check of `IncomingWebhook.IsValid`, in its order. */
export function incomingWebhookProblems(hook: IncomingWebhook): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const check = (field: string, failed: boolean, id: string, message: string) => {
    if (failed) problems.push({ field, error: invalid(id, message) });
  };
  check('id', !isValidId(hook.id), 'model.incoming_hook.id.app_error', 'Invalid Id.');
  check('create_at', hook.create_at === 0, 'model.incoming_hook.create_at.app_error', 'Create at must be a valid time.');
  check('update_at', hook.update_at === 0, 'model.incoming_hook.update_at.app_error', 'Update at must be a valid time.');
  check('user_id', !isValidId(hook.user_id), 'model.incoming_hook.user_id.app_error', 'Invalid user id.');
  check('channel_id', !isValidId(hook.channel_id), 'model.incoming_hook.channel_id.app_error', 'Invalid channel id.');
  check('team_id', !isValidId(hook.team_id), 'model.incoming_hook.team_id.app_error', 'Invalid team id.');
  return [...problems, ...incomingWebhookFieldProblems(hook)];
}

/**
 * The app-level username rule of `CreateIncomingWebhookForChannel` / `UpdateIncomingWebhook`: a
 * non-empty default username must be a valid Mattermost username.
 */
export function incomingUsernameProblem(username: string): AppError | undefined {
  if (username === '' || isValidUsername(username)) return undefined;
  return invalid('api.incoming_webhook.invalid_username.app_error', 'Invalid username.');
}

export function assertValidIncomingWebhook(hook: IncomingWebhook): void {
  const [first] = incomingWebhookProblems(hook);
  if (first) throw first.error;
}

type OutgoingFields = Pick<
  OutgoingWebhook,
  'trigger_words' | 'trigger_when' | 'callback_urls' | 'display_name' | 'description' | 'content_type' | 'username' | 'icon_url'
>;

/** The content checks of `OutgoingWebhook.IsValid` (everything but ids, token and times), which the seed also runs. */
export function outgoingWebhookFieldProblems(hook: OutgoingFields): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const check = (field: string, failed: boolean, id: string, message: string) => {
    if (failed) problems.push({ field, error: invalid(id, message) });
  };
  const prefix = 'model.outgoing_hook.is_valid';
  check('trigger_words', renderedListBytes(hook.trigger_words) > OUTGOING_LIMITS.triggerWordsRenderedBytes, `${prefix}.words.app_error`, 'Invalid trigger words.');
  check('trigger_words', hook.trigger_words.some((word) => word === ''), `${prefix}.trigger_words.app_error`, 'Invalid trigger words.');
  check(
    'callback_urls',
    hook.callback_urls.length === 0 || renderedListBytes(hook.callback_urls) > OUTGOING_LIMITS.callbackUrlsRenderedBytes,
    `${prefix}.callback.app_error`,
    'Invalid callback urls.',
  );
  for (const url of hook.callback_urls.filter((candidate) => !isValidHttpUrl(candidate))) {
    problems.push({ field: 'callback_urls', item: url, error: invalid(`${prefix}.url.app_error`, 'Invalid callback urls. Each must be a valid URL and start with http:// or https://.') });
  }
  check('display_name', byteLength(hook.display_name) > OUTGOING_LIMITS.displayNameBytes, `${prefix}.display_name.app_error`, 'Invalid title.');
  check('description', byteLength(hook.description) > OUTGOING_LIMITS.descriptionBytes, `${prefix}.description.app_error`, 'Invalid description.');
  check('content_type', byteLength(hook.content_type) > OUTGOING_LIMITS.contentTypeBytes, `${prefix}.content_type.app_error`, 'Invalid value for content_type.');
  // Mattermost reuses the content_type id for a trigger_when above 1 (negative values pass its check;
  // Hookline's decoder refuses them before, since the matcher knows only 0 and 1).
  check('trigger_when', hook.trigger_when > 1, `${prefix}.content_type.app_error`, 'Invalid value for trigger_when.');
  check('username', byteLength(hook.username) > OUTGOING_LIMITS.usernameBytes, 'model.outgoing_hook.username.app_error', 'Invalid username.');
  check('icon_url', byteLength(hook.icon_url) > OUTGOING_LIMITS.iconUrlBytes, 'model.outgoing_hook.icon_url.app_error', 'Invalid icon.');
  return problems;
}

/** Every check of `OutgoingWebhook.IsValid`, in its order; the token is Mattermost's, kept apart in Hookline. */
export function outgoingWebhookProblems(hook: OutgoingWebhook, token: string): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const check = (field: string, failed: boolean, id: string, message: string) => {
    if (failed) problems.push({ field, error: invalid(id, message) });
  };
  const prefix = 'model.outgoing_hook.is_valid';
  check('id', !isValidId(hook.id), `${prefix}.id.app_error`, 'Invalid Id.');
  check('token', !isValidOutgoingToken(token), `${prefix}.token.app_error`, 'Invalid token.');
  check('create_at', hook.create_at === 0, `${prefix}.create_at.app_error`, 'Create at must be a valid time.');
  check('update_at', hook.update_at === 0, `${prefix}.update_at.app_error`, 'Update at must be a valid time.');
  check('creator_id', !isValidId(hook.creator_id), `${prefix}.user_id.app_error`, 'Invalid user id.');
  check('channel_id', hook.channel_id !== '' && !isValidId(hook.channel_id), `${prefix}.channel_id.app_error`, 'Invalid channel id.');
  check('team_id', !isValidId(hook.team_id), `${prefix}.team_id.app_error`, 'Invalid team id.');
  return [...problems, ...outgoingWebhookFieldProblems(hook)];
}

/** Mattermost checks only the length (26 bytes); a client may choose its token. */
export function isValidOutgoingToken(token: string): boolean {
  return byteLength(token) === OUTGOING_LIMITS.tokenLength;
}

export function assertValidOutgoingWebhook(hook: OutgoingWebhook, token: string): void {
  const [first] = outgoingWebhookProblems(hook, token);
  if (first) throw first.error;
}
