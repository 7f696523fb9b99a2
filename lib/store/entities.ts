import {
  GetCommand,
  PutCommand,
  ScanCommand,
  TransactWriteCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import type { Channel, ChannelMember, Command, CommandWebhook, IncomingWebhook, IntegrationSecrets, OutgoingWebhook, Role, Team, TeamMember, User } from '../model.js';
import { newId } from '../ids.js';
import { directChannelName, indexes, keys, type Key } from './keys.js';
import { batchGetAll, conditionHeld, isConditionFailure, queryAll } from './dynamo.js';
import { AccessTokenStore } from './access-tokens.js';

/** An item written by the seed or a use case: the full attribute map and whether it must be new. */
export interface ItemWrite {
  item: Record<string, unknown> & Key;
  createOnly?: boolean;
}

const KEY_ATTRIBUTES = ['PK', 'SK', 'GSI1PK', 'GSI1SK', 'kind'];

/**
 * The roles of a membership that names none: memberships and users stored before roles existed
 * read with these, which is what they meant (a plain member, a plain user).
 */
export const DEFAULT_SYSTEM_ROLES = 'system_user';
export const DEFAULT_TEAM_MEMBER_ROLES = 'team_user';
export const DEFAULT_CHANNEL_MEMBER_ROLES = 'channel_user';

function withRoles<T extends { roles?: unknown }>(entity: T | undefined, defaultRoles: string): T | undefined {
  if (!entity) return undefined;
  return typeof entity.roles === 'string' && entity.roles.trim() !== '' ? entity : { ...entity, roles: defaultRoles };
}

function stripKeys<T>(item: Record<string, unknown> | undefined): T | undefined {
  if (!item) return undefined;
  const entity: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(item)) if (!KEY_ATTRIBUTES.includes(name)) entity[name] = value;
  return entity as T;
}

