import { parse as parseYaml, YAMLParseError } from 'yaml';
import { hashToken, isValidId, newId, newSigningSecret } from '../ids.js';
import type { Channel, Command, IncomingWebhook, IntegrationSecrets, OutgoingWebhook, Role, Team, User, UserAccessToken } from '../model.js';
import { DEFAULT_ROLES, isDefaultRole, isPermission } from '../permissions.js';
import { accessTokenFromItem, accessTokenItems, isLegacyTokenItem } from '../store/access-tokens.js';
import { itemsFor, type EntityStore } from '../store/entities.js';
import { keys, type Key } from '../store/keys.js';
import { isBuiltInTrigger } from '../commands/built-in.js';
import { commandFieldProblems, tokenProblem } from '../integrations/command-validity.js';
import { byteLength, isValidChannelName, isValidHttpUrl, isValidTeamName, isValidUsername } from '../validation.js';
import {
  incomingUsernameProblem,
  incomingWebhookFieldProblems,
  isValidOutgoingToken,
  outgoingWebhookFieldProblems,
  type FieldProblem,
} from '../integrations/webhook-validity.js';
import { Planner, StoredItems, type DesiredItem, type FormerItem, type SeedPlan } from './plan.js';
import { seedFileSchema, type SeedFile } from './schema.js';
import { snapshotTeams, type TeamsSnapshot } from './snapshot.js';

