/**
 * Slash command management, as Mattermost's `api4/command.go` and `app/command.go` do it: create,
 * list, get, update, move, regenerate the token, delete. The HTTP routes (functions/commands-management.ts)
 * and the operator CLI (infra/ctl/command.ts) call these with their `Caller`. Reads go to the store,
 * never the per-instance cache; a command's trigger pointer changes in the same transaction as the
 * command (lib/store/entities.ts). Execution reads commands through the Directory, so it sees a
 * change within ENTITY_CACHE_TTL_SECONDS.
 *
 * Mattermost hides commands a caller may not manage behind a 404 (`store.sql_command.save.get.app_error`),
 * also when commands are disabled; only a missing `manage_others_slash_commands` is a 403.
 */
import { audited as auditedChange } from '../audit.js';
import { isBuiltInTrigger, listedBuiltInCommands } from '../commands/built-in.js';
import { commandForClient, commandPresentation, sanitizedCommand, type ClientCommand } from '../commands/for-client.js';
import { AppError, errors, truncateUtf8 } from '../errors.js';
import { decodeGoObject, goBool, goString } from '../http/go-json.js';
import { isValidId, newId, newSigningSecret } from '../ids.js';
import type { Command } from '../model.js';
import { hasSystemPermission, hasTeamPermission, type Caller, type Permission } from '../permissions.js';
import { parseBoolParam } from '../rest/paging.js';
import type { Runtime } from '../runtime.js';
import { CommandChangedError, CommandTriggerTakenError } from '../store/entities.js';
import { keys } from '../store/keys.js';
import { byteLength } from '../validation.js';
import * as z from '../zod.js';
import { isValidCommandTrigger, MAX_TRIGGER_BYTES, validateCommand } from './command-validity.js';

export const commandErrors = {
  notFound: () => new AppError('store.sql_command.save.get.app_error', 'Unable to get the command.', 404),
  disabled: () => new AppError('api.command.disabled.app_error', 'Commands have been disabled by the system admin.', 501),
  duplicateTrigger: () =>
    new AppError('api.command.duplicate_trigger.app_error', 'This trigger word is already in use. Please choose another word.', 400),
  teamMismatch: () => new AppError('api.command.team_mismatch.app_error', 'Unable to update commands across teams.', 400),
  creatorCannotMove: () => new AppError('api.command.move_command.creator_no_permission.app_error', 'No permission to move command', 400),
  /** Mattermost answers 500 (its store's invalid-input error is not mapped); a client's mistake is a 400 here. */
  idGiven: () => new AppError('app.command.createcommand.internal_error', 'Unable to save the command: it must not have an id.', 400),
  userNotFound: () => new AppError('app.user.missing_account.const', 'Unable to find the user.', 404),
  teamNotFound: () => new AppError('app.team.get.find.app_error', 'Unable to find the existing team.', 404),
};

/** How much of a caller's team id or trigger an audit record keeps. */
const MAX_AUDITED_BYTES = 200;

const COMMAND_FIELDS = [
  'id', 'token', 'create_at', 'update_at', 'delete_at', 'creator_id', 'team_id', 'trigger', 'method', 'username', 'icon_url',
  'auto_complete', 'auto_complete_desc', 'auto_complete_hint', 'display_name', 'description', 'url', 'plugin_id',
] as const;

const goInt = z.pipe(z.nullish(z.int()), z.transform((value: number | null | undefined) => value ?? 0));

/** Mattermost's `Command` as Go's encoding/json decodes it: keys case-insensitive, unknown ones ignored, null the zero value. */
const commandBodySchema = z.object({
  id: goString,
  token: goString,
  create_at: goInt,
  update_at: goInt,
  delete_at: goInt,
  creator_id: goString,
  team_id: goString,
  trigger: goString,
  method: goString,
  username: goString,
  icon_url: goString,
  auto_complete: goBool,
  auto_complete_desc: goString,
  auto_complete_hint: goString,
  display_name: goString,
  description: goString,
  url: goString,
  plugin_id: goString,
});
export type CommandBody = z.infer<typeof commandBodySchema>;