/** The items that store each entity: the entity itself plus the pointers that make its name unique. */
export const itemsFor = {
  team: (team: Team): ItemWrite[] => [
    { item: { ...keys.team(team.id), kind: 'team', ...team } },
    { item: { ...keys.teamName(team.name), kind: 'pointer', target_id: team.id } },
  ],
  channel: (channel: Channel): ItemWrite[] => [
    { item: { ...keys.channel(channel.id), kind: 'channel', ...channel } },
    { item: { ...keys.channelName(channel.team_id, channel.name), kind: 'pointer', target_id: channel.id } },
  ],
  user: (user: User): ItemWrite[] => [
    { item: { ...keys.user(user.id), kind: 'user', ...user } },
    { item: { ...keys.username(user.username), kind: 'pointer', target_id: user.id } },
  ],
  teamMember: (teamId: string, userId: string, roles = DEFAULT_TEAM_MEMBER_ROLES): ItemWrite => ({
    item: {
      ...keys.teamMember(teamId, userId),
      kind: 'team_member',
      GSI1PK: keys.teamsOfUser(userId),
      GSI1SK: `TEAM#${teamId}`,
      team_id: teamId,
      user_id: userId,
      roles,
    },
  }),
  channelMember: (channelId: string, userId: string, roles = DEFAULT_CHANNEL_MEMBER_ROLES): ItemWrite => ({
    item: {
      ...keys.channelMember(channelId, userId),
      kind: 'channel_member',
      GSI1PK: keys.channelsOfUser(userId),
      GSI1SK: `CHANNEL#${channelId}`,
      channel_id: channelId,
      user_id: userId,
      roles,
    },
  }),
  /** A custom role, defined by the seed file. */
  role: (role: Role): ItemWrite => ({ item: { ...keys.role(role.name), kind: 'role', ...role } }),
  /** An incoming hook, and (while it is not deleted) its listing in its team (keys.incomingWebhookOfTeam). */
  incomingWebhook: (hook: IncomingWebhook): ItemWrite[] => [
    {
      item: {
        ...keys.incomingWebhook(hook.id),
        kind: 'incoming_webhook',
        GSI1PK: keys.hooksOfChannel(hook.channel_id),
        GSI1SK: `INHOOK#${hook.id}`,
        ...hook,
      },
    },
    ...(hook.delete_at === 0
      ? [
          {
            item: {
              ...keys.incomingWebhookOfTeam(hook.team_id, hook.id),
              kind: 'incoming_webhook_listing',
              GSI1PK: keys.allIncomingWebhooks(),
              GSI1SK: `INHOOK#${hook.id}`,
              hook_id: hook.id,
            },
          },
        ]
      : []),
  ],
  /** An outgoing hook, its credentials in their own item (keys.secrets), and (while it is not deleted) its listing. */
  outgoingWebhook: (hook: OutgoingWebhook, secrets: IntegrationSecrets): ItemWrite[] => [
    { item: { ...keys.secrets('OUTHOOK', hook.id), kind: 'secrets', ...secrets } },
    {
      item: {
        ...keys.outgoingWebhook(hook.id),
        kind: 'outgoing_webhook',
        GSI1PK: keys.integrationsOfTeam('OUTHOOK', hook.team_id),
        GSI1SK: `OUTHOOK#${hook.id}`,
        ...hook,
      },
    },
    ...(hook.delete_at === 0 ? [{ item: { ...keys.outgoingWebhookListing(hook.id), kind: 'outgoing_webhook_listing', hook_id: hook.id } }] : []),
  ],
  /** A command, its trigger's pointer, and its credentials in their own item (keys.secrets). */
  command: (command: Command, secrets: IntegrationSecrets): ItemWrite[] => [
    { item: { ...keys.secrets('COMMAND', command.id), kind: 'secrets', ...secrets } },
    {
      item: {
        ...keys.command(command.id),
        kind: 'command',
        GSI1PK: keys.integrationsOfTeam('COMMAND', command.team_id),
        GSI1SK: `COMMAND#${command.id}`,
        ...command,
      },
    },
    { item: { ...keys.commandTrigger(command.team_id, command.trigger), kind: 'pointer', target_id: command.id } },
  ],
  actionSigningSecret: (secret: string): ItemWrite => ({
    item: { ...keys.actionSigningSecret(), kind: 'secrets', signing_secret: secret },
  }),
  seedKey: (kind: string, naturalKey: string, targetId: string): ItemWrite => ({
    item: { ...keys.seedKey(kind, naturalKey), kind: 'pointer', target_id: targetId },
  }),
  /** Carries its parts so that an export can name the key without parsing the item's PK. */
  seedDeclaredKey: (kind: string, teamId: string, key: string, targetId: string): ItemWrite => ({
    item: { ...keys.seedDeclaredKey(kind, teamId, key), kind: 'seed_key', seed_kind: kind, team_id: teamId, key, target_id: targetId },
  }),
  seedUserToken: (userId: string, tokenHash: string): ItemWrite => ({
    item: { ...keys.seedUserToken(userId), kind: 'seed_token', user_id: userId, token_hash: tokenHash },
  }),
};

/** One operation of a transaction: an item written whole, or an item removed. */
export type ItemChange = { put: Record<string, unknown> & Key } | { delete: Key };

function secretsFrom(item: Record<string, unknown> | undefined): IntegrationSecrets | undefined {
  if (typeof item?.token !== 'string' || typeof item.signing_secret !== 'string') return undefined;
  const secrets: IntegrationSecrets = { token: item.token, signing_secret: item.signing_secret };
  if (typeof item.previous_signing_secret === 'string' && typeof item.previous_signing_secret_expires_at === 'number') {
    secrets.previous_signing_secret = item.previous_signing_secret;
    secrets.previous_signing_secret_expires_at = item.previous_signing_secret_expires_at;
  }
  return secrets;
}

/** DynamoDB allows 100 items in one transaction. */
const MAX_TRANSACTION_ITEMS = 100;

/** Another command of the team holds the trigger (its pointer exists). */
export class CommandTriggerTakenError extends Error {
  constructor() {
    super('the trigger is taken in this team');
    this.name = 'CommandTriggerTakenError';
  }
}