/** A seed file that cannot be applied; `problems` name the file, the entry and the field. */
export class SeedValidationError extends Error {
  constructor(readonly problems: string[]) {
    super(`seed rejected, nothing written:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'SeedValidationError';
  }
}

/**
 * The JSON summary of a run. Secrets (tokens, signing secrets) appear only in the run that creates
 * or changes them, or with `showSecrets`; otherwise they are null, so that logs of routine runs
 * hold no credentials.
 */
export interface SeedSummary {
  written_items: number;
  unchanged_items: number;
  teams: Array<{ name: string; id: string }>;
  channels: Array<{ team: string; name: string; id: string; type: string; archived: boolean }>;
  users: Array<{ username: string; id: string; token: string | null }>;
  incoming_webhooks: Array<{ id: string; team: string; channel: string; display_name: string; url: string }>;
  outgoing_webhooks: Array<{ id: string; team: string; display_name: string; token: string | null; signing_secret: string | null }>;
  commands: Array<{ id: string; team: string; trigger: string; token: string | null; signing_secret: string | null }>;
  /** Signs the requests of interactive message actions (Standard Webhooks); generated once. */
  action_signing_secret: string | null;
}

type WithSecretsShown<T> = { [Field in keyof T]: Field extends 'token' | 'signing_secret' ? string : T[Field] };

/** The summary of a run with `showSecrets`: every integration secret and the action signing secret are known. */
export type SeedSummaryWithSecrets = Omit<SeedSummary, 'outgoing_webhooks' | 'commands' | 'action_signing_secret'> & {
  outgoing_webhooks: Array<WithSecretsShown<SeedSummary['outgoing_webhooks'][number]>>;
  commands: Array<WithSecretsShown<SeedSummary['commands'][number]>>;
  action_signing_secret: string;
};

export interface SeedOptions {
  store: EntityStore;
  /** Base of the hook URLs in the summary. */
  siteUrl: string;
  nowMs?: number;
  /** Also remove what the file no longer names within the teams of its `teams:` section. */
  prune?: boolean;
  /** Show every known secret in the summary, not only those this run creates or changes. */
  showSecrets?: boolean;
}

/** A run that stopped part-way: the first `applied` transactions are written, the rest are not. */
export class SeedApplyError extends Error {
  constructor(
    readonly applied: number,
    readonly total: number,
    override readonly cause: unknown,
  ) {
    super(
      `seed stopped after ${applied} of ${total} transactions: ${cause instanceof Error ? cause.message : String(cause)}\n` +
        'Every entity is either as before or as the file says; run the same file again to complete it.',
    );
    this.name = 'SeedApplyError';
  }
}

/** A validated run: what it would change, and the means to do it. */
export interface PlannedSeed {
  plan: SeedPlan;
  /** The summary as it will be after apply (written_items counts the planned items). */
  summary: SeedSummary;
  apply(): Promise<SeedSummary>;
}

/** Parses and validates the YAML text; structural problems are reported with their path. */
export function parseSeedFile(fileName: string, text: string): SeedFile {
  let raw: unknown;
  try {
    raw = parseYaml(text) ?? {};
  } catch (error) {
    const detail = error instanceof YAMLParseError ? error.message : String(error);
    throw new SeedValidationError([`${fileName}: not valid YAML: ${detail}`]);
  }
  const parsed = seedFileSchema.safeParse(raw);
  if (!parsed.success) {
    throw new SeedValidationError(
      parsed.error.issues.map((issue) => {
        const [section, index, ...field] = issue.path;
        const where = typeof index === 'number' ? `${String(section)}[${index}]` : String(section ?? '(top level)');
        const fieldName = field.length ? `${field.join('.')}: ` : '';
        return `${fileName}: ${where}: ${fieldName}${issue.message}`;
      }),
    );
  }
  return parsed.data;
}

/** Validates the file against itself and the store, then writes what differs (see planSeed). */
export async function applySeed(fileName: string, seed: SeedFile, options: SeedOptions): Promise<SeedSummary> {
  return (await planSeed(fileName, seed, options)).apply();
}

/**
 * Validates a seed file and plans the writes that make the store match it; nothing is written
 * until `apply`. The file is the desired state of what it names: an entry whose identity (its id,
 * its declared key, or else its natural key) matches a stored entity updates that entity in
 * place; with `prune`, what the file no longer names in its teams is removed. A second run of the
 * same file plans nothing.
 */
export async function planSeed(fileName: string, seed: SeedFile, options: SeedOptions): Promise<PlannedSeed> {
  const run = new SeedRun(fileName, options);
  await run.plan(seed);
  return run.result();
}

type IntegrationKind = 'incoming' | 'outgoing' | 'command';

const INTEGRATION_LABELS: Record<IntegrationKind, string> = { incoming: 'incoming webhook', outgoing: 'outgoing webhook', command: 'command' };
/** The description of the personal access tokens the seed gives users. */
export const SEED_TOKEN_DESCRIPTION = 'seed';
/** A declared key: short, stable and readable in a PK. */
const SEED_KEY_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** Keeps an existing entity's timestamps; the planner moves update_at when the item changes. */
function withTimestamps<T extends { create_at: number; update_at: number }>(
  desired: Omit<T, 'create_at' | 'update_at'>,
  existing: Record<string, unknown> | undefined,
  nowMs: number,
): T {
  return {
    ...desired,
    create_at: typeof existing?.create_at === 'number' ? existing.create_at : nowMs,
    update_at: typeof existing?.update_at === 'number' ? existing.update_at : nowMs,
  } as T;
}

/** An entity as stored, without the attributes that locate its item. */
function storedEntity<T>(item: Record<string, unknown>): T {
  const { PK: _pk, SK: _sk, GSI1PK: _gsiPk, GSI1SK: _gsiSk, kind: _kind, ...entity } = item;
  return entity as T;
}

const hasKey = (write: DesiredItem, key: Key) => write.item.PK === key.PK && write.item.SK === key.SK;

/** The item among an entity's items that has this key (to write an entity without its pointers or secrets). */
function onlyItem(items: DesiredItem[], key: Key): DesiredItem[] {
  return items.filter((write) => hasKey(write, key));
}

/** The entity's own item first, as the planner expects, then its secrets and pointers. */
function entityFirst(items: DesiredItem[], key: Key): DesiredItem[] {
  return [...onlyItem(items, key), ...items.filter((write) => !hasKey(write, key))];
}

function secretsOf(item: Record<string, unknown> | undefined): Partial<IntegrationSecrets> {
  return {
    ...(typeof item?.token === 'string' ? { token: item.token } : {}),
    ...(typeof item?.signing_secret === 'string' ? { signing_secret: item.signing_secret } : {}),
  };
}

/** One run of the seed: validation, identity resolution and the plan, sharing what each section learnt. */
class SeedRun {
  private readonly store: EntityStore;
  private readonly stored: StoredItems;
  private readonly planner: Planner;
  private readonly nowMs: number;
  private readonly problems: string[] = [];
  private readonly summary: SeedSummary = {
    written_items: 0,
    unchanged_items: 0,
    teams: [],
    channels: [],
    users: [],
    incoming_webhooks: [],
    outgoing_webhooks: [],
    commands: [],
    action_signing_secret: null,
  };

  /** Teams and channels by name, from the file or, when the file only refers to them, from the store. */
  private readonly teams = new Map<string, Team>();
  private readonly channels = new Map<string, Channel>();
  private readonly users = new Map<string, User>();
  /** Custom roles the file defines, so memberships can name them before they are stored. */
  private readonly customRoles = new Set<string>();
  private readonly userTeams = new Map<string, Set<string>>();
  /** The teams of the `teams:` section: the only ones prune looks into. */
  private readonly namedTeamIds = new Set<string>();
  /** Channels the file names or refers to (a user's channels, a hook's channel): prune keeps them. */
  private readonly mentionedChannelIds = new Set<string>();
  /** Channels that are or become archived, whose remaining incoming hooks the run deletes. */
  private readonly archivedChannels: Channel[] = [];
  private readonly desiredMemberships = new Set<string>();
  private readonly namedIntegrations: Record<IntegrationKind, Map<string, string>> = { incoming: new Map(), outgoing: new Map(), command: new Map() };
  private readonly declaredKeys = new Map<string, string>();
  private readonly naturalKeys = new Map<string, string>();
  private readonly naturallyIdentified: string[] = [];
  private readonly userTokens = new Map<string, string>();
  /** What the named teams held before the run; read only when pruning. */
  private snapshot: TeamsSnapshot | undefined;
  private readonly commandTriggers = new Map<string, { where: string; id: string; teamId: string; trigger: string }>();

  constructor(
    private readonly fileName: string,
    private readonly options: SeedOptions,
  ) {
    this.store = options.store;
    this.nowMs = options.nowMs ?? Date.now();
    this.stored = new StoredItems(options.store);
    this.planner = new Planner(this.stored, this.nowMs);
  }

  private problem(where: string, message: string): void {
    this.problems.push(`${this.fileName}: ${where}: ${message}`);
  }

  private checkGivenId(where: string, id: string | undefined): void {
    if (id !== undefined && !isValidId(id)) this.problem(where, `id: "${id}" is not a 26-character letters-and-digits id`);
  }

  private checkLength(where: string, field: string, value: string, max: number): void {
    if (byteLength(value) > max) this.problem(where, `${field}: longer than ${max} bytes`);
  }

  /** The problems the API's validity rules (lib/integrations/webhook-validity.ts) find in an entry. */
  private reportFieldProblems(where: string, problems: FieldProblem[]): void {
    for (const { field, item, error } of problems) this.problem(where, `${field}: ${item === undefined ? '' : `"${item}": `}${error.message} (${error.id})`);
  }

  async plan(seed: SeedFile): Promise<void> {
    await this.planActionSigningSecret(seed.action_signing_secret);
    await this.planRoles(seed);
    await this.planTeams(seed);
    await this.planChannels(seed);
    await this.planUsers(seed);
    await this.planIncomingWebhooks(seed);
    await this.planOutgoingWebhooks(seed);
    await this.planCommands(seed);
    await this.checkCommandTriggers();
    if (this.problems.length > 0) throw new SeedValidationError(this.problems);
    if (this.options.prune) await this.planPrune(await this.snapshotOfNamedTeams());
    await this.planArchivedChannelHooks();
    if (this.naturallyIdentified.length > 0) {
      this.planner.note(
        `identified by natural key (neither id nor key): ${this.naturallyIdentified.join(', ')}; renaming one of these, ` +
          `or changing the trigger words of an outgoing hook without display name, creates a new entity (add key: to change it in place)`,
      );
    }
  }

  result(): PlannedSeed {
    const plan = this.planner.finish();
    const summary = { ...this.summary, written_items: plan.itemCount, unchanged_items: plan.unchangedItems };
    const store = this.store;
    return {
      plan,
      summary,
      async apply() {
        // Each transaction is all or nothing; a run needing several leaves whole entities behind
        // if it stops, and a rerun of the same file plans exactly what is missing.
        let applied = 0;
        try {
          for (const transaction of plan.transactions) {
            await store.writeTransaction(transaction);
            applied++;
          }
        } catch (error) {
          throw new SeedApplyError(applied, plan.transactions.length, error);
        }
        return summary;
      },
    };
  }

  /** A secret is shown in the run that creates or changes it, or always with showSecrets. */
  private reveal(secret: string, previous: string | undefined): string | null {
    return this.options.showSecrets || secret !== previous ? secret : null;
  }

  private async planActionSigningSecret(given: string | undefined): Promise<void> {
    const storedItem = await this.stored.get(keys.actionSigningSecret());
    const stored = typeof storedItem?.signing_secret === 'string' ? storedItem.signing_secret : undefined;
    if (given !== undefined && !/^whsec_[A-Za-z0-9+/]{43}=$/.test(given)) {
      this.problem('action_signing_secret', 'must be whsec_ and the base64 of 32 bytes');
    }
    const secret = given ?? stored ?? newSigningSecret();
    await this.planner.reconcile({ kind: 'system', name: 'action_signing_secret', id: '-', desired: [itemsFor.actionSigningSecret(secret)] });
    this.summary.action_signing_secret = this.reveal(secret, stored);
  }

  /**
   * The id of a team, channel or user, whose name is unique: a given id that exists wins (and a
   * new name renames it); otherwise the entity stored under the name; otherwise a new id.
   */
  private async resolveNamed(where: string, what: string, given: string | undefined, entityKey: (id: string) => Key, nameKey: Key, name: string) {
    this.checkGivenId(where, given);
    const byId = given !== undefined && isValidId(given) ? await this.stored.get(entityKey(given)) : undefined;
    const byName = await this.stored.target(nameKey);
    if (byId) {
      if (byName && byName !== given) this.problem(where, `name: "${name}" already names another ${what} (id ${byName})`);
      return { id: given!, stored: byId };
    }
    if (byName) {
      if (given !== undefined && given !== byName) this.problem(where, `id: ${what} "${name}" already exists with id ${byName}`);
      return { id: byName, stored: await this.stored.get(entityKey(byName)) };
    }
    return { id: given ?? newId(), stored: undefined };
  }

  /** A stored entity's former name pointer, freed when a rename moves the name. */
  private formerPointer(key: Key | undefined, name: string): FormerItem[] {
    return key ? [{ key, note: `old name "${name}" freed` }] : [];
  }

  private async planTeams(seed: SeedFile): Promise<void> {
    for (const [index, entry] of seed.teams.entries()) {
      const where = `teams[${index}] (${entry.name})`;
      if (!isValidTeamName(entry.name)) this.problem(where, 'name: must be 2-64 lowercase letters, digits or dashes, starting with a letter, and not reserved');
      if (this.teams.has(entry.name)) this.problem(where, `name: duplicate team name "${entry.name}"`);
      const { id, stored } = await this.resolveNamed(where, 'team', entry.id, keys.team, keys.teamName(entry.name), entry.name);
      const team = withTimestamps<Team>({ id, name: entry.name, display_name: entry.display_name ?? entry.name, delete_at: 0 }, stored, this.nowMs);
      this.teams.set(entry.name, team);
      this.namedTeamIds.add(id);
      const storedName = stored?.name as string | undefined;
      await this.planner.reconcile({
        kind: 'team',
        name: entry.name,
        id,
        desired: itemsFor.team(team),
        former: this.formerPointer(storedName !== undefined ? keys.teamName(storedName) : undefined, storedName ?? ''),
      });
      this.summary.teams.push({ name: team.name, id: team.id });
    }
  }

  private async findTeam(name: string): Promise<Team | undefined> {
    if (!this.teams.has(name)) {
      const stored = await this.store.getTeamByName(name);
      if (stored) this.teams.set(name, stored);
    }
    return this.teams.get(name);
  }

  /** A channel the file refers to; referring to it keeps it from prune. */
  private async findChannel(teamName: string, channelName: string): Promise<Channel | undefined> {
    const channelKey = `${teamName}/${channelName}`;
    if (!this.channels.has(channelKey)) {
      const team = await this.findTeam(teamName);
      const stored = team ? await this.store.getChannelByName(team.id, channelName) : undefined;
      if (stored) this.channels.set(channelKey, stored);
    }
    const channel = this.channels.get(channelKey);
    if (channel) this.mentionedChannelIds.add(channel.id);
    return channel;
  }

  private async planChannels(seed: SeedFile): Promise<void> {
    for (const [index, entry] of seed.channels.entries()) {
      const where = `channels[${index}] (${entry.team}/${entry.name})`;
      const team = await this.findTeam(entry.team);
      if (!team) {
        this.problem(where, `team: unknown team "${entry.team}"`);
        continue;
      }
      if (!isValidChannelName(entry.name)) this.problem(where, 'name: must be 2-64 lowercase letters, digits, dashes or underscores');
      const channelKey = `${entry.team}/${entry.name}`;
      if (this.channels.has(channelKey)) this.problem(where, `name: duplicate channel "${channelKey}"`);
      const { id, stored } = await this.resolveNamed(where, 'channel', entry.id, keys.channel, keys.channelName(team.id, entry.name), entry.name);
      const existing = stored ? storedEntity<Channel>(stored) : undefined;
      if (existing && existing.team_id !== team.id) this.problem(where, `id: channel ${id} belongs to another team`);
      // Archiving is one way, as the seed has always done: a file cannot unarchive a channel.
      const deleteAt = existing?.delete_at || (entry.archived ? this.nowMs : 0);
      const channel = withTimestamps<Channel>(
        {
          id,
          team_id: team.id,
          name: entry.name,
          display_name: entry.display_name ?? entry.name,
          type: entry.type,
          creator_id: existing?.creator_id ?? '',
          delete_at: deleteAt,
        },
        stored,
        this.nowMs,
      );
      this.channels.set(channelKey, channel);
      this.mentionedChannelIds.add(id);
      if (existing && deleteAt !== 0) this.archivedChannels.push(channel);
      await this.planner.reconcile({
        kind: 'channel',
        name: channelKey,
        id,
        desired: itemsFor.channel(channel),
        former: this.formerPointer(existing ? keys.channelName(existing.team_id, existing.name) : undefined, existing?.name ?? ''),
        ...(existing && deleteAt !== 0 && !existing.delete_at ? { removal: 'archive' as const } : {}),
      });
      this.summary.channels.push({ team: entry.team, name: entry.name, id, type: channel.type, archived: deleteAt !== 0 });
    }
  }

  /**
   * Custom roles: Mattermost permission ids under a new name. Roles the file no longer names stay
   * stored (like users), so memberships that still carry one keep their meaning.
   */
  private async planRoles(seed: SeedFile): Promise<void> {
    for (const [index, entry] of seed.roles.entries()) {
      const where = `roles[${index}] (${entry.name})`;
      if (!/^[a-z][a-z0-9_]{0,63}$/.test(entry.name)) this.problem(where, 'name: must be lowercase letters, digits or "_", starting with a letter, at most 64');
      if (isDefaultRole(entry.name)) this.problem(where, `name: "${entry.name}" is one of Mattermost's default roles`);
      if (this.customRoles.has(entry.name)) this.problem(where, `name: duplicate role "${entry.name}"`);
      const unknown = entry.permissions.filter((permission) => !isPermission(permission));
      if (unknown.length > 0) this.problem(where, `permissions: unknown ${unknown.map((name) => `"${name}"`).join(', ')}`);
      this.customRoles.add(entry.name);
      const role: Role = { name: entry.name, permissions: [...new Set(entry.permissions)].sort() };
      await this.planner.reconcile({ kind: 'role', name: entry.name, id: entry.name, desired: [itemsFor.role(role)] });
    }
  }

