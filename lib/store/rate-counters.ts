import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { RateCounter } from '../rate-limit.js';
import { keys } from './keys.js';

/** The shared per-hook rate-limit counters: one small item per hook and window, expiring by TTL. */
export class DynamoRateCounter implements RateCounter {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async add(hookId: string, windowStartMs: number, count: number, expiresAtSeconds: number): Promise<number> {
    const result = await this.db.send(
      new UpdateCommand({
        TableName: this.table,
        Key: keys.hookRateWindow(hookId, windowStartMs),
        UpdateExpression: 'ADD admitted :count SET expires_at = :expires',
        ExpressionAttributeValues: { ':count': count, ':expires': expiresAtSeconds },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    return Number(result.Attributes?.admitted ?? count);
  }
}