/** The command changed, or was deleted, between its read and the write. */
export class CommandChangedError extends Error {
  constructor() {
    super('the command changed meanwhile');
    this.name = 'CommandChangedError';
  }
}

/** Teams, channels, users, memberships and integrations in the entities table. */
export class EntityStore {
  /** Personal access tokens, in this table (lib/store/access-tokens.ts). */
  readonly accessTokens: AccessTokenStore;

  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {
    this.accessTokens = new AccessTokenStore(db, table, this);
  }

  async getRaw(key: Key): Promise<Record<string, unknown> | undefined> {
    const result = await this.db.send(new GetCommand({ TableName: this.table, Key: key }));
    return result.Item;
  }

  private async get<T>(key: Key): Promise<T | undefined> {
    return stripKeys<T>(await this.getRaw(key));
  }

  private async resolvePointer(key: Key): Promise<string | undefined> {
    const item = await this.getRaw(key);
    return typeof item?.target_id === 'string' ? item.target_id : undefined;
  }

  getTeam(teamId: string) {
    return this.get<Team>(keys.team(teamId));
  }

  async getTeamByName(name: string): Promise<Team | undefined> {
    const teamId = await this.resolvePointer(keys.teamName(name));
    return teamId ? this.getTeam(teamId) : undefined;
  }

  getChannel(channelId: string) {
    return this.get<Channel>(keys.channel(channelId));
  }

  async getChannelByName(teamId: string, name: string): Promise<Channel | undefined> {
    const channelId = await this.resolvePointer(keys.channelName(teamId, name));
    return channelId ? this.getChannel(channelId) : undefined;
  }

  async getUser(userId: string): Promise<User | undefined> {
    return withRoles(await this.get<User>(keys.user(userId)), DEFAULT_SYSTEM_ROLES);
  }

  async getTeamMember(teamId: string, userId: string): Promise<TeamMember | undefined> {
    const member = await this.get<TeamMember>(keys.teamMember(teamId, userId));
    return withRoles(member && { ...member, delete_at: member.delete_at ?? 0 }, DEFAULT_TEAM_MEMBER_ROLES);
  }

  async getChannelMember(channelId: string, userId: string): Promise<ChannelMember | undefined> {
    return withRoles(await this.get<ChannelMember>(keys.channelMember(channelId, userId)), DEFAULT_CHANNEL_MEMBER_ROLES);
  }

  /** A custom role (the default roles are in lib/permissions.ts and never stored). */
  getRole(name: string) {
    return this.get<Role>(keys.role(name));
  }

  /**
   * Remembers the URLs of a dialog opened for a user (its submit URL and its lookup URLs, by hash)
   * until `expiresAtSeconds` (DynamoDB TTL; reads check the time too). One transaction.
   */
  async putOpenedDialog(userId: string, urls: Array<{ purpose: 'submit' | 'lookup'; urlHash: string }>, expiresAtSeconds: number): Promise<void> {
    await this.writeTransaction(urls.map(({ purpose, urlHash }) => ({ put: { ...keys.openedDialog(userId, purpose, urlHash), kind: 'opened_dialog', expires_at: expiresAtSeconds } })));
  }

  /** Whether a dialog with that URL (for that purpose) is open for the user. */
  async isDialogOpen(userId: string, purpose: 'submit' | 'lookup', urlHash: string, nowSeconds: number): Promise<boolean> {
    const item = await this.getRaw(keys.openedDialog(userId, purpose, urlHash));
    return item !== undefined && Number(item.expires_at) > nowSeconds;
  }

  /** Writes one audit record; the caller has built it (lib/audit.ts). */
  async putAuditRecord(record: Record<string, unknown> & { time_ms: number; id: string; expires_at: number }): Promise<void> {
    await this.db.send(new PutCommand({ TableName: this.table, Item: { ...keys.auditRecord(record.time_ms, record.id), kind: 'audit', ...record } }));
  }