  /**
   * Role names as a membership stores them, Mattermost's way: the default role of the scope first
   * (`system_user`, `team_user`, `channel_user`: every user and member has it), then the others.
   * Names must be default roles of that scope or custom roles.
   */
  private async rolesOf(where: string, scope: 'system' | 'team' | 'channel', given: string[]): Promise<string> {
    const base = `${scope}_user`;
    for (const name of given) {
      const ofScope = isDefaultRole(name) && name.startsWith(`${scope}_`);
      if (!ofScope && !this.customRoles.has(name) && !(await this.store.getRole(name))) {
        this.problem(where, `roles: "${name}" is neither a ${scope} role (${Object.keys(DEFAULT_ROLES).filter((role) => role.startsWith(`${scope}_`)).join(', ')}) nor a custom role`);
      }
    }
    return [base, ...new Set(given.filter((name) => name !== base))].join(' ');
  }

  private async planUsers(seed: SeedFile): Promise<void> {
    for (const [index, entry] of seed.users.entries()) {
      const where = `users[${index}] (${entry.username})`;
      if (!isValidUsername(entry.username)) this.problem(where, 'username: must be lowercase letters, digits, ".", "-" or "_", starting with a letter, and not reserved');
      if (this.users.has(entry.username)) this.problem(where, `username: duplicate username "${entry.username}"`);
      if (entry.token !== undefined && entry.token.length < 26) this.problem(where, 'token: must be at least 26 characters (128 bits)');
      const { id, stored } = await this.resolveNamed(where, 'user', entry.id, keys.user, keys.username(entry.username), entry.username);
      const roles = await this.rolesOf(where, 'system', entry.roles);
      const user = withTimestamps<User>({ id, username: entry.username, roles, delete_at: 0 }, stored, this.nowMs);
      this.users.set(entry.username, user);
      const storedName = stored?.username as string | undefined;
      const desired: DesiredItem[] = [...itemsFor.user(user)];
      const former = this.formerPointer(storedName !== undefined ? keys.username(storedName) : undefined, storedName ?? '');
      // A new user without a token gets one, shown once; a stored user keeps whatever the seed gave it.
      const token = entry.token ?? (stored ? undefined : newId() + newId());
      let tokenKey: Key | undefined;
      const given = await this.stored.get(keys.seedUserToken(id));
      const givenHash = typeof given?.token_hash === 'string' ? given.token_hash : undefined;
      if (token !== undefined) {
        const tokenHash = hashToken(token);
        tokenKey = keys.userToken(tokenHash);
        const sameTokenAs = this.userTokens.get(tokenHash);
        if (sameTokenAs) this.problem(where, `token: same token as ${sameTokenAs}`);
        this.userTokens.set(tokenHash, where);
        const owner = await this.stored.target(tokenKey);
        if (owner && owner !== id) this.problem(where, 'token: already the token of another user');
        desired.push(...(await this.seedAccessToken(id, tokenHash, 'token set')), itemsFor.seedUserToken(id, tokenHash));
        // The token the seed gave before is revoked in the same write that sets the new one.
        if (givenHash !== undefined && givenHash !== tokenHash) former.push(...(await this.formerSeedToken(givenHash)));
      } else if (givenHash !== undefined && isLegacyTokenItem(await this.stored.get(keys.userToken(givenHash)))) {
        // A token the seed generated before tokens had metadata becomes a listed personal access token.
        desired.push(...(await this.seedAccessToken(id, givenHash, 'token stored as a personal access token')));
      }
      await this.planner.reconcile({ kind: 'user', name: entry.username, id, desired, former });
      const tokenShown = token !== undefined && (this.planner.wasWritten(tokenKey!) || (this.options.showSecrets && entry.token !== undefined));
      this.summary.users.push({ username: user.username, id, token: tokenShown ? token : null });
      await this.planMemberships(where, entry, user);
    }
  }

