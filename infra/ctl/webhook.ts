/**
 * `npm run ctl -- webhook ...`: the operator's webhook commands, modelled on `mmctl webhook`.
 *
 *   webhook list [TEAM ...]                       incoming and outgoing hooks (all teams without TEAM)
 *   webhook show HOOK_ID                          one hook, incoming or outgoing
 *   webhook create-incoming --channel CHANNEL --user USER [--display-name N] [--description D]
 *                           [--lock-to-channel] [--icon URL]
 *   webhook create-outgoing --team TEAM --user USER --url URL... [--trigger-word W...]
 *                           [--channel CHANNEL] [--trigger-when exact|start] [--content-type T]
 *                           [--display-name N] [--description D] [--icon URL]
 *   webhook modify-incoming HOOK_ID [--channel CHANNEL] [--display-name N] [--description D]
 *                           [--lock-to-channel true|false] [--icon URL]
 *   webhook modify-outgoing HOOK_ID [--channel CHANNEL] [--url URL...] [--trigger-word W...]
 *                           [--trigger-when exact|start] [--content-type T] [--display-name N]
 *                           [--description D] [--icon URL]
 *   webhook delete HOOK_ID                        incoming or outgoing
 *   webhook regen-token HOOK_ID                   an outgoing hook's new token
 *   webhook rotate-signing-secret HOOK_ID         an outgoing hook's new signing secret (shown once)
 *
 * CHANNEL is `team:channel` (names) or a channel id; TEAM a name or an id; USER a username or an
 * id. Every command runs the API's use cases (lib/integrations) with the operator's caller, so the
 * rules, errors and audit records are the API's. `--json` prints the API's JSON for scripts.
 * Exit codes as every ctl group: 0 done, 1 refused (reason on stderr), 2 a usage mistake.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { AppError } from '../../lib/errors.js';
import { isValidId } from '../../lib/ids.js';
import {
  createIncomingHook,
  deleteIncomingHook,
  getIncomingHook,
  incomingErrors,
  listIncomingHooks,
  updateIncomingHook,
} from '../../lib/integrations/incoming-hooks.js';
import {
  createOutgoingHook,
  deleteOutgoingHook,
  getOutgoingHook,
  listOutgoingHooks,
  outgoingErrors,
  regenOutgoingHookToken,
  rotateOutgoingHookSigningSecret,
  updateOutgoingHook,
} from '../../lib/integrations/outgoing-hooks.js';
import type { Channel, IncomingWebhook, OutgoingWebhook, Team, User } from '../../lib/model.js';
import type { Runtime } from '../../lib/runtime.js';
import { print, UsageError, type CtlContext, type CtlGroup } from './context.js';

const USAGE =
  'webhook list [TEAM...] | show HOOK_ID | create-incoming --channel C --user U [...] | create-outgoing --team T --user U --url URL [...] | ' +
  'modify-incoming HOOK_ID [...] | modify-outgoing HOOK_ID [...] | delete HOOK_ID | regen-token HOOK_ID | rotate-signing-secret HOOK_ID';

export const webhookGroup: CtlGroup = {
  usage: USAGE,
  /** AppErrors (refusals) go up to the entry, which prints them and exits 1; usage mistakes exit 2. */
  async run(args, context) {
    const [subcommand, ...rest] = args;
    const handler = subcommand ? subcommands[subcommand] : undefined;
    if (!handler) throw new UsageError(subcommand ? `unknown webhook command "${subcommand}"` : 'no webhook command given');
    try {
      await handler(rest, context);
    } catch (error) {
      // node:util's parseArgs refuses unknown or malformed flags with a TypeError coded ERR_PARSE_ARGS_*.
      if (error instanceof TypeError && String((error as TypeError & { code?: string }).code ?? '').startsWith('ERR_PARSE_ARGS')) throw new UsageError(error.message);
      throw error;
    }
    return 0;
  },
};

const stringOption = { type: 'string' } as const;
const listOption = { type: 'string', multiple: true } as const;

/** The flags of both kinds of hook, create and modify alike (mmctl's names). */
const hookFlags = { channel: stringOption, 'display-name': stringOption, description: stringOption, icon: stringOption } as const;
/** An outgoing hook's flags: the shared ones and its triggers, callbacks and content type. */
const outgoingFlags = { ...hookFlags, 'trigger-word': listOption, 'trigger-when': stringOption, url: listOption, 'content-type': stringOption } as const;

type HookFields = Pick<IncomingWebhook, 'display_name' | 'description' | 'icon_url'>;
type OutgoingFields = HookFields & Pick<OutgoingWebhook, 'trigger_words' | 'trigger_when' | 'callback_urls' | 'content_type'>;
/** What a create starts from: a modify starts from the stored hook instead. */
const NEW_HOOK: HookFields = { display_name: '', description: '', icon_url: '' };
const NEW_OUTGOING_HOOK: OutgoingFields = { ...NEW_HOOK, trigger_words: [], trigger_when: 0, callback_urls: [], content_type: '' };

