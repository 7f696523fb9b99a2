import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { queryAll } from './dynamo.js';
import type { AttemptOutcome, DeliveryAttempt } from '../webhooks/delivery-types.js';
import { indexes, keys } from './keys.js';

export type { AttemptOutcome, DeliveryAttempt } from '../webhooks/delivery-types.js';

/** The delivery log: every attempt, kept for the configured days (TTL), listable by hour. */
export class DeliveryStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly ttlSeconds: number,
  ) {}

  async record(attempt: DeliveryAttempt): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.table,
        Item: {
          ...keys.deliveryAttempt(attempt.delivery_id, attempt.attempt, attempt.attempted_at),
          GSI1PK: keys.attemptsOfHour(attempt.attempted_at),
          GSI1SK: `${attempt.attempted_at}#${attempt.delivery_id}#${attempt.attempt}`,
          GSI2PK: keys.attemptsOfHook(attempt.hook_id),
          GSI2SK: keys.attemptOrder(attempt.attempted_at, attempt.delivery_id, attempt.attempt),
          ...attempt,
          expires_at: Math.floor(attempt.attempted_at / 1000) + this.ttlSeconds,
        },
      }),
    );
  }

  /** Attempts of the last `hours` hours, newest first. */
  async recent(options: { hours: number; nowMs: number; limit: number }): Promise<DeliveryAttempt[]> {
    const attempts: DeliveryAttempt[] = [];
    for (let hour = 0; hour <= options.hours && attempts.length < options.limit; hour++) {
      const items = await queryAll(
        this.db,
        {
          TableName: this.table,
          IndexName: indexes.byParent,
          KeyConditionExpression: 'GSI1PK = :hour',
          ExpressionAttributeValues: { ':hour': keys.attemptsOfHour(options.nowMs - hour * 3_600_000) },
          ScanIndexForward: false,
        },
        options.limit - attempts.length,
      );
      for (const item of items) attempts.push(toAttempt(item));
    }
    return attempts;
  }

  /**
   * One hook's attempts, newest first: at most `limit` of them, older than `beforeMs` when given
   * (GSI2, so eventually consistent: an attempt may show a moment after it was made).
   */
  async ofHook(hookId: string, options: { limit: number; beforeMs?: number }): Promise<DeliveryAttempt[]> {
    const before = options.beforeMs === undefined ? undefined : keys.attemptOrder(options.beforeMs, '', 0);
    const items = await queryAll(
      this.db,
      {
        TableName: this.table,
        IndexName: indexes.attemptsByHook,
        KeyConditionExpression: before === undefined ? 'GSI2PK = :hook' : 'GSI2PK = :hook AND GSI2SK < :before',
        ExpressionAttributeValues: { ':hook': keys.attemptsOfHook(hookId), ...(before === undefined ? {} : { ':before': before }) },
        ScanIndexForward: false,
      },
      options.limit,
    );
    return items.map(toAttempt);
  }

  async ofDelivery(deliveryId: string): Promise<DeliveryAttempt[]> {
    const items = await queryAll(this.db, {
      TableName: this.table,
      KeyConditionExpression: 'PK = :pk',
      ExpressionAttributeValues: { ':pk': `DELIVERY#${deliveryId}` },
      ConsistentRead: true,
    });
    return items.map(toAttempt);
  }
}

function toAttempt(item: Record<string, unknown>): DeliveryAttempt {
  return {
    delivery_id: String(item.delivery_id),
    attempt: Number(item.attempt),
    attempted_at: Number(item.attempted_at),
    hook_id: String(item.hook_id),
    post_id: String(item.post_id),
    url: String(item.url),
    outcome: item.outcome as AttemptOutcome,
    status: Number(item.status ?? 0),
    latency_ms: Number(item.latency_ms ?? 0),
    error: String(item.error ?? ''),
    reply_post_ids: (item.reply_post_ids as string[] | undefined) ?? [],
  };
}