/**
 * A decoded body, or Mattermost's 400 naming `name`. `null` decodes to the zero value, as Go's
 * decoder leaves the struct untouched.
 */
function decodeBody<S extends z.ZodMiniType>(raw: unknown, keys: readonly string[], schema: S, name: string): z.output<S> {
  try {
    return decodeGoObject(raw, keys, schema, { null: 'zero' })!;
  } catch {
    throw errors.invalidBodyParam(name);
  }
}

/** A command body (Mattermost's `Command`). */
export function decodeCommandBody(raw: unknown): CommandBody {
  return decodeBody(raw, COMMAND_FIELDS, commandBodySchema, 'command');
}

/** `model.CommandMoveRequest`: `{"team_id": "..."}`. */
export function decodeMoveBody(raw: unknown): string {
  return decodeBody(raw, ['team_id'], z.object({ team_id: goString }), 'team_id').team_id;
}

/**
 * A team permission. Ids that cannot be a team's are looked up nowhere (a hostile id of kilobytes
 * would exceed DynamoDB's key size): no membership can grant anything there, only system roles.
 */
async function teamAllows(runtime: Runtime, caller: Caller, teamId: string, permission: Permission): Promise<boolean> {
  if (isValidId(teamId)) return hasTeamPermission(runtime, caller, teamId, permission);
  return teamId !== '' && hasSystemPermission(runtime, caller, permission);
}

/** A command change with its audit record (lib/audit.ts): `detail` on both outcomes, the created command's id from `resultId`. */
function audited<T>(
  runtime: Runtime,
  caller: Caller,
  event: string,
  objectId: string,
  detail: Record<string, string | number | boolean>,
  mutation: () => Promise<T>,
  resultId?: (result: T) => string,
): Promise<T> {
  return auditedChange(runtime, caller, { event, objectId, detail }, async (setObjectId) => {
    const result = await mutation();
    if (resultId) setObjectId(resultId(result));
    return result;
  });
}

async function tokenOf(runtime: Runtime, commandId: string): Promise<string> {
  return (await runtime.entities.getIntegrationSecrets('COMMAND', commandId))?.token ?? '';
}

/**
 * Refuses a trigger that a built-in command or another live command of the team holds
 * (`validateCommandTriggerUniqueness`). Triggers are compared lower-cased; a trigger no command may
 * have is left to `validateCommand`, with no lookup.
 */
async function checkTriggerFree(runtime: Runtime, teamId: string, trigger: string, exceptCommandId: string): Promise<void> {
  if (isBuiltInTrigger(trigger)) throw commandErrors.duplicateTrigger();
  if (!isValidId(teamId) || byteLength(trigger) > MAX_TRIGGER_BYTES || !isValidCommandTrigger(trigger)) return;
  const holder = await runtime.entities.getRaw(keys.commandTrigger(teamId, trigger));
  if (holder && holder.target_id !== exceptCommandId) throw commandErrors.duplicateTrigger();
}

/** A stored command's `update_at` always grows, so that it versions the command for `replaceCommand`. */
function nextUpdateAt(runtime: Runtime, previous: Command): number {
  return Math.max(runtime.nowMs(), previous.update_at + 1);
}

/** The store's refusals as Mattermost's errors: a taken trigger is a duplicate; a command changed meanwhile is gone. */
async function replaceCommand(runtime: Runtime, previous: Command, next: Command, secrets?: { token: string; signing_secret: string }) {
  try {
    await runtime.entities.replaceCommand(previous, next, secrets);
  } catch (error) {
    if (error instanceof CommandTriggerTakenError) throw commandErrors.duplicateTrigger();
    if (error instanceof CommandChangedError) throw commandErrors.notFound();
    throw error;
  }
}

/** The fields a create or an update takes from the body as they are (the trigger is lowercased apart). */
function settableFields(body: CommandBody) {
  return {
    method: body.method as Command['method'],
    url: body.url,
    ...commandPresentation(body),
  } satisfies Partial<Command>;
}