/** The fields `hookFlags` set; a flag not given keeps the field of `base`. */
function hookFields(values: { 'display-name'?: string; description?: string; icon?: string }, base: HookFields): HookFields {
  return { display_name: values['display-name'] ?? base.display_name, description: values.description ?? base.description, icon_url: values.icon ?? base.icon_url };
}

/** The fields `outgoingFlags` set; a flag not given keeps the field of `base`. */
function outgoingFields(
  values: Parameters<typeof hookFields>[0] & { 'trigger-word'?: string[]; 'trigger-when'?: string; url?: string[]; 'content-type'?: string },
  base: OutgoingFields,
): OutgoingFields {
  return {
    ...hookFields(values, base),
    trigger_words: values['trigger-word'] ?? base.trigger_words,
    trigger_when: values['trigger-when'] === undefined ? base.trigger_when : triggerWhen(values['trigger-when']),
    callback_urls: values.url ?? base.callback_urls,
    content_type: values['content-type'] ?? base.content_type,
  };
}

/** Flags as mmctl takes them, and exactly `positionals` positional arguments. */
function parse<const O extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: O, positionals = 0) {
  const parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  if (parsed.positionals.length !== positionals) {
    throw new UsageError(positionals === 1 ? 'expected one hook id' : `unexpected argument "${parsed.positionals[positionals] ?? ''}"`);
  }
  return parsed;
}

type Subcommand = (args: string[], context: CtlContext) => Promise<void>;

const subcommands: Record<string, Subcommand> = {
  async list(args, context) {
    const { positionals } = parseArgs({ args, options: {}, allowPositionals: true, strict: true });
    const teams = positionals.length > 0 ? await Promise.all(positionals.map((name) => findTeam(context.runtime, name))) : [undefined];
    const all = { incoming_webhooks: [] as IncomingWebhook[], outgoing_webhooks: [] as OutgoingWebhook[] };
    for (const team of teams) {
      const paging = { page: 0, perPage: Number.MAX_SAFE_INTEGER };
      const incoming = await listIncomingHooks(context.runtime, context.caller, { teamId: team?.id ?? '', includeTotalCount: false, ...paging });
      all.incoming_webhooks.push(...(incoming as IncomingWebhook[]));
      all.outgoing_webhooks.push(...(await listOutgoingHooks(context.runtime, context.caller, { teamId: team?.id ?? '', channelId: '', ...paging })));
    }
    if (context.json) return context.out(JSON.stringify(all, null, 2));
    for (const hook of all.incoming_webhooks) context.out(`incoming ${hook.id} (${hook.display_name || 'no name'}) channel ${hook.channel_id} owner ${hook.user_id}`);
    for (const hook of all.outgoing_webhooks) context.out(`outgoing ${hook.id} (${hook.display_name || 'no name'}) team ${hook.team_id} triggers [${hook.trigger_words.join(' ')}]`);
  },

  async show(args, context) {
    const { positionals } = parse(args, {}, 1);
    const hook = await eitherHook(positionals[0]!, (id) => getIncomingHook(context.runtime, context.caller, id), (id) => getOutgoingHook(context.runtime, context.caller, id));
    show(context, hook);
  },

  async 'create-incoming'(args, context) {
    const { values } = parse(args, { ...hookFlags, user: stringOption, 'lock-to-channel': { type: 'boolean' } });
    const channel = await findChannel(context.runtime, required(values.channel, '--channel'));
    const user = await findUser(context.runtime, required(values.user, '--user'));
    const hook = await createIncomingHook(context.runtime, context.caller, {
      channel_id: channel.id,
      user_id: user.id,
      ...hookFields(values, NEW_HOOK),
      channel_locked: values['lock-to-channel'] ?? false,
    });
    show(context, hook, `Created incoming webhook ${hook.id}: POST ${context.siteUrl}/hooks/${hook.id}`);
  },

  async 'create-outgoing'(args, context) {
    const { values } = parse(args, { ...outgoingFlags, team: stringOption, user: stringOption });
    const team = await findTeam(context.runtime, required(values.team, '--team'));
    const user = await findUser(context.runtime, required(values.user, '--user'));
    const channel = values.channel ? await findChannel(context.runtime, values.channel, team) : undefined;
    const hook = await createOutgoingHook(context.runtime, context.caller, {
      team_id: team.id,
      channel_id: channel?.id ?? '',
      creator_id: user.id,
      ...outgoingFields(values, NEW_OUTGOING_HOOK),
    });
    show(context, hook, `Created outgoing webhook ${hook.id}\ntoken: ${hook.token}\nsigning secret (shown once): ${hook.signing_secret}`);
  },

  async 'modify-incoming'(args, context) {
    const { values, positionals } = parse(args, { ...hookFlags, 'lock-to-channel': stringOption }, 1);
    const old = await getIncomingHook(context.runtime, context.caller, positionals[0]!);
    const channel = values.channel ? await findChannel(context.runtime, values.channel) : undefined;
    const hook = await updateIncomingHook(context.runtime, context.caller, old.id, {
      ...old,
      channel_id: channel?.id ?? old.channel_id,
      ...hookFields(values, old),
      channel_locked: values['lock-to-channel'] === undefined ? old.channel_locked : booleanFlag(values['lock-to-channel'], '--lock-to-channel'),
    });
    show(context, hook, `Modified incoming webhook ${hook.id}`);
  },

  async 'modify-outgoing'(args, context) {
    const { values, positionals } = parse(args, outgoingFlags, 1);
    const old = await getOutgoingHook(context.runtime, context.caller, positionals[0]!);
    const channel = values.channel ? await findChannel(context.runtime, values.channel) : undefined;
    const hook = await updateOutgoingHook(context.runtime, context.caller, old.id, {
      ...old,
      channel_id: channel?.id ?? old.channel_id,
      ...outgoingFields(values, old),
    });
    show(context, hook, `Modified outgoing webhook ${hook.id}`);
  },

  async delete(args, context) {
    const { positionals } = parse(args, {}, 1);
    await eitherHook(positionals[0]!, (id) => deleteIncomingHook(context.runtime, context.caller, id), (id) => deleteOutgoingHook(context.runtime, context.caller, id));
    show(context, { status: 'OK' }, `Deleted webhook ${positionals[0]}`);
  },

  async 'regen-token'(args, context) {
    const { positionals } = parse(args, {}, 1);
    const hook = await regenOutgoingHookToken(context.runtime, context.caller, positionals[0]!);
    show(context, hook, `New token of outgoing webhook ${hook.id}: ${hook.token}`);
  },

  async 'rotate-signing-secret'(args, context) {
    const { positionals } = parse(args, {}, 1);
    const rotated = await rotateOutgoingHookSigningSecret(context.runtime, context.caller, positionals[0]!);
    show(context, rotated, `New signing secret (shown once; the previous one stays valid for the rotation window): ${rotated.signing_secret}`);
  },
};