  /**
   * Audit records newest first, at most `limit`: those from `sinceMs` on and older than `before`
   * (a record's time and id, the last of the previous page), else from the day of `untilMs` back.
   * One Query per UTC day, newest day first.
   */
  async auditRecordsNewestFirst(options: {
    sinceMs: number;
    untilMs: number;
    before?: { timeMs: number; id: string };
    limit: number;
  }): Promise<Array<Record<string, unknown>>> {
    const { sinceMs, before, limit } = options;
    const records: Array<Record<string, unknown>> = [];
    // A cursor older than the window leaves nothing to list (and an empty key range DynamoDB refuses).
    if (before && before.timeMs < sinceMs) return records;
    const dayMs = 86_400_000;
    const newestMs = before?.timeMs ?? options.untilMs;
    const newestDay = newestMs - (newestMs % dayMs);
    const beforeSK = before ? keys.auditRecord(before.timeMs, before.id).SK : undefined;
    for (let dayStart = newestDay; dayStart + dayMs > sinceMs && records.length < limit; dayStart -= dayMs) {
      const from = keys.auditRecord(Math.max(dayStart, sinceMs), '');
      // `~` sorts after every digit and id letter: the rest of the day. The cursor itself is read
      // (the range is inclusive) and dropped, so one more item is asked for.
      const to = beforeSK !== undefined && dayStart === newestDay ? beforeSK : '~';
      const items = await queryAll(
        this.db,
        {
          TableName: this.table,
          KeyConditionExpression: 'PK = :day AND SK BETWEEN :from AND :to',
          ExpressionAttributeValues: { ':day': from.PK, ':from': from.SK, ':to': to },
          ScanIndexForward: false,
        },
        limit - records.length + (to === beforeSK ? 1 : 0),
      );
      for (const item of items) if (item.SK !== beforeSK && records.length < limit) records.push(stripKeys<Record<string, unknown>>(item)!);
    }
    return records;
  }

  async getUserByUsername(username: string): Promise<User | undefined> {
    const userId = await this.resolvePointer(keys.username(username.toLowerCase()));
    return userId ? this.getUser(userId) : undefined;
  }

  /** The user a token's hash belongs to, whether or not the token is active (either stored shape). */
  resolveUserToken(tokenHash: string): Promise<string | undefined> {
    return this.resolvePointer(keys.userToken(tokenHash));
  }

  /** The ids of the teams a user belongs to, at most `limit` (GSI1, so eventually consistent). */
  teamIdsOfUser(userId: string, limit: number): Promise<string[]> {
    return this.attributeUnder(keys.teamsOfUser(userId), 'team_id', limit);
  }

  /** The ids of the channels a user belongs to, at most `limit` (GSI1, so eventually consistent). */
  channelIdsOfUser(userId: string, limit: number): Promise<string[]> {
    return this.attributeUnder(keys.channelsOfUser(userId), 'channel_id', limit);
  }

  /** One attribute of the items listed under a GSI1 partition, at most `limit` of them. */
  private async attributeUnder(parentKey: string, attribute: string, limit: number): Promise<string[]> {
    const items = await queryAll(
      this.db,
      {
        TableName: this.table,
        IndexName: indexes.byParent,
        KeyConditionExpression: 'GSI1PK = :parent',
        ExpressionAttributeValues: { ':parent': parentKey },
      },
      limit,
    );
    return items.map((item) => String(item[attribute]));
  }

  async isTeamMember(teamId: string, userId: string): Promise<boolean> {
    return (await this.getRaw(keys.teamMember(teamId, userId))) !== undefined;
  }

  /** The ids of a channel's members, at most `limit`: one Query of the channel's partition (live events' fan-out). */
  async channelMemberIds(channelId: string, limit: number): Promise<string[]> {
    const items = await queryAll(
      this.db,
      {
        TableName: this.table,
        KeyConditionExpression: 'PK = :channel AND begins_with(SK, :members)',
        ExpressionAttributeValues: { ':channel': keys.channel(channelId).PK, ':members': keys.channelMembersPrefix() },
        ProjectionExpression: 'user_id',
      },
      limit,
    );
    return items.map((item) => String(item.user_id));
  }

