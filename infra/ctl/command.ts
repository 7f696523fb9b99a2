/**
 * `ctl command ...`: slash command management for the operator, modelled on `mmctl command`.
 *
 *   command list [TEAM...]                      custom commands of the teams (all teams when none named)
 *   command show COMMAND_ID
 *   command create TEAM --trigger-word W --url U --creator USER [--title T] [--description D]
 *                  [--response-username N] [--icon URL] [--autocomplete] [--autocompleteDesc D]
 *                  [--autocompleteHint H] [--post]
 *   command modify COMMAND_ID [the same flags; only those given change; --post=false for GET]
 *   command move TEAM COMMAND_ID
 *   command delete COMMAND_ID
 *   command regen-token COMMAND_ID
 *
 * Teams and users are named by name or id. Every subcommand runs the API's use cases
 * (lib/integrations/commands.ts) with the operator's caller, so the rules, the errors and the audit
 * records are the API's. `--json` prints the result as the API answers it.
 */
import { parseArgs } from 'node:util';
import { isValidId } from '../../lib/ids.js';
import {
  createCommand,
  decodeCommandBody,
  deleteCommand,
  getCommand,
  listCommands,
  moveCommand,
  regenCommandToken,
  updateCommand,
} from '../../lib/integrations/commands.js';
import type { ClientCommand } from '../../lib/commands/for-client.js';
import type { Team } from '../../lib/model.js';
import type { Runtime } from '../../lib/runtime.js';
import { print, UsageError, type CtlContext, type CtlGroup } from './context.js';

const USAGE = `command list [TEAM...] | show COMMAND_ID | create TEAM --trigger-word W --url U --creator USER
      [--title T] [--description D] [--response-username N] [--icon URL] [--autocomplete] [--autocompleteDesc D]
      [--autocompleteHint H] [--post] | modify COMMAND_ID [those flags; --no-post, --no-autocomplete]
      | move TEAM COMMAND_ID | delete COMMAND_ID | regen-token COMMAND_ID`;

const COMMAND_FLAGS = {
  'trigger-word': { type: 'string' },
  url: { type: 'string' },
  creator: { type: 'string' },
  title: { type: 'string' },
  description: { type: 'string' },
  'response-username': { type: 'string' },
  icon: { type: 'string' },
  autocomplete: { type: 'boolean' },
  autocompleteDesc: { type: 'string' },
  autocompleteHint: { type: 'string' },
  post: { type: 'boolean' },
} as const;

/** The switches that turn a boolean flag off (Node 20's parseArgs has no `--no-` form). */
const NEGATIONS: Record<string, 'post' | 'autocomplete'> = { '--no-post': 'post', '--no-autocomplete': 'autocomplete' };

function parse(args: string[], withFlags: boolean) {
  const negated = args.filter((arg) => withFlags && NEGATIONS[arg]).map((arg) => NEGATIONS[arg]!);
  try {
    const parsed = parseArgs({ args: args.filter((arg) => !(withFlags && NEGATIONS[arg])), allowPositionals: true, strict: true, options: withFlags ? COMMAND_FLAGS : {} });
    const values: Record<string, string | boolean | undefined> = { ...parsed.values };
    for (const flag of negated) {
      if (values[flag] === true) throw new UsageError(`--${flag} and --no-${flag} together`);
      values[flag] = false;
    }
    return { positionals: parsed.positionals, values };
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError((error as Error).message);
  }
}

function positional(positionals: string[], count: number, names: string): string[] {
  if (positionals.length !== count) throw new UsageError(`expected ${names}`);
  return positionals;
}

async function findTeam(runtime: Runtime, nameOrId: string): Promise<Team> {
  const team = (isValidId(nameOrId) ? await runtime.entities.getTeam(nameOrId) : undefined) ?? (await runtime.entities.getTeamByName(nameOrId.toLowerCase()));
  if (!team || team.delete_at !== 0) throw new UsageError(`unknown team "${nameOrId}"`);
  return team;
}

async function findUserId(runtime: Runtime, nameOrId: string): Promise<string> {
  const user = (isValidId(nameOrId) ? await runtime.entities.getUser(nameOrId) : undefined) ?? (await runtime.entities.getUserByUsername(nameOrId));
  if (!user || user.delete_at !== 0) throw new UsageError(`unknown user "${nameOrId}"`);
  return user.id;
}

/** mmctl's line for a command: `id: trigger (team)` with its title. */
function describe(command: ClientCommand): string {
  return `${command.id}: /${command.trigger}${command.display_name ? ` "${command.display_name}"` : ''} (team ${command.team_id}, ${command.method === 'G' ? 'GET' : 'POST'} ${command.url})`;
}

