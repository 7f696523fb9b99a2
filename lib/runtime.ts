import { Logger } from '@aws-lambda-powertools/logger';
import { loadConfig, type Config } from './config.js';
import { fromEnvironment, type EdgeRuntime } from './edge-runtime.js';
import { TtlCache } from './cache.js';
import { AllowList } from './http/ssrf.js';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { documentClient } from './store/dynamo.js';
import { EntityStore } from './store/entities.js';
import { PostStore } from './store/posts.js';
import { keys } from './store/keys.js';
import { createBusinessMetrics, type BusinessMetrics } from './metrics.js';
import { HookRateLimiter } from './rate-limit.js';
import { DynamoRateCounter } from './store/rate-counters.js';
import type { Channel, ChannelMember, Command, IncomingWebhook, IntegrationSecrets, Role, Team, TeamMember, User, UserAccessToken } from './model.js';

/**
 * Reads of configuration-like entities (hooks, channels, users, memberships) through per-instance
 * caches. Used on the hot paths; writes and reads that must be current go to the store directly.
 */
export class Directory {
  private readonly hooks: TtlCache<IncomingWebhook | undefined>;
  private readonly channels: TtlCache<Channel | undefined>;
  private readonly channelsByName: TtlCache<Channel | undefined>;
  private readonly directChannels: TtlCache<Channel>;
  private readonly users: TtlCache<User | undefined>;
  private readonly usersByName: TtlCache<User | undefined>;
  private readonly memberships: TtlCache<boolean>;
  private readonly tokens: TtlCache<UserAccessToken | undefined>;
  private readonly teams: TtlCache<Team | undefined>;
  private readonly teamsByName: TtlCache<Team | undefined>;
  private readonly commands: TtlCache<Command | undefined>;
  private readonly system: TtlCache<string | undefined>;
  private readonly secrets: TtlCache<IntegrationSecrets | undefined>;
  private readonly teamMembers: TtlCache<TeamMember | undefined>;
  private readonly channelMembers: TtlCache<ChannelMember | undefined>;
  private readonly roles: TtlCache<Role | undefined>;

  constructor(
    readonly store: EntityStore,
    ttlMs: number,
  ) {
    this.hooks = new TtlCache(ttlMs);
    this.channels = new TtlCache(ttlMs);
    this.channelsByName = new TtlCache(ttlMs);
    this.directChannels = new TtlCache(ttlMs);
    this.users = new TtlCache(ttlMs);
    this.usersByName = new TtlCache(ttlMs);
    this.memberships = new TtlCache(ttlMs);
    this.tokens = new TtlCache(ttlMs);
    this.teams = new TtlCache(ttlMs);
    this.teamsByName = new TtlCache(ttlMs);
    this.commands = new TtlCache(ttlMs);
    this.system = new TtlCache(ttlMs);
    this.secrets = new TtlCache(ttlMs);
    this.teamMembers = new TtlCache(ttlMs);
    this.channelMembers = new TtlCache(ttlMs);
    this.roles = new TtlCache(ttlMs);
  }