  async isChannelMember(channelId: string, userId: string): Promise<boolean> {
    return (await this.getRaw(keys.channelMember(channelId, userId))) !== undefined;
  }

  getIncomingWebhook(hookId: string) {
    return this.get<IncomingWebhook>(keys.incomingWebhook(hookId));
  }

  getOutgoingWebhook(hookId: string) {
    return this.get<OutgoingWebhook>(keys.outgoingWebhook(hookId));
  }

  getCommand(commandId: string) {
    return this.get<Command>(keys.command(commandId));
  }

  /** An integration's token and signing secret; only the functions that call integrations may read them. */
  async getIntegrationSecrets(kind: 'OUTHOOK' | 'COMMAND', id: string): Promise<IntegrationSecrets | undefined> {
    return secretsFrom(await this.getRaw(keys.secrets(kind, id)));
  }

  /**
   * An outgoing hook with its credentials, in one request (BatchGetItem), strongly consistent:
   * the worker reads both at every attempt, so a changed token or URL applies at once.
   */
  async getOutgoingWebhookWithSecrets(hookId: string): Promise<{ hook: OutgoingWebhook; secrets: IntegrationSecrets } | undefined> {
    const wanted = [keys.outgoingWebhook(hookId), keys.secrets('OUTHOOK', hookId)];
    const found = await batchGetAll(this.db, this.table, wanted, { consistent: true });
    const hookItem = found.find((item) => item.PK === wanted[0]!.PK);
    const secrets = secretsFrom(found.find((item) => item.PK === wanted[1]!.PK));
    return hookItem && secrets ? { hook: stripKeys<OutgoingWebhook>(hookItem)!, secrets } : undefined;
  }

  async getActionSigningSecret(): Promise<string | undefined> {
    const item = await this.getRaw(keys.actionSigningSecret());
    return typeof item?.signing_secret === 'string' ? item.signing_secret : undefined;
  }

  async getCommandByTrigger(teamId: string, trigger: string): Promise<Command | undefined> {
    const commandId = await this.resolvePointer(keys.commandTrigger(teamId, trigger));
    return commandId ? this.getCommand(commandId) : undefined;
  }

  listCommandsOfTeam(teamId: string): Promise<Command[]> {
    return this.listChildren<Command>(keys.integrationsOfTeam('COMMAND', teamId));
  }

  /**
   * Creates a command with its credentials and its trigger's pointer in one transaction. The
   * pointer must not exist: of two concurrent creates with one trigger in one team, one wins and
   * the other gets `CommandTriggerTakenError`, with nothing written.
   */
  async createCommand(command: Command, secrets: IntegrationSecrets): Promise<void> {
    const [secretsItem, commandItem, pointerItem] = itemsFor.command(command, secrets).map((write) => write.item);
    const createOnly = (item: Record<string, unknown>) => ({ Put: { TableName: this.table, Item: item, ConditionExpression: 'attribute_not_exists(PK)' } });
    await this.commandTransaction([createOnly(secretsItem!), createOnly(commandItem!), createOnly(pointerItem!)], 2);
  }

