import { Logger } from '@aws-lambda-powertools/logger';
import { loadConfig, type Config } from './config.js';
import type { EdgeRuntime } from './edge-runtime.js';
import { TtlCache } from './cache.js';
import { AllowList } from './http/ssrf.js';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { documentClient } from './store/dynamo.js';
import { EntityStore } from './store/entities.js';
import { PostStore } from './store/posts.js';
import { createBusinessMetrics, type BusinessMetrics } from './metrics.js';
import { HookRateLimiter } from './rate-limit.js';
import { DynamoRateCounter } from './store/rate-counters.js';
import type { Channel, Command, IncomingWebhook, IntegrationSecrets, OutgoingWebhook, Team, User } from './model.js';

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
  private readonly tokens: TtlCache<string | undefined>;
  private readonly teams: TtlCache<Team | undefined>;
  private readonly outgoingHooks: TtlCache<OutgoingWebhook[]>;
  private readonly commands: TtlCache<Command | undefined>;
  private readonly system: TtlCache<string | undefined>;
  private readonly secrets: TtlCache<IntegrationSecrets | undefined>;

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
    this.outgoingHooks = new TtlCache(ttlMs);
    this.commands = new TtlCache(ttlMs);
    this.system = new TtlCache(ttlMs);
    this.secrets = new TtlCache(ttlMs);
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
  isChannelMember(channelId: string, userId: string) {
    return this.memberships.get(`${channelId}/${userId}`, () => this.store.isChannelMember(channelId, userId));
  }
  team(teamId: string) {
    return this.teams.get(teamId, () => this.store.getTeam(teamId));
  }
  outgoingWebhooksOfTeam(teamId: string) {
    return this.outgoingHooks.get(teamId, () => this.store.listOutgoingWebhooksOfTeam(teamId));
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
  userIdForTokenHash(tokenHash: string) {
    return this.tokens.get(tokenHash, () => this.store.resolveUserToken(tokenHash));
  }
  /** A direct channel is created once and never changes, so it is cached like any channel. */
  directChannel(userA: string, userB: string, nowMs: number) {
    const key = userA < userB ? `${userA}/${userB}` : `${userB}/${userA}`;
    return this.directChannels.get(key, () => this.store.getOrCreateDirectChannel(userA, userB, nowMs));
  }
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

/** The runtime of a deployed function: configuration from the environment, built once per instance. */
export function runtimeFromEnv(): Runtime {
  sharedRuntime ??= createRuntime(loadConfig(process.env));
  return sharedRuntime;
}