/** The API's command fields from the flags given (only those, for modify). */
async function fieldsFromFlags(runtime: Runtime, values: Record<string, string | boolean | undefined>): Promise<Record<string, unknown>> {
  const fields: Record<string, unknown> = {};
  const set = (flag: string, field: string) => {
    if (values[flag] !== undefined) fields[field] = values[flag];
  };
  set('trigger-word', 'trigger');
  set('url', 'url');
  set('title', 'display_name');
  set('description', 'description');
  set('response-username', 'username');
  set('icon', 'icon_url');
  set('autocomplete', 'auto_complete');
  set('autocompleteDesc', 'auto_complete_desc');
  set('autocompleteHint', 'auto_complete_hint');
  if (values.post !== undefined) fields.method = values.post ? 'P' : 'G';
  if (typeof values.creator === 'string') fields.creator_id = await findUserId(runtime, values.creator);
  return fields;
}

async function execute(subcommand: string | undefined, args: string[], context: CtlContext): Promise<void> {
  const { runtime, caller } = context;
  const show = <T>(value: T, text: () => string) => print(context, value, () => [text()]);
  switch (subcommand) {
    case 'list': {
      const { positionals } = parse(args, false);
      const teams = positionals.length > 0 ? await Promise.all(positionals.map((name) => findTeam(runtime, name))) : await allTeams(runtime);
      const commands: ClientCommand[] = [];
      for (const team of teams) commands.push(...(await listCommands(runtime, caller, new URLSearchParams({ team_id: team.id, custom_only: 'true' }))));
      show(commands, () => (commands.length ? commands.map(describe).join('\n') : 'no commands'));
      return;
    }
    case 'show': {
      const [commandId] = positional(parse(args, false).positionals, 1, 'COMMAND_ID');
      const command = await getCommand(runtime, caller, commandId!);
      show(command, () => describe(command));
      return;
    }
    case 'create': {
      const { positionals, values } = parse(args, true);
      const [teamName] = positional(positionals, 1, 'TEAM');
      for (const required of ['trigger-word', 'url', 'creator'] as const) if (values[required] === undefined) throw new UsageError(`--${required} is required`);
      const team = await findTeam(runtime, teamName!);
      const body = { method: 'G', ...(await fieldsFromFlags(runtime, values)), team_id: team.id };
      const command = await createCommand(runtime, caller, decodeCommandBody(body));
      show(command, () => `created ${describe(command)}`);
      return;
    }
    case 'modify': {
      const { positionals, values } = parse(args, true);
      const [commandId] = positional(positionals, 1, 'COMMAND_ID');
      if (values.creator !== undefined) throw new UsageError('a command keeps its creator: --creator applies to create only');
      const current = await getCommand(runtime, caller, commandId!);
      const changes = await fieldsFromFlags(runtime, values);
      const command = await updateCommand(runtime, caller, commandId!, () => ({ ...current, ...changes }));
      show(command, () => `modified ${describe(command)}`);
      return;
    }
    case 'move': {
      const [teamName, commandId] = positional(parse(args, false).positionals, 2, 'TEAM COMMAND_ID');
      const team = await findTeam(runtime, teamName!);
      const result = await moveCommand(runtime, caller, commandId!, () => ({ team_id: team.id }));
      show(result, () => `moved command ${commandId} to team ${team.name}`);
      return;
    }
    case 'delete': {
      const [commandId] = positional(parse(args, false).positionals, 1, 'COMMAND_ID');
      const result = await deleteCommand(runtime, caller, commandId!);
      show(result, () => `deleted command ${commandId}`);
      return;
    }
    case 'regen-token': {
      const [commandId] = positional(parse(args, false).positionals, 1, 'COMMAND_ID');
      const result = await regenCommandToken(runtime, caller, commandId!);
      show(result, () => `new token: ${result.token}`);
      return;
    }
    default:
      throw new UsageError(subcommand ? `unknown subcommand "${subcommand}"` : 'a subcommand is needed');
  }
}

/** Every live team, for `list` without teams: a Scan, as operator tools may (lib/store/entities.ts scanItems). */
async function allTeams(runtime: Runtime): Promise<Team[]> {
  const items = await runtime.entities.scanItems(['team']);
  return items
    .map((item) => item as unknown as Team)
    .filter((team) => team.delete_at === 0)
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** `command <subcommand> ...`; refusals (AppError) and usage mistakes (UsageError) are the entry's to print, with exit codes 1 and 2. */
export const commandGroup: CtlGroup = {
  usage: USAGE,
  async run(args, context) {
    const [subcommand, ...rest] = args;
    await execute(subcommand, rest, context);
    return 0;
  },
};