  /**
   * Replaces a stored command by `next` (an update, a move, a soft delete, a new token) in one
   * transaction: the command only if it is still `previous` (same `update_at`, not deleted), else
   * `CommandChangedError`; its trigger's pointer moved when the team or trigger changes (the new one
   * must be free, else `CommandTriggerTakenError`) and removed on delete, which frees the trigger;
   * its credentials when `secrets` is given.
   */
  async replaceCommand(previous: Command, next: Command, secrets?: IntegrationSecrets): Promise<void> {
    const [secretsItem, commandItem, pointerItem] = itemsFor.command(next, secrets ?? { token: '', signing_secret: '' }).map((write) => write.item);
    const oldPointer = keys.commandTrigger(previous.team_id, previous.trigger);
    const operations: Record<string, unknown>[] = [
      {
        Put: {
          TableName: this.table,
          Item: commandItem,
          ConditionExpression: 'attribute_exists(PK) AND update_at = :previous AND delete_at = :zero',
          ExpressionAttributeValues: { ':previous': previous.update_at, ':zero': 0 },
        },
      },
    ];
    const moved = next.team_id !== previous.team_id || next.trigger !== previous.trigger;
    if (next.delete_at !== 0 || moved) {
      operations.push({
        Delete: {
          TableName: this.table,
          Key: oldPointer,
          // Only this command's pointer; an absent one (never written) is no reason to refuse.
          ConditionExpression: 'attribute_not_exists(PK) OR target_id = :id',
          ExpressionAttributeValues: { ':id': previous.id },
        },
      });
    }
    let pointerIndex = -1;
    if (next.delete_at === 0 && moved) {
      pointerIndex = operations.length;
      operations.push({ Put: { TableName: this.table, Item: pointerItem, ConditionExpression: 'attribute_not_exists(PK)' } });
    }
    if (secrets) operations.push({ Put: { TableName: this.table, Item: secretsItem } });
    await this.commandTransaction(operations, pointerIndex);
  }