  incomingWebhook(hookId: string) {
    return this.hooks.get(hookId, () => this.store.getIncomingWebhook(hookId));
  }
  channel(channelId: string) {
    return this.channels.get(channelId, () => this.store.getChannel(channelId));
  }
  channelByName(teamId: string, name: string) {
    return this.channelsByName.get(`${teamId}/${name}`, () => this.store.getChannelByName(teamId, name));
  }
  user(userId: string) {
    return this.users.get(userId, () => this.store.getUser(userId));
  }
  userByUsername(username: string) {
    return this.usersByName.get(username.toLowerCase(), () => this.store.getUserByUsername(username));
  }
  /** Users by username, through the same cache, the uncached ones read in batches (two BatchGetItems per 100). */
  async usersByUsernames(usernames: string[]): Promise<Map<string, User>> {
    const lowered = [...new Set(usernames.map((name) => name.toLowerCase()))];
    const found = await cachedMany(this.usersByName, lowered, async (missing) => {
      const pointers = await this.store.getMany<{ target_id?: string }>(missing.map((name) => keys.username(name)));
      const userIds = pointers.map((pointer) => pointer?.target_id);
      const users = await this.store.getMany<User>(userIds.filter((id) => id !== undefined).map((id) => keys.user(id)));
      const byId = new Map(users.filter((user) => user !== undefined).map((user) => [user.id, user]));
      return missing.map((_, index) => (userIds[index] === undefined ? undefined : byId.get(userIds[index]!)));
    });
    return new Map([...found].filter((entry): entry is [string, User] => entry[1] !== undefined));
  }
  /** Channels of a team by name, through the same cache, the uncached ones read in batches. */
  async channelsByNames(teamId: string, names: string[]): Promise<Map<string, Channel>> {
    const unique = [...new Set(names)];
    const found = await cachedMany(this.channelsByName, unique.map((name) => `${teamId}/${name}`), async (missing) => {
      const pointers = await this.store.getMany<{ target_id?: string }>(missing.map((key) => keys.channelName(teamId, key.slice(teamId.length + 1))));
      const channelIds = pointers.map((pointer) => pointer?.target_id);
      const channels = await this.store.getMany<Channel>(channelIds.filter((id) => id !== undefined).map((id) => keys.channel(id)));
      const byId = new Map(channels.filter((channel) => channel !== undefined).map((channel) => [channel.id, channel]));
      return missing.map((_, index) => (channelIds[index] === undefined ? undefined : byId.get(channelIds[index]!)));
    });
    const byName = new Map<string, Channel>();
    for (const name of unique) {
      const channel = found.get(`${teamId}/${name}`);
      if (channel) byName.set(name, channel);
    }
    return byName;
  }
  /** Which of these users are members of the team: one BatchGetItem per 100 users, not cached (as `isTeamMember`). */
  async teamMembersAmong(teamId: string, userIds: string[]): Promise<Set<string>> {
    const unique = [...new Set(userIds)];
    const memberships = await this.store.getMany<Record<string, unknown>>(unique.map((userId) => keys.teamMember(teamId, userId)));
    return new Set(unique.filter((_, index) => memberships[index] !== undefined));
  }
  isChannelMember(channelId: string, userId: string) {
    return this.memberships.get(`${channelId}/${userId}`, () => this.store.isChannelMember(channelId, userId));
  }
  /** A team membership with its roles, for permission checks. */
  teamMember(teamId: string, userId: string) {
    return this.teamMembers.get(`${teamId}/${userId}`, () => this.store.getTeamMember(teamId, userId));
  }
  /** A channel membership with its roles, for permission checks. */
  channelMember(channelId: string, userId: string) {
    return this.channelMembers.get(`${channelId}/${userId}`, () => this.store.getChannelMember(channelId, userId));
  }
  /** A custom role from the seed file. */
  customRole(name: string) {
    return this.roles.get(name, () => this.store.getRole(name));
  }
  team(teamId: string) {
    return this.teams.get(teamId, () => this.store.getTeam(teamId));
  }
  /** A team by its (lowercase) name, cached like channels by name. */
  teamByName(name: string) {
    return this.teamsByName.get(name, () => this.store.getTeamByName(name));
  }
  /** The deployment's action signing secret, written by the seed. */
  actionSigningSecret() {
    return this.system.get('action_signing_secret', () => this.store.getActionSigningSecret());
  }
  /** A command's token and signing secret, cached like the command itself. */
  commandSecrets(commandId: string) {
    return this.secrets.get(commandId, () => this.store.getIntegrationSecrets('COMMAND', commandId));
  }
  commandByTrigger(teamId: string, trigger: string) {
    return this.commands.get(`${teamId}/${trigger}`, () => this.store.getCommandByTrigger(teamId, trigger));
  }
  /**
   * The personal access token with this hash. A disabled or revoked token keeps working on a warm
   * instance until its entry expires (ENTITY_CACHE_TTL_SECONDS); the instance that changes it forgets it at once.
   */
  accessTokenByHash(tokenHash: string) {
    return this.tokens.get(tokenHash, () => this.store.accessTokens.byHash(tokenHash));
  }
  forgetAccessToken(tokenHash: string): void {
    this.tokens.delete(tokenHash);
  }
  /**
   * A direct channel is created once and never changes, so it is cached like any channel; `load`
   * gets or creates it (lib/direct-channels.ts, which announces a new one).
   */
  directChannel(userA: string, userB: string, load: () => Promise<Channel>) {
    const key = userA < userB ? `${userA}/${userB}` : `${userB}/${userA}`;
    return this.directChannels.get(key, load);
  }
}

