/**
 * Websocket connections in their own table. A connection item holds its user, its state and the
 * next `seq` to send; a client numbers events per connection and reconnects on a gap, so every
 * send takes its number from this item with one atomic UpdateItem, whichever Lambda sends it. When
 * a connection is listed (just before its hello is sent), one small item per channel of its user is written into the
 * channel's partition, so a channel event finds its connections with one Query. Items expire with
 * API Gateway's two-hour connection limit (TTL), whatever happens to `$disconnect`.
 */
import { BatchWriteCommand, DeleteCommand, GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { conditionHeld, isConditionFailure, queryAll } from './dynamo.js';
import { connectionKeys, indexes } from './keys.js';

/** API Gateway closes a WebSocket connection after two hours; the items outlive it a little. */
export const CONNECTION_TTL_SECONDS = 3 * 3600;

/**
 * `anonymous`: upgraded, waiting for an authentication challenge; `authenticated`: user known,
 * hello not sent yet; `opening`: one invocation is listing the connection and sending the hello (an
 * event that finds it waits); `open`: hello sent, events flow.
 */
export type ConnectionState = 'anonymous' | 'authenticated' | 'opening' | 'open';

export interface Connection {
  connectionId: string;
  state: ConnectionState;
  userId: string;
  /** The channels whose partitions list this connection (for the cleanup at disconnect). */
  channelIds: string[];
}

export interface ConnectionTarget {
  connectionId: string;
  userId: string;
}

const BATCH_WRITE_ITEMS = 25;

export class ConnectionStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  /** A new connection (at `$connect`), with its user when the upgrade request carried a valid token. */
  async create(connectionId: string, userId: string | undefined, nowMs: number): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.table,
        Item: {
          ...connectionKeys.connection(connectionId),
          connection_id: connectionId,
          state: userId ? 'authenticated' : 'anonymous',
          user_id: userId ?? '',
          next_seq: 0,
          connected_at: nowMs,
          expires_at: Math.floor(nowMs / 1000) + CONNECTION_TTL_SECONDS,
        },
      }),
    );
  }

  async get(connectionId: string): Promise<Connection | undefined> {
    const result = await this.db.send(new GetCommand({ TableName: this.table, Key: connectionKeys.connection(connectionId), ConsistentRead: true }));
    const item = result.Item;
    if (!item) return undefined;
    return {
      connectionId,
      state: item.state as ConnectionState,
      userId: String(item.user_id ?? ''),
      channelIds: Array.isArray(item.channel_ids) ? item.channel_ids.map(String) : [],
    };
  }

  /**
   * Claims the sending of the hello for `userId`: true for exactly one caller, however many frames
   * of the connection arrive at once.
   */
  async claimHello(connectionId: string, userId: string): Promise<boolean> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: connectionKeys.connection(connectionId),
          UpdateExpression: 'SET #state = :opening, user_id = :user',
          ConditionExpression: '#state IN (:anonymous, :authenticated)',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: { ':opening': 'opening', ':user': userId, ':anonymous': 'anonymous', ':authenticated': 'authenticated' },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /**
   * Lists a connection claimed for its hello (`claimHello`) where the fan-out finds it, before the
   * hello is sent: the user index, and each of `channelIds` in the channel's partition. An event
   * published once the client holds its hello therefore finds the connection, and waits for `open`
   * (`takeSeq` answers `opening`) rather than missing it. False unless the connection is still
   * claimed for its hello.
   */
  async list(connectionId: string, userId: string, channelIds: string[], nowMs: number): Promise<boolean> {
    const expiresAt = Math.floor(nowMs / 1000) + CONNECTION_TTL_SECONDS;
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: connectionKeys.connection(connectionId),
          // channel_ids first, so that a disconnect from here on deletes the channel items too.
          UpdateExpression: 'SET user_id = :user, channel_ids = :channels, GSI1PK = :byUser, GSI1SK = :id, listed_at = :now',
          ConditionExpression: '#state = :opening',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: {
            ':opening': 'opening',
            ':user': userId,
            ':channels': channelIds,
            ':byUser': connectionKeys.connectionsOfUser(userId),
            ':id': connectionId,
            ':now': nowMs,
          },
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
    await this.batchWrite(
      channelIds.map((channelId) => ({
        PutRequest: { Item: { ...connectionKeys.channelConnection(channelId, connectionId), connection_id: connectionId, user_id: userId, expires_at: expiresAt } },
      })),
    );
    return true;
  }

  /**
   * Takes back a claim whose hello could not be sent (the Management API failed): the connection
   * leaves the fan-out's lists and is `authenticated` again, so its next frame tries the hello again.
   */
  async unclaimHello(connectionId: string): Promise<void> {
    const connection = await this.get(connectionId);
    if (connection?.state !== 'opening') return;
    const reverted = await conditionHeld(
      this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: connectionKeys.connection(connectionId),
          UpdateExpression: 'SET #state = :authenticated REMOVE channel_ids, GSI1PK, GSI1SK, listed_at',
          ConditionExpression: '#state = :opening',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: { ':authenticated': 'authenticated', ':opening': 'opening' },
        }),
      ),
    );
    if (reverted) await this.batchWrite(connection.channelIds.map((channelId) => ({ DeleteRequest: { Key: connectionKeys.channelConnection(channelId, connectionId) } })));
  }

  /** Marks the connection open once its hello (seq 0) is sent: the next event takes seq 1. False unless it was opening. */
  async open(connectionId: string): Promise<boolean> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: connectionKeys.connection(connectionId),
          UpdateExpression: 'SET #state = :open, next_seq = :one',
          ConditionExpression: '#state = :opening',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: { ':open': 'open', ':opening': 'opening', ':one': 1 },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /**
   * Lists a user's open connections in a channel the user joined after they opened (a seed run adds
   * memberships): per connection, the channel joins the connection's own list first (conditionally:
   * while it is open, and once), so its disconnect deletes the new item too; then the channel's item
   * is written with the connection's expiry. Answers how many connections were added. A connection
   * is found by the by-user index once listed (`list`), opening or open. One whose hello read its
   * user's channels before this membership was written, and that was not listed yet when this ran
   * (or not yet in the eventually consistent index), misses the channel until it reconnects.
   */
  async addToChannel(userId: string, channelId: string): Promise<number> {
    let added = 0;
    for (const target of await this.connectionsOfUser(userId)) {
      let expiresAt: unknown;
      try {
        const result = await this.db.send(
          new UpdateCommand({
            TableName: this.table,
            Key: connectionKeys.connection(target.connectionId),
            UpdateExpression: 'SET channel_ids = list_append(channel_ids, :channels)',
            ConditionExpression: '#state IN (:opening, :open) AND attribute_exists(channel_ids) AND user_id = :user AND NOT contains(channel_ids, :channel)',
            ExpressionAttributeNames: { '#state': 'state' },
            ExpressionAttributeValues: { ':channels': [channelId], ':channel': channelId, ':opening': 'opening', ':open': 'open', ':user': userId },
            ReturnValues: 'ALL_NEW',
          }),
        );
        expiresAt = result.Attributes?.expires_at;
      } catch (error) {
        // Gone, not open, or listed in the channel already.
        if (isConditionFailure(error)) continue;
        throw error;
      }
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...connectionKeys.channelConnection(channelId, target.connectionId), connection_id: target.connectionId, user_id: userId, expires_at: expiresAt },
        }),
      );
      added++;
    }
    return added;
  }

  /**
   * The seq of the next event on this connection, taken atomically (concurrent senders get
   * distinct, increasing numbers); `opening` while its hello is being sent (the caller waits and
   * asks again), `closed` when the connection is gone, was never opened, or was listed more than
   * `openingForMs` ago and never opened (its hello's invocation died).
   */
  async takeSeq(connectionId: string, nowMs: number, openingForMs: number): Promise<number | 'opening' | 'closed'> {
    try {
      const result = await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: connectionKeys.connection(connectionId),
          UpdateExpression: 'SET next_seq = next_seq + :one',
          ConditionExpression: '#state = :open',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: { ':one': 1, ':open': 'open' },
          ReturnValues: 'UPDATED_OLD',
          // The failure carries the item, so telling `opening` from gone costs no second read.
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return Number(result.Attributes?.next_seq);
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      // The SDK leaves the failure's item in DynamoDB's own attribute-value form.
      const item = (error as Error & { Item?: Record<string, { S?: string; N?: string }> }).Item;
      const listedAtMs = Number(item?.listed_at?.N ?? 0);
      return item?.state?.S === 'opening' && listedAtMs + openingForMs > nowMs ? 'opening' : 'closed';
    }
  }

  /** The open connections listed in a channel's partition. */
  async connectionsOfChannel(channelId: string): Promise<ConnectionTarget[]> {
    const items = await queryAll(this.db, {
      TableName: this.table,
      KeyConditionExpression: 'PK = :channel',
      ExpressionAttributeValues: { ':channel': connectionKeys.connectionsOfChannel(channelId) },
    });
    return items.map((item) => ({ connectionId: String(item.connection_id), userId: String(item.user_id) }));
  }

  /** A user's open connections (GSI1, eventually consistent: a connection opened a moment ago may be missing). */
  async connectionsOfUser(userId: string): Promise<ConnectionTarget[]> {
    const items = await queryAll(this.db, {
      TableName: this.table,
      IndexName: indexes.byParent,
      KeyConditionExpression: 'GSI1PK = :user',
      ExpressionAttributeValues: { ':user': connectionKeys.connectionsOfUser(userId) },
    });
    // The index projects keys only: its sort key is the connection id.
    return items.map((item) => ({ connectionId: String(item.GSI1SK), userId }));
  }

  /** Forgets a connection and its channel listings (at `$disconnect`, or when a send finds it gone). */
  async remove(connectionId: string): Promise<void> {
    const connection = await this.get(connectionId);
    if (!connection) return;
    await this.batchWrite(connection.channelIds.map((channelId) => ({ DeleteRequest: { Key: connectionKeys.channelConnection(channelId, connectionId) } })));
    await this.db.send(new DeleteCommand({ TableName: this.table, Key: connectionKeys.connection(connectionId) }));
  }

  private async batchWrite(requests: Array<Record<string, unknown>>): Promise<void> {
    for (let start = 0; start < requests.length; start += BATCH_WRITE_ITEMS) {
      let pending: Record<string, unknown[]> | undefined = { [this.table]: requests.slice(start, start + BATCH_WRITE_ITEMS) };
      for (let attempt = 0; pending && Object.keys(pending).length > 0; attempt++) {
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 50 * 2 ** attempt)));
        const result = await this.db.send(new BatchWriteCommand({ RequestItems: pending as never }));
        pending = result.UnprocessedItems as Record<string, unknown[]> | undefined;
      }
    }
  }
}