  /** Runs a command's transaction, telling a taken trigger (the operation at `pointerIndex` failed) from a command changed meanwhile. */
  private async commandTransaction(operations: Record<string, unknown>[], pointerIndex: number): Promise<void> {
    try {
      await this.db.send(new TransactWriteCommand({ TransactItems: operations as never }));
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const reasons = (error as Error & { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
      if (pointerIndex >= 0 && reasons[pointerIndex]?.Code === 'ConditionalCheckFailed') throw new CommandTriggerTakenError();
      throw new CommandChangedError();
    }
  }

  /** Stores a `response_url`; DynamoDB's TTL removes it some time after `expiresAtSeconds`. */
  async createCommandWebhook(hook: CommandWebhook, expiresAtSeconds: number): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.table,
        Item: { ...keys.commandWebhook(hook.id), kind: 'command_webhook', ...hook, expires_at: expiresAtSeconds },
        ConditionExpression: 'attribute_not_exists(PK)',
      }),
    );
  }

  async getCommandWebhook(id: string): Promise<CommandWebhook | undefined> {
    const item = await this.getRaw(keys.commandWebhook(id));
    if (!item) return undefined;
    const { expires_at: _expires, ...hook } = stripKeys<CommandWebhook & { expires_at: number }>(item)!;
    return hook;
  }

  /** Counts one use if fewer than `maxUses` were counted: one conditional update, so concurrent uses cannot overshoot. */
  async tryUseCommandWebhook(id: string, maxUses: number): Promise<boolean> {
    return conditionHeld(
      this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.commandWebhook(id),
          UpdateExpression: 'ADD use_count :one',
          ConditionExpression: 'attribute_exists(PK) AND use_count < :max',
          ExpressionAttributeValues: { ':one': 1, ':max': maxUses },
        }),
      ),
    );
  }

  /**
   * The direct channel between two users, and whether this call created it. Creation is one
   * transaction whose conditions make it happen once: when two requests race, the loser reads the
   * winner's channel and `created` is true for the winner only.
   */
  async openDirectChannel(userA: string, userB: string, nowMs: number): Promise<{ channel: Channel; created: boolean }> {
    const name = directChannelName(userA, userB);
    const existing = await this.getChannelByName('', name);
    if (existing) return { channel: existing, created: false };
    const channel: Channel = {
      id: newId(),
      team_id: '',
      name,
      display_name: '',
      type: 'D',
      creator_id: userA,
      create_at: nowMs,
      update_at: nowMs,
      delete_at: 0,
    };
    const writes = [
      ...itemsFor.channel(channel).map((write) => ({ ...write, createOnly: true })),
      // A user's direct channel with themself has one member.
      ...[...new Set([userA, userB])].map((userId) => itemsFor.channelMember(channel.id, userId)),
    ];
    try {
      await this.transactWrite(writes);
      return { channel, created: true };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const winner = await this.getChannelByName('', name);
      if (!winner) throw error;
      return { channel: winner, created: false };
    }
  }

  /**
   * Archives a channel. As in Mattermost, archiving soft-deletes every incoming webhook of the
   * channel, and restoring the channel would not bring them back.
   */
  async archiveChannel(channelId: string, nowMs: number): Promise<void> {
    await this.db.send(
      new UpdateCommand({
        TableName: this.table,
        Key: keys.channel(channelId),
        UpdateExpression: 'SET delete_at = :now, update_at = :now',
        ConditionExpression: 'attribute_exists(PK) AND delete_at = :zero',
        ExpressionAttributeValues: { ':now': nowMs, ':zero': 0 },
      }),
    ).catch((error: unknown) => {
      if (!isConditionFailure(error)) throw error;
    });
    for (const hook of await this.listIncomingWebhooksOfChannel(channelId)) {
      if (hook.delete_at !== 0) continue;
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.incomingWebhook(hook.id),
          UpdateExpression: 'SET delete_at = :now, update_at = :now',
          ExpressionAttributeValues: { ':now': nowMs },
        }),
      );
    }
  }

  listIncomingWebhooksOfChannel(channelId: string): Promise<IncomingWebhook[]> {
    return this.listChildren<IncomingWebhook>(keys.hooksOfChannel(channelId));
  }

  /**
   * The ids of the incoming hooks listed in a team (strongly consistent). A listing may outlive
   * its hook when the seed soft-deletes one, so callers read the hooks and skip deleted ones.
   */
  async incomingWebhookIdsOfTeam(teamId: string): Promise<string[]> {
    const items = await queryAll(this.db, {
      TableName: this.table,
      KeyConditionExpression: 'PK = :pk',
      ExpressionAttributeValues: { ':pk': keys.incomingWebhooksOfTeam(teamId) },
      ConsistentRead: true,
    });
    return items.map((item) => String(item.hook_id));
  }

  /** The ids of every listed incoming hook (GSI1, eventually consistent: callers read the hooks again). */
  async allIncomingWebhookIds(): Promise<string[]> {
    return this.attributeUnder(keys.allIncomingWebhooks(), 'hook_id', Number.POSITIVE_INFINITY);
  }

  /** The ids of every listed outgoing hook (strongly consistent). */
  async allOutgoingWebhookIds(): Promise<string[]> {
    const items = await queryAll(this.db, {
      TableName: this.table,
      KeyConditionExpression: 'PK = :pk',
      ExpressionAttributeValues: { ':pk': keys.allOutgoingWebhooks() },
      ConsistentRead: true,
    });
    return items.map((item) => String(item.hook_id));
  }

  /**
   * Changes of one integration in one transaction, each put conditioned: `createOnly` (the item
   * must not exist) or `whileLive` (the item must exist and not be soft-deleted, so that an update
   * racing a delete cannot bring the hook back). Returns false when a condition failed.
   */
  async writeIntegrationChanges(changes: Array<{ put: Record<string, unknown> & Key; condition?: 'createOnly' | 'whileLive' } | { delete: Key }>): Promise<boolean> {
    const conditions = {
      createOnly: { ConditionExpression: 'attribute_not_exists(PK)' },
      whileLive: { ConditionExpression: 'attribute_exists(PK) AND delete_at = :zero', ExpressionAttributeValues: { ':zero': 0 } },
    };
    return conditionHeld(
      this.db.send(
        new TransactWriteCommand({
          TransactItems: changes.map((change) =>
            'put' in change
              ? { Put: { TableName: this.table, Item: change.put, ...(change.condition ? conditions[change.condition] : {}) } }
              : { Delete: { TableName: this.table, Key: { PK: change.delete.PK, SK: change.delete.SK } } },
          ),
        }),
      ),
    );
  }

  listOutgoingWebhooksOfTeam(teamId: string): Promise<OutgoingWebhook[]> {
    return this.listChildren<OutgoingWebhook>(keys.integrationsOfTeam('OUTHOOK', teamId));
  }

  /** The entities listed under a GSI1 partition; GSI1 projects every attribute, so they come whole. */
  private async listChildren<T>(parentKey: string): Promise<T[]> {
    const items = await queryAll(this.db, {
      TableName: this.table,
      IndexName: indexes.byParent,
      KeyConditionExpression: 'GSI1PK = :pk',
      ExpressionAttributeValues: { ':pk': parentKey },
    });
    return items.map((item) => stripKeys<T>(item)!);
  }

  /**
   * Writes items in transactions of at most 100. `createOnly` items must not exist yet; any failed
   * condition cancels the whole transaction it is in.
   */
  async transactWrite(writes: ItemWrite[]): Promise<void> {
    for (let start = 0; start < writes.length; start += MAX_TRANSACTION_ITEMS) {
      const chunk = writes.slice(start, start + MAX_TRANSACTION_ITEMS);
      await this.db.send(
        new TransactWriteCommand({
          TransactItems: chunk.map((write) => ({
            Put: {
              TableName: this.table,
              Item: write.item,
              ...(write.createOnly ? { ConditionExpression: 'attribute_not_exists(PK)' } : {}),
            },
          })),
        }),
      );
    }
  }

  /**
   * Every item of the given kinds, and every item whose PK starts with one of `pkPrefixes`, by a
   * consistent Scan. For operator tools only (seed export and prune): channels and memberships
   * have no listing by team, and one Scan of this table, which holds no posts, is cheaper than a
   * listing that every channel write would have to maintain.
   */
  async scanItems(kinds: string[], pkPrefixes: string[] = []): Promise<Record<string, unknown>[]> {
    const values: Record<string, string> = {};
    const conditions: string[] = [];
    kinds.forEach((kind, index) => {
      values[`:kind${index}`] = kind;
      conditions.push(`#kind = :kind${index}`);
    });
    pkPrefixes.forEach((prefix, index) => {
      values[`:prefix${index}`] = prefix;
      conditions.push(`begins_with(PK, :prefix${index})`);
    });
    const filter = conditions.join(' OR ');
    const items: Record<string, unknown>[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new ScanCommand({
          TableName: this.table,
          FilterExpression: filter,
          ExpressionAttributeNames: { '#kind': 'kind' },
          ExpressionAttributeValues: values,
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return items;
  }

  /** Puts and deletes in one transaction: all or nothing. At most 100 changes, DynamoDB's limit. */
  async writeTransaction(changes: ItemChange[]): Promise<void> {
    if (changes.length === 0) return;
    if (changes.length > MAX_TRANSACTION_ITEMS) throw new Error(`a transaction holds at most ${MAX_TRANSACTION_ITEMS} items, not ${changes.length}`);
    await this.db.send(
      new TransactWriteCommand({
        TransactItems: changes.map((change) =>
          'put' in change
            ? { Put: { TableName: this.table, Item: change.put } }
            : { Delete: { TableName: this.table, Key: { PK: change.delete.PK, SK: change.delete.SK } } },
        ),
      }),
    );
  }

  /** An item as stored, strongly consistent: for the seed, which must see the writes of the run before it. */
  async getRawConsistently(key: Key): Promise<Record<string, unknown> | undefined> {
    const result = await this.db.send(new GetCommand({ TableName: this.table, Key: key, ConsistentRead: true }));
    return result.Item;
  }

  /** The limit of writeTransaction, for callers that split their changes. */
  static readonly maxTransactionItems = MAX_TRANSACTION_ITEMS;

  /**
   * Several items by key in BatchGetItem calls of at most 100 keys (repeated keys read once), in
   * the order of `itemKeys`, undefined where absent. Added for batched lookups (a command's mentions).
   */
  async getMany<T>(itemKeys: Key[], consistent = false): Promise<Array<T | undefined>> {
    const id = (key: Key) => `${key.PK}\u0000${key.SK}`;
    const found = new Map((await batchGetAll(this.db, this.table, itemKeys, { consistent })).map((item) => [id(item as unknown as Key), item]));
    return itemKeys.map((key) => stripKeys<T>(found.get(id(key))));
  }
}