/** `POST /api/v4/commands`: 201 with the command and its token. */
export async function createCommand(runtime: Runtime, caller: Caller, body: CommandBody): Promise<ClientCommand> {
  // Bounded: the record must stay a small item whatever a caller sent.
  const detail = { team_id: truncateUtf8(body.team_id, MAX_AUDITED_BYTES), trigger: truncateUtf8(body.trigger.toLowerCase(), MAX_AUDITED_BYTES) };
  return audited(
    runtime,
    caller,
    'createCommand',
    '',
    detail,
    async () => {
      if (!(await teamAllows(runtime, caller, body.team_id, 'manage_own_slash_commands'))) throw errors.permissions();
      let creatorId = caller.user.id;
      if (body.creator_id !== '' && body.creator_id !== caller.user.id) {
        if (!(await teamAllows(runtime, caller, body.team_id, 'manage_others_slash_commands'))) throw errors.permissions();
        const creator = isValidId(body.creator_id) ? await runtime.entities.getUser(body.creator_id) : undefined;
        if (!creator || creator.delete_at !== 0) throw commandErrors.userNotFound();
        creatorId = creator.id;
      }
      if (!runtime.config.enableCommands) throw commandErrors.disabled();
      if (isValidId(body.team_id) && !(await runtime.entities.getTeam(body.team_id))) throw commandErrors.teamNotFound();
      const trigger = body.trigger.toLowerCase();
      await checkTriggerFree(runtime, body.team_id, trigger, '');
      if (body.id !== '') throw commandErrors.idGiven();
      const nowMs = runtime.nowMs();
      const command: Command = {
        id: newId(),
        creator_id: creatorId,
        team_id: body.team_id,
        trigger,
        ...settableFields(body),
        create_at: nowMs,
        update_at: nowMs,
        delete_at: 0,
      };
      // As PreSave: a client may choose its token; otherwise one is generated.
      const token = body.token !== '' ? body.token : newId();
      validateCommand(command, token);
      try {
        await runtime.entities.createCommand(command, { token, signing_secret: newSigningSecret() });
      } catch (error) {
        if (error instanceof CommandTriggerTakenError) throw commandErrors.duplicateTrigger();
        throw error;
      }
      return commandForClient(command, token);
    },
    (created) => created.id,
  );
}

/** The team's live custom commands, oldest first (Mattermost's store does not order them). */
async function liveCommandsOfTeam(runtime: Runtime, teamId: string): Promise<Command[]> {
  if (!isValidId(teamId)) return [];
  const commands = await runtime.entities.listCommandsOfTeam(teamId);
  return commands.filter((command) => command.delete_at === 0).sort((a, b) => a.create_at - b.create_at || a.id.localeCompare(b.id));
}

/**
 * `ListAutocompleteCommands`: the listed built-ins, then the team's custom commands with
 * `auto_complete` (none when commands are disabled), all sanitized. Serves
 * `GET /api/v4/teams/{team_id}/commands/autocomplete` and the plain list of a caller who may not
 * manage commands. The caller's `view_team` is the route's to check.
 */
export async function autocompleteCommands(runtime: Runtime, teamId: string): Promise<ClientCommand[]> {
  const custom = runtime.config.enableCommands ? (await liveCommandsOfTeam(runtime, teamId)).filter((command) => command.auto_complete) : [];
  return [...listedBuiltInCommands(), ...custom].map(sanitizedCommand);
}

/** Mattermost's `AutocompleteSuggestion`, with its Go field names (the struct has no JSON tags). */
export interface AutocompleteSuggestion {
  Complete: string;
  Suggestion: string;
  Hint: string;
  Description: string;
  IconData: string;
}

/**
 * `GET /api/v4/teams/{team_id}/commands/autocomplete_suggestions?user_input=`: Mattermost's
 * `GetSuggestions` for the first word of what the user typed (the leading `/` dropped): each
 * autocompleted command whose trigger starts with it, sorted by trigger. Hookline's commands have
 * no argument trees (`autocomplete_data`), so input past the trigger (after a space) suggests nothing.
 */
