/**
 * Mattermost's `Command.IsValid` as pure functions, with its error ids: the management API runs it
 * on create and update, the CLI through the same use cases, and the seed reports every failing
 * field of a file's command. Lengths are UTF-8 bytes, as Go's `len`.
 */
import { AppError } from '../errors.js';
import { isValidId } from '../ids.js';
import { MAX_TRIGGER_LENGTH } from '../limits.js';
import type { Command } from '../model.js';
import { byteLength, isValidHttpUrl } from '../validation.js';

export const MIN_TRIGGER_BYTES = 1;
export const MAX_TRIGGER_BYTES = MAX_TRIGGER_LENGTH;
export const MAX_COMMAND_URL_BYTES = 1024;
export const MAX_COMMAND_DISPLAY_NAME_BYTES = 64;
export const MAX_COMMAND_DESCRIPTION_BYTES = 128;
/**
 * Mattermost has no model limit on these; its database columns do (username 64, the others
 * 1024), and an over-long value fails there with a 500. Hookline refuses it here with a 400.
 */
export const MAX_COMMAND_USERNAME_BYTES = 64;
export const MAX_COMMAND_ICON_URL_BYTES = 1024;
export const MAX_COMMAND_AUTOCOMPLETE_BYTES = 1024;
export const COMMAND_TOKEN_BYTES = 26;

const invalid = (field: string, message: string) => new AppError(`model.command.is_valid.${field}.app_error`, message, 400);

/** The fields of a command a client or an operator chooses. */
export type CommandFields = Pick<
  Command,
  'trigger' | 'url' | 'method' | 'display_name' | 'description' | 'username' | 'icon_url' | 'auto_complete_desc' | 'auto_complete_hint'
>;

export interface CommandProblem {
  /** The field at fault, as the JSON names it. */
  field: keyof CommandFields | 'token';
  error: AppError;
}

/**
 * ASCII letters, digits and `_ . - /`, not starting with `/`, 1 to 128 bytes: the newest
 * Mattermost's rule (its tests refuse spaces, tabs, `?`, `*`, NUL and anything non-ASCII).
 */
export function isValidCommandTrigger(trigger: string): boolean {
  const bytes = byteLength(trigger);
  return bytes >= MIN_TRIGGER_BYTES && bytes <= MAX_TRIGGER_BYTES && /^[A-Za-z0-9_.\-][A-Za-z0-9_.\-/]*$/.test(trigger);
}

/** A command URL: non-empty, at most 1024 bytes (`url`), then http(s) with a host (`url_http`). */
function urlProblem(url: string): AppError | undefined {
  if (url === '' || byteLength(url) > MAX_COMMAND_URL_BYTES) return invalid('url', 'Invalid URL.');
  if (!isValidHttpUrl(url)) return invalid('url_http', 'Invalid URL. Must be a valid URL and start with http:// or https://.');
  return undefined;
}

/** Every rule the chosen fields break, in `Command.IsValid`'s order (then Hookline's column limits). */
export function commandFieldProblems(fields: CommandFields): CommandProblem[] {
  const problems: CommandProblem[] = [];
  const add = (field: CommandProblem['field'], error: AppError | undefined) => {
    if (error) problems.push({ field, error });
  };
  add('trigger', isValidCommandTrigger(fields.trigger) ? undefined : invalid('trigger', 'Invalid trigger.'));
  add('url', urlProblem(fields.url));
  add('method', fields.method === 'P' || fields.method === 'G' ? undefined : invalid('method', 'Invalid method.'));
  const tooLong = (field: keyof CommandFields, max: number, message: string) =>
    add(field, byteLength(String(fields[field])) > max ? invalid(field, message) : undefined);
  tooLong('display_name', MAX_COMMAND_DISPLAY_NAME_BYTES, 'Invalid title.');
  tooLong('description', MAX_COMMAND_DESCRIPTION_BYTES, 'Invalid description.');
  tooLong('username', MAX_COMMAND_USERNAME_BYTES, 'Invalid username.');
  tooLong('icon_url', MAX_COMMAND_ICON_URL_BYTES, 'Invalid icon URL.');
  tooLong('auto_complete_desc', MAX_COMMAND_AUTOCOMPLETE_BYTES, 'Invalid autocomplete description.');
  tooLong('auto_complete_hint', MAX_COMMAND_AUTOCOMPLETE_BYTES, 'Invalid autocomplete hint.');
  return problems;
}

/** The token rule: exactly 26 bytes (Mattermost generates one only when the client sent none). */
export function tokenProblem(token: string): CommandProblem | undefined {
  return byteLength(token) === COMMAND_TOKEN_BYTES ? undefined : { field: 'token', error: invalid('token', 'Invalid token.') };
}

/**
 * `Command.IsValid`: throws the first rule the command breaks, as a 400 with Mattermost's id.
 * Hookline commands always have a creator (no plugins register commands here).
 */
export function validateCommand(command: Command, token: string): void {
  if (!isValidId(command.id)) throw invalid('id', 'Invalid Id.');
  const badToken = tokenProblem(token);
  if (badToken) throw badToken.error;
  if (command.create_at === 0) throw invalid('create_at', 'Create at must be a valid time.');
  if (command.update_at === 0) throw invalid('update_at', 'Update at must be a valid time.');
  if (!isValidId(command.creator_id)) throw invalid('user_id', 'Invalid user id.');
  if (!isValidId(command.team_id)) throw invalid('team_id', 'Invalid team id.');
  const [first] = commandFieldProblems(command);
  if (first) throw first.error;
}