/** The API's JSON with --json (or when there is nothing shorter to say), else `human`. */
function show(context: CtlContext, value: unknown, human?: string): void {
  print(context, value, (shown) => (human === undefined ? JSON.stringify(shown, null, 2).split('\n') : human.split('\n')));
}

function required(value: string | undefined, flag: string): string {
  if (value === undefined || value === '') throw new UsageError(`${flag} is required`);
  return value;
}

function booleanFlag(value: string, flag: string): boolean {
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new UsageError(`${flag} takes true or false`);
}

function triggerWhen(value: string | undefined): OutgoingWebhook['trigger_when'] {
  if (value === undefined || value === 'exact') return 0;
  if (value === 'start') return 1;
  throw new UsageError('--trigger-when takes exact or start');
}

/** Runs the incoming variant, and the outgoing one when no incoming hook has that id (as mmctl's show and delete). */
async function eitherHook<T, U>(hookId: string, incoming: (id: string) => Promise<T>, outgoing: (id: string) => Promise<U>): Promise<T | U> {
  try {
    return await incoming(hookId);
  } catch (error) {
    if (!(error instanceof AppError) || (error.id !== incomingErrors.notFound().id && error.id !== incomingErrors.disabled().id)) throw error;
    try {
      return await outgoing(hookId);
    } catch (second) {
      if (second instanceof AppError && second.id === outgoingErrors.notFound().id) throw error;
      throw second;
    }
  }
}

const notFound = (what: string, name: string) => new AppError('ctl.not_found', `Unable to find ${what} "${name}".`, 404);

async function findTeam(runtime: Runtime, nameOrId: string): Promise<Team> {
  const team = (await runtime.entities.getTeamByName(nameOrId.toLowerCase())) ?? (isValidId(nameOrId) ? await runtime.entities.getTeam(nameOrId) : undefined);
  if (!team) throw notFound('team', nameOrId);
  return team;
}

async function findUser(runtime: Runtime, nameOrId: string): Promise<User> {
  const user = (isValidId(nameOrId) ? await runtime.entities.getUser(nameOrId) : undefined) ?? (await runtime.entities.getUserByUsername(nameOrId));
  if (!user) throw notFound('user', nameOrId);
  return user;
}

/** `team:channel` by names (as mmctl), a channel name within `team`, or a channel id. */
async function findChannel(runtime: Runtime, reference: string, team?: Team): Promise<Channel> {
  const separator = reference.indexOf(':');
  let channel: Channel | undefined;
  if (separator > 0) {
    const inTeam = await findTeam(runtime, reference.slice(0, separator));
    channel = await runtime.entities.getChannelByName(inTeam.id, reference.slice(separator + 1).toLowerCase());
  } else {
    channel = (isValidId(reference) ? await runtime.entities.getChannel(reference) : undefined) ?? (team ? await runtime.entities.getChannelByName(team.id, reference.toLowerCase()) : undefined);
  }
  if (!channel) throw notFound('channel', reference);
  return channel;
}