export async function autocompleteSuggestions(runtime: Runtime, teamId: string, userInput: string): Promise<AutocompleteSuggestion[]> {
  if (userInput === '') throw errors.invalidUrlParam('userInput');
  const typed = userInput.replace(/^\//, '').toLowerCase();
  if (typed.includes(' ')) return [];
  const commands = await autocompleteCommands(runtime, teamId);
  return commands
    .filter((command) => command.trigger.toLowerCase().startsWith(typed))
    .sort((a, b) => a.trigger.toLowerCase().localeCompare(b.trigger.toLowerCase()))
    .map((command) => ({ Complete: command.trigger, Suggestion: command.trigger, Hint: command.auto_complete_hint, Description: command.auto_complete_desc, IconData: '' }));
}

/** `GET /api/v4/commands?team_id=&custom_only=`. */
export async function listCommands(runtime: Runtime, caller: Caller, query: URLSearchParams): Promise<ClientCommand[]> {
  const teamId = query.get('team_id') ?? '';
  if (teamId === '') throw errors.invalidBodyParam('team_id');
  if (!(await teamAllows(runtime, caller, teamId, 'view_team'))) throw errors.permissions();
  const customOnly = parseBoolParam(query.get('custom_only') ?? '');
  const managesOwn = await teamAllows(runtime, caller, teamId, 'manage_own_slash_commands');
  if (customOnly && !managesOwn) throw errors.permissions();
  if (customOnly && !runtime.config.enableCommands) throw commandErrors.disabled();
  if (!managesOwn) return autocompleteCommands(runtime, teamId);

  const managesOthers = await teamAllows(runtime, caller, teamId, 'manage_others_slash_commands');
  const custom = runtime.config.enableCommands
    ? (await liveCommandsOfTeam(runtime, teamId)).filter((command) => managesOthers || command.creator_id === caller.user.id)
    : [];
  if (!customOnly) return [...listedBuiltInCommands().map(sanitizedCommand), ...custom.map(sanitizedCommand)];
  const secrets = await runtime.entities.getMany<{ token?: string }>(custom.map((command) => keys.secrets('COMMAND', command.id)));
  return custom.map((command, index) => commandForClient(command, secrets[index]?.token ?? ''));
}

/** A live command by id; unknown, deleted, or commands disabled → 404, as `SetCommandNotFoundError`. */
async function liveCommand(runtime: Runtime, commandId: string): Promise<Command> {
  if (!isValidId(commandId)) throw errors.invalidUrlParam('command_id');
  const command = runtime.config.enableCommands ? await runtime.entities.getCommand(commandId) : undefined;
  if (!command || command.delete_at !== 0) throw commandErrors.notFound();
  return command;
}

/**
 * Whether the caller may manage this command, as Mattermost's handlers check it: no
 * `manage_own_slash_commands` (and, to read it, `view_team`) on its team → 404; another's command
 * without `manage_others_slash_commands` → `othersMissing` (404 for a read, 403 otherwise).
 */
async function checkManages(runtime: Runtime, caller: Caller, command: Command, othersMissing: () => AppError, needsViewTeam = false): Promise<void> {
  if (needsViewTeam && !(await teamAllows(runtime, caller, command.team_id, 'view_team'))) throw commandErrors.notFound();
  if (!(await teamAllows(runtime, caller, command.team_id, 'manage_own_slash_commands'))) throw commandErrors.notFound();
  if (command.creator_id !== caller.user.id && !(await teamAllows(runtime, caller, command.team_id, 'manage_others_slash_commands'))) throw othersMissing();
}

async function managedCommand(runtime: Runtime, caller: Caller, commandId: string, othersMissing: () => AppError, needsViewTeam = false): Promise<Command> {
  const command = await liveCommand(runtime, commandId);
  await checkManages(runtime, caller, command, othersMissing, needsViewTeam);
  return command;
}

/** `GET /api/v4/commands/{command_id}`: the whole command with its token; every refusal is a 404. */
export async function getCommand(runtime: Runtime, caller: Caller, commandId: string): Promise<ClientCommand> {
  const command = await managedCommand(runtime, caller, commandId, commandErrors.notFound, true);
  return commandForClient(command, await tokenOf(runtime, command.id));
}

/**
 * `PUT /api/v4/commands/{command_id}`: the body's fields replace the command's, except its id, token,
 * creator, team and timestamps; the trigger is lower-cased and must be free; the result is validated.
 * The body is read after the path id is checked (`readBody`), as Mattermost orders its 400s.
 */
export async function updateCommand(runtime: Runtime, caller: Caller, commandId: string, readBody: () => unknown): Promise<ClientCommand> {
  if (!isValidId(commandId)) throw errors.invalidUrlParam('command_id');
  const body = decodeCommandBody(readBody());
  if (body.id !== commandId) throw errors.invalidBodyParam('command');
  return audited(runtime, caller, 'updateCommand', commandId, {}, async () => {
    const previous = await liveCommand(runtime, commandId);
    if (body.team_id !== previous.team_id) throw commandErrors.teamMismatch();
    await checkManages(runtime, caller, previous, errors.permissions);
    const next: Command = {
      ...previous,
      trigger: body.trigger.toLowerCase(),
      ...settableFields(body),
      update_at: nextUpdateAt(runtime, previous),
    };
    await checkTriggerFree(runtime, next.team_id, next.trigger, next.id);
    const token = await tokenOf(runtime, next.id);
    validateCommand(next, token);
    await replaceCommand(runtime, previous, next);
    return commandForClient(next, token);
  });
}

/** `PUT /api/v4/commands/{command_id}/move`: to another team, where the caller and the creator may manage commands and the trigger is free. */
export async function moveCommand(runtime: Runtime, caller: Caller, commandId: string, readBody: () => unknown): Promise<{ status: 'OK' }> {
  if (!isValidId(commandId)) throw errors.invalidUrlParam('command_id');
  const targetTeamId = decodeMoveBody(readBody());
  return audited(runtime, caller, 'moveCommand', commandId, {}, async () => {
    const target = isValidId(targetTeamId) ? await runtime.entities.getTeam(targetTeamId) : undefined;
    if (!target || target.delete_at !== 0) throw commandErrors.teamNotFound();
    if (!(await hasTeamPermission(runtime, caller, target.id, 'manage_own_slash_commands'))) throw errors.permissions();
    const previous = await managedCommand(runtime, caller, commandId, errors.permissions);
    const creator = await runtime.entities.getUser(previous.creator_id);
    const creatorCaller: Caller | undefined = creator ? { user: creator, unrestricted: false, origin: caller.origin } : undefined;
    if (!creatorCaller || !(await hasTeamPermission(runtime, creatorCaller, target.id, 'manage_own_slash_commands'))) throw commandErrors.creatorCannotMove();
    await checkTriggerFree(runtime, target.id, previous.trigger, previous.id);
    const next: Command = { ...previous, team_id: target.id, update_at: nextUpdateAt(runtime, previous) };
    validateCommand(next, await tokenOf(runtime, next.id));
    await replaceCommand(runtime, previous, next);
    return { status: 'OK' as const };
  });
}

/** `PUT /api/v4/commands/{command_id}/regen_token`: only `{token}`, as Mattermost answers. */
export async function regenCommandToken(runtime: Runtime, caller: Caller, commandId: string): Promise<{ token: string }> {
  if (!isValidId(commandId)) throw errors.invalidUrlParam('command_id');
  return audited(runtime, caller, 'regenCommandToken', commandId, {}, async () => {
    const previous = await managedCommand(runtime, caller, commandId, errors.permissions);
    const secrets = await runtime.entities.getIntegrationSecrets('COMMAND', previous.id);
    const token = newId();
    const next: Command = { ...previous, update_at: nextUpdateAt(runtime, previous) };
    await replaceCommand(runtime, previous, next, { token, signing_secret: secrets?.signing_secret ?? newSigningSecret() });
    return { token };
  });
}

/** `DELETE /api/v4/commands/{command_id}`: a soft delete that frees the trigger. */
export async function deleteCommand(runtime: Runtime, caller: Caller, commandId: string): Promise<{ status: 'OK' }> {
  if (!isValidId(commandId)) throw errors.invalidUrlParam('command_id');
  return audited(runtime, caller, 'deleteCommand', commandId, {}, async () => {
    const previous = await managedCommand(runtime, caller, commandId, errors.permissions);
    const nowMs = nextUpdateAt(runtime, previous);
    await replaceCommand(runtime, previous, { ...previous, update_at: nowMs, delete_at: nowMs });
    return { status: 'OK' as const };
  });
}