  /**
   * The seed's token of a user as a personal access token (description "seed", never expiring). A
   * stored one keeps its id, creation time and state, so a token disabled through the API stays
   * disabled and a second run writes nothing.
   */
  private async seedAccessToken(userId: string, tokenHash: string, note: string): Promise<DesiredItem[]> {
    const item = await this.stored.get(keys.userToken(tokenHash));
    const existing = isLegacyTokenItem(item) ? undefined : accessTokenFromItem(item);
    const token: UserAccessToken = {
      id: existing?.id ?? newId(),
      user_id: userId,
      description: existing?.description ?? SEED_TOKEN_DESCRIPTION,
      is_active: existing?.is_active ?? true,
      expires_at: existing?.expires_at ?? 0,
      create_at: existing?.create_at ?? this.nowMs,
    };
    const [tokenItem, idItem] = accessTokenItems(token, tokenHash);
    return [{ ...tokenItem!, note }, idItem!];
  }

  /** The items of the token the seed gave a user before, removed when the file gives another. */
  private async formerSeedToken(tokenHash: string): Promise<FormerItem[]> {
    const old = accessTokenFromItem(await this.stored.get(keys.userToken(tokenHash)));
    return [
      { key: keys.userToken(tokenHash), note: 'old token revoked' },
      ...(old && old.id !== '' ? [{ key: keys.accessTokenId(old.id) }] : []),
    ];
  }