/**
 * Values of `cacheKeys` through `cache`: the keys it does not hold are loaded together by one
 * `loadMissing` call (its answers in the order of the missing keys) and cached like single loads.
 */
async function cachedMany<V>(
  cache: TtlCache<V | undefined>,
  cacheKeys: string[],
  loadMissing: (missing: string[]) => Promise<Array<V | undefined>>,
): Promise<Map<string, V | undefined>> {
  const missing: string[] = [];
  let settle!: { resolve: (values: Map<string, V | undefined>) => void; reject: (error: unknown) => void };
  const batch = new Promise<Map<string, V | undefined>>((resolve, reject) => (settle = { resolve, reject }));
  // `get` calls the loader at once for a key it does not hold, so `missing` is complete after this line.
  const values = cacheKeys.map((key) => cache.get(key, () => (missing.push(key), batch.then((loaded) => loaded.get(key)))));
  if (missing.length > 0) {
    loadMissing(missing).then(
      (loaded) => settle.resolve(new Map(missing.map((key, index) => [key, loaded[index]]))),
      (error: unknown) => settle.reject(error),
    );
  } else settle.resolve(new Map());
  const results = await Promise.all(values);
  return new Map(cacheKeys.map((key, index) => [key, results[index]]));
}

export interface Runtime extends EdgeRuntime {
  entities: EntityStore;
  posts: PostStore;
  directory: Directory;
  /** The outbound SSRF allow list, parsed once from ALLOWED_UNTRUSTED_INTERNAL_CONNECTIONS. */
  allowList: AllowList;
  /** EMF business metrics: posts by source, deliveries by outcome, integration calls and latency. */
  metrics: BusinessMetrics;
  /** Per-hook limit of incoming webhook posts; undefined when switched off. */
  hookRateLimiter: HookRateLimiter | undefined;
  nowMs: () => number;
}

export function createRuntime(
  config: Config,
  logger = new Logger({ serviceName: 'hookline' }),
  db: DynamoDBDocumentClient = documentClient({ endpoint: config.dynamodbEndpoint, region: config.region }),
  metrics: BusinessMetrics = createBusinessMetrics(),
): Runtime {
  const entities = new EntityStore(db, config.tables.entities);
  return {
    config,
    entities,
    posts: new PostStore(db, config.tables.posts),
    directory: new Directory(entities, config.entityCacheTtlMs),
    allowList: new AllowList(config.allowedUntrustedInternalConnections),
    logger,
    metrics,
    hookRateLimiter: config.incomingWebhookRateLimit
      ? new HookRateLimiter(config.incomingWebhookRateLimit, new DynamoRateCounter(db, config.tables.entities))
      : undefined,
    nowMs: Date.now,
  };
}

let sharedRuntime: Runtime | undefined;

/** The runtime of a deployed function: configuration from the environment, built once per instance (see `fromEnvironment`). */
export function runtimeFromEnv(): Runtime {
  sharedRuntime ??= fromEnvironment(() => createRuntime(loadConfig(process.env)));
  return sharedRuntime;
}