  private async planMemberships(where: string, entry: SeedFile['users'][number], user: User): Promise<void> {
    const memberOf = new Set<string>();
    this.userTeams.set(user.username, memberOf);
    const membership = async (name: string, write: DesiredItem) => {
      this.desiredMemberships.add(`${write.item.PK}|${write.item.SK}`);
      await this.planner.reconcile({ kind: 'membership', name, id: user.id, desired: [write] });
    };
    for (const given of entry.teams) {
      const { name: teamName, roles } = typeof given === 'string' ? { name: given, roles: [] } : given;
      const team = await this.findTeam(teamName);
      if (!team) {
        this.problem(where, `teams: unknown team "${teamName}"`);
        continue;
      }
      memberOf.add(teamName);
      const memberRoles = await this.rolesOf(`${where} teams ${teamName}`, 'team', roles);
      await membership(`${teamName} <- ${user.username}`, itemsFor.teamMember(team.id, user.id, memberRoles));
    }
    for (const given of entry.channels) {
      const { name: reference, roles } = typeof given === 'string' ? { name: given, roles: [] } : given;
      const [teamName, channelName, ...rest] = reference.split('/');
      if (!teamName || !channelName || rest.length) {
        this.problem(where, `channels: "${reference}" is not team/channel`);
        continue;
      }
      const channel = await this.findChannel(teamName, channelName);
      if (!channel) this.problem(where, `channels: unknown channel "${reference}"`);
      else if (!memberOf.has(teamName)) this.problem(where, `channels: "${reference}" needs team "${teamName}" in teams`);
      else {
        const memberRoles = await this.rolesOf(`${where} channels ${reference}`, 'channel', roles);
        await membership(`${reference} <- ${user.username}`, itemsFor.channelMember(channel.id, user.id, memberRoles));
      }
    }
  }

  private async findUser(username: string): Promise<User | undefined> {
    if (!this.users.has(username)) {
      const stored = await this.store.getUserByUsername(username);
      if (stored) this.users.set(username, stored);
    }
    return this.users.get(username);
  }

  private async checkCreator(where: string, username: string, team: Team): Promise<User | undefined> {
    const user = await this.findUser(username);
    if (!user) {
      this.problem(where, `creator: unknown user "${username}"`);
      return user;
    }
    // A stored membership counts unless this run prunes it (a named team's membership the file does not list).
    const prunable = this.options.prune && this.namedTeamIds.has(team.id);
    const member = this.userTeams.get(username)?.has(team.name) || (!prunable && (await this.store.isTeamMember(team.id, user.id)));
    if (!member) this.problem(where, `creator: "${username}" is not a member of team "${team.name}"${prunable ? ' in this file' : ''}`);
    return user;
  }

  /**
   * The identity of a hook or command entry: its id; else its declared key (on the first run with
   * a key, the entity its natural key named, so adding a key adopts the entity); else its natural
   * key, as before keys existed. Returns the id and the seed pointer that remembers it.
   */
  private async integrationIdentity(
    where: string,
    kind: IntegrationKind,
    team: Team,
    entry: { id?: string | undefined; key?: string | undefined },
    naturalKey: string,
  ): Promise<{ id: string; pointers: DesiredItem[] }> {
    this.checkGivenId(where, entry.id);
    const naturalPointer = keys.seedKey(kind, naturalKey);
    let id: string;
    const pointers: DesiredItem[] = [];
    if (entry.key !== undefined) {
      if (!SEED_KEY_PATTERN.test(entry.key)) this.problem(where, `key: "${entry.key}" must be 1-64 lowercase letters, digits, ".", "-" or "_"`);
      const scopedKey = `${kind}/${team.id}/${entry.key}`;
      const sameKey = this.declaredKeys.get(scopedKey);
      if (sameKey) this.problem(where, `key: duplicate key "${entry.key}" in team "${team.name}" (also ${sameKey})`);
      this.declaredKeys.set(scopedKey, where);
      id = entry.id ?? (await this.stored.target(keys.seedDeclaredKey(kind, team.id, entry.key))) ?? (await this.stored.target(naturalPointer)) ?? newId();
      pointers.push(itemsFor.seedDeclaredKey(kind, team.id, entry.key, id));
    } else if (entry.id !== undefined) {
      id = entry.id;
    } else {
      const sameNaturalKey = this.naturalKeys.get(`${kind}/${naturalKey}`);
      if (sameNaturalKey) this.problem(where, `duplicate entry "${naturalKey}" (also ${sameNaturalKey}); give one a key`);
      this.naturalKeys.set(`${kind}/${naturalKey}`, where);
      this.naturallyIdentified.push(where);
      id = (await this.stored.target(naturalPointer)) ?? newId();
      pointers.push(itemsFor.seedKey(kind, naturalKey, id));
    }
    const sameEntity = this.namedIntegrations[kind].get(id);
    if (sameEntity) this.problem(where, `id: names the same ${INTEGRATION_LABELS[kind]} (${id}) as ${sameEntity}`);
    this.namedIntegrations[kind].set(id, where);
    return { id, pointers };
  }

  /** Given, else stored, else generated; `shown` holds what the summary may print. */
  private async integrationSecrets(kind: 'OUTHOOK' | 'COMMAND', id: string, entry: Partial<IntegrationSecrets>) {
    const stored = secretsOf(await this.stored.get(keys.secrets(kind, id)));
    const secrets: IntegrationSecrets = {
      token: entry.token ?? stored.token ?? newId(),
      signing_secret: entry.signing_secret ?? stored.signing_secret ?? newSigningSecret(),
    };
    return { secrets, shown: { token: this.reveal(secrets.token, stored.token), signing_secret: this.reveal(secrets.signing_secret, stored.signing_secret) } };
  }

  private async planIncomingWebhooks(seed: SeedFile): Promise<void> {
    for (const [index, entry] of seed.incoming_webhooks.entries()) {
      const where = `incoming_webhooks[${index}] (${entry.key ?? (entry.display_name || `${entry.team}/${entry.channel}`)})`;
      const team = await this.findTeam(entry.team);
      if (!team) {
        this.problem(where, `team: unknown team "${entry.team}"`);
        continue;
      }
      const channel = await this.findChannel(entry.team, entry.channel);
      if (!channel) this.problem(where, `channel: unknown channel "${entry.team}/${entry.channel}"`);
      const creator = await this.checkCreator(where, entry.creator, team);
      this.reportFieldProblems(where, incomingWebhookFieldProblems(entry));
      if (incomingUsernameProblem(entry.username)) this.problem(where, `username: "${entry.username}" is not a valid username`);
      const { id, pointers } = await this.integrationIdentity(where, 'incoming', team, entry, `${entry.team}/${entry.channel}/${entry.display_name}`);
      if (!channel || !creator) continue;
      const existing = await this.stored.get(keys.incomingWebhook(id));
      const storedDeleteAt = typeof existing?.delete_at === 'number' ? existing.delete_at : 0;
      // A hook the file names is live, except in an archived channel, where archiving deleted it.
      const deleteAt = channel.delete_at !== 0 ? storedDeleteAt || this.nowMs : 0;
      const hook = withTimestamps<IncomingWebhook>(
        {
          id,
          channel_id: channel.id,
          team_id: team.id,
          user_id: creator.id,
          display_name: entry.display_name,
          description: entry.description,
          username: entry.username,
          icon_url: entry.icon_url,
          channel_locked: entry.channel_locked,
          delete_at: deleteAt,
        },
        existing,
        this.nowMs,
      );
      await this.planner.reconcile({
        kind: 'incoming_webhook',
        name: `${entry.team}/${entry.channel} "${entry.display_name}"`,
        id,
        desired: [...itemsFor.incomingWebhook(hook), ...pointers],
      });
      this.summary.incoming_webhooks.push({ id, team: entry.team, channel: entry.channel, display_name: entry.display_name, url: `${this.options.siteUrl}/hooks/${id}` });
    }
  }

  private async planOutgoingWebhooks(seed: SeedFile): Promise<void> {
    for (const [index, entry] of seed.outgoing_webhooks.entries()) {
      const label = entry.display_name || `${entry.channel}:${entry.trigger_words.join(',')}`;
      const where = `outgoing_webhooks[${index}] (${entry.key ?? label})`;
      const team = await this.findTeam(entry.team);
      if (!team) {
        this.problem(where, `team: unknown team "${entry.team}"`);
        continue;
      }
      let channelId = '';
      if (entry.channel) {
        const channel = await this.findChannel(entry.team, entry.channel);
        if (!channel) this.problem(where, `channel: unknown channel "${entry.team}/${entry.channel}"`);
        else if (channel.type !== 'O') this.problem(where, `channel: outgoing webhooks work only in public channels`);
        else channelId = channel.id;
      } else if (entry.trigger_words.length === 0) {
        this.problem(where, 'trigger_words: either trigger_words or channel must be set');
      }
      if (entry.trigger_words.some((word) => word === '' || /\s/.test(word))) this.problem(where, 'trigger_words: empty or contains whitespace');
      this.reportFieldProblems(where, outgoingWebhookFieldProblems(entry));
      if (entry.token !== undefined && !isValidOutgoingToken(entry.token)) this.problem(where, 'token: must be 26 characters');
      const creator = await this.checkCreator(where, entry.creator, team);
      const { id, pointers } = await this.integrationIdentity(where, 'outgoing', team, entry, `${entry.team}/${label}`);
      if (!creator) continue;
      const existing = await this.stored.get(keys.outgoingWebhook(id));
      const { secrets, shown } = await this.integrationSecrets('OUTHOOK', id, entry);
      const hook = withTimestamps<OutgoingWebhook>(
        {
          id,
          creator_id: creator.id,
          channel_id: channelId,
          team_id: team.id,
          trigger_words: entry.trigger_words,
          trigger_when: entry.trigger_when,
          callback_urls: entry.callback_urls,
          display_name: entry.display_name,
          description: entry.description,
          content_type: entry.content_type,
          username: entry.username,
          icon_url: entry.icon_url,
          delete_at: 0,
        },
        existing,
        this.nowMs,
      );
      await this.planner.reconcile({
        kind: 'outgoing_webhook',
        name: `${entry.team} "${label}"`,
        id,
        desired: entityFirst([...itemsFor.outgoingWebhook(hook, secrets), ...pointers], keys.outgoingWebhook(id)),
      });
      this.summary.outgoing_webhooks.push({ id, team: entry.team, display_name: entry.display_name, ...shown });
    }
  }

  private async planCommands(seed: SeedFile): Promise<void> {
    for (const [index, entry] of seed.commands.entries()) {
      const where = `commands[${index}] (${entry.key ?? `/${entry.trigger}`})`;
      const team = await this.findTeam(entry.team);
      if (!team) {
        this.problem(where, `team: unknown team "${entry.team}"`);
        continue;
      }
      const trigger = entry.trigger.toLowerCase();
      // The API's rules (Command.IsValid), every failing field reported.
      const problems = [...commandFieldProblems(entry), ...(entry.token !== undefined ? [tokenProblem(entry.token)] : [])];
      for (const problem of problems) if (problem) this.problem(where, `${problem.field}: ${problem.error.message} (${problem.error.id})`);
      if (isBuiltInTrigger(trigger)) this.problem(where, `trigger: "${trigger}" is a built-in command`);
      const creator = await this.checkCreator(where, entry.creator, team);
      const { id, pointers } = await this.integrationIdentity(where, 'command', team, entry, `${entry.team}/${trigger}`);
      const sameTrigger = this.commandTriggers.get(`${team.id}/${trigger}`);
      if (sameTrigger) this.problem(where, `trigger: "/${trigger}" is also the trigger of ${sameTrigger.where}`);
      else this.commandTriggers.set(`${team.id}/${trigger}`, { where, id, teamId: team.id, trigger });
      if (!creator) continue;
      const existing = await this.stored.get(keys.command(id));
      const { secrets, shown } = await this.integrationSecrets('COMMAND', id, entry);
      const command = withTimestamps<Command>(
        {
          id,
          creator_id: creator.id,
          team_id: team.id,
          trigger,
          method: entry.method,
          url: entry.url,
          username: entry.username,
          icon_url: entry.icon_url,
          auto_complete: entry.auto_complete,
          auto_complete_desc: entry.auto_complete_desc,
          auto_complete_hint: entry.auto_complete_hint,
          display_name: entry.display_name,
          description: entry.description,
          delete_at: 0,
        },
        existing,
        this.nowMs,
      );
      const previous = existing ? storedEntity<Command>(existing) : undefined;
      await this.planner.reconcile({
        kind: 'command',
        name: `${entry.team} /${trigger}`,
        id,
        desired: entityFirst([...itemsFor.command(command, secrets), ...pointers], keys.command(id)),
        // The old trigger stops resolving in the same transaction that claims the new one.
        former: previous ? [{ key: keys.commandTrigger(previous.team_id, previous.trigger), note: `old trigger "/${previous.trigger}" freed` }] : [],
      });
      this.summary.commands.push({ id, team: entry.team, trigger, ...shown });
    }
  }

  /** A trigger held by a command the file does not name is taken; one handed between named commands is not. */
  private async checkCommandTriggers(): Promise<void> {
    for (const { where, id, teamId, trigger } of this.commandTriggers.values()) {
      const claimedBy = await this.stored.target(keys.commandTrigger(teamId, trigger));
      const freedByPrune = this.options.prune && this.namedTeamIds.has(teamId);
      if (claimedBy && claimedBy !== id && !this.namedIntegrations.command.has(claimedBy) && !freedByPrune) {
        this.problem(where, `trigger: "/${trigger}" is already used by command ${claimedBy}`);
      }
    }
  }

  private async snapshotOfNamedTeams(): Promise<TeamsSnapshot> {
    const snapshot = await snapshotTeams(this.store, (team) => this.namedTeamIds.has(team.id));
    for (const item of snapshot.items) this.stored.remember(item);
    this.snapshot = snapshot;
    return snapshot;
  }

  /** Soft-deletes an integration (Mattermost's delete_at), forgetting its seed keys and whatever else `former` names. */
  private async planIntegrationDeletion(removal: { kind: string; name: string; id: string; deletedItem: DesiredItem; why: string; former?: FormerItem[] }): Promise<void> {
    const seedPointers = (this.snapshot?.seedPointers ?? []).filter((pointer) => pointer.targetId === removal.id).map((pointer) => ({ key: pointer.key }));
    await this.planner.reconcile({
      kind: removal.kind,
      name: removal.name,
      id: removal.id,
      desired: [{ ...removal.deletedItem, note: removal.why }],
      former: [...(removal.former ?? []), ...seedPointers],
      removal: 'delete',
    });
  }

  private deleted<T extends { update_at: number; delete_at: number }>(entity: T): T {
    return { ...entity, delete_at: this.nowMs, update_at: this.nowMs };
  }

  /** Within the teams of the `teams:` section, removes what the file does not name. Users stay. */
  private async planPrune(snapshot: TeamsSnapshot): Promise<void> {
    const why = 'not in the file (prune)';
    const teamName = new Map(snapshot.teams.map((team) => [team.id, team.name]));
    const channelsById = new Map(snapshot.channels.map((channel) => [channel.id, channel]));
    const username = (userId: string) => snapshot.users.get(userId)?.username ?? userId;
    const memberships = [
      ...snapshot.teamMembers.map((member) => ({ key: member.key, userId: member.user_id, of: teamName.get(member.team_id) })),
      ...snapshot.channelMembers.map((member) => {
        const channel = channelsById.get(member.channel_id)!;
        return { key: member.key, userId: member.user_id, of: `${teamName.get(channel.team_id)}/${channel.name}` };
      }),
    ];
    for (const membership of memberships) {
      if (this.desiredMemberships.has(`${membership.key.PK}|${membership.key.SK}`)) continue;
      await this.planner.reconcile({
        kind: 'membership',
        name: `${membership.of} <- ${username(membership.userId)}`,
        id: membership.userId,
        desired: [],
        former: [{ key: membership.key, note: why }],
        removal: 'delete',
      });
    }
    const unnamedLive = <T extends { id: string; delete_at: number }>(kind: IntegrationKind, entities: T[]) =>
      entities.filter((entity) => entity.delete_at === 0 && !this.namedIntegrations[kind].has(entity.id));
    for (const hook of unnamedLive('incoming', snapshot.incomingWebhooks)) {
      const name = `${teamName.get(hook.team_id)}/${channelsById.get(hook.channel_id)?.name ?? hook.channel_id} "${hook.display_name}"`;
      await this.planIntegrationDeletion({ kind: 'incoming_webhook', name, id: hook.id, deletedItem: itemsFor.incomingWebhook(this.deleted(hook))[0]!, why });
    }
    // A deletion writes only the integration's own item; its stored secrets stay as they are.
    const noSecrets: IntegrationSecrets = { token: '', signing_secret: '' };
    for (const hook of unnamedLive('outgoing', snapshot.outgoingWebhooks)) {
      const name = `${teamName.get(hook.team_id)} "${hook.display_name || hook.trigger_words.join(',')}"`;
      const deletedItem = onlyItem(itemsFor.outgoingWebhook(this.deleted(hook), noSecrets), keys.outgoingWebhook(hook.id))[0]!;
      await this.planIntegrationDeletion({ kind: 'outgoing_webhook', name, id: hook.id, deletedItem, why });
    }
    for (const command of unnamedLive('command', snapshot.commands)) {
      const name = `${teamName.get(command.team_id)} /${command.trigger}`;
      const trigger = { key: keys.commandTrigger(command.team_id, command.trigger), note: `trigger "/${command.trigger}" freed` };
      const deletedItem = onlyItem(itemsFor.command(this.deleted(command), noSecrets), keys.command(command.id))[0]!;
      await this.planIntegrationDeletion({ kind: 'command', name, id: command.id, deletedItem, why, former: [trigger] });
    }
    for (const channel of snapshot.channels) {
      if (channel.delete_at !== 0 || this.mentionedChannelIds.has(channel.id)) continue;
      const archived = this.deleted(channel);
      this.archivedChannels.push(archived);
      await this.planner.reconcile({
        kind: 'channel',
        name: `${teamName.get(channel.team_id)}/${channel.name}`,
        id: channel.id,
        desired: itemsFor.channel(archived).slice(0, 1).map((write) => ({ ...write, note: why })),
        removal: 'archive',
      });
    }
  }

  /**
   * As in Mattermost, an archived channel's incoming hooks are deleted. Done for every archived
   * channel the run touches, not only those archived now, so a rerun finishes what a partial run
   * began.
   */
  private async planArchivedChannelHooks(): Promise<void> {
    for (const channel of this.archivedChannels) {
      const hooks = this.snapshot
        ? this.snapshot.incomingWebhooks.filter((hook) => hook.channel_id === channel.id)
        : await this.store.listIncomingWebhooksOfChannel(channel.id);
      for (const hook of hooks) {
        if (hook.delete_at !== 0 || this.namedIntegrations.incoming.has(hook.id)) continue;
        await this.planIntegrationDeletion({
          kind: 'incoming_webhook',
          name: `${channel.name} "${hook.display_name}"`,
          id: hook.id,
          deletedItem: itemsFor.incomingWebhook(this.deleted(hook))[0]!,
          why: 'its channel is archived',
        });
      }
    }
  }
}
