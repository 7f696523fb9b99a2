import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { awsClientTimeouts, DYNAMODB_MAX_ATTEMPTS, localEndpoint } from '../aws.js';
import { BatchGetCommand, DynamoDBDocumentClient, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';

export interface DynamoOptions {
  endpoint?: string | undefined;
  region: string;
}

/**
 * One document client per endpoint and region. Locally the endpoint is DynamoDB Local and any
 * non-empty credentials do; in AWS the endpoint is unset and the Lambda role's credentials apply.
 */
const clients = new Map<string, DynamoDBDocumentClient>();

export function documentClient(options: DynamoOptions): DynamoDBDocumentClient {
  const cacheKey = `${options.endpoint ?? ''}|${options.region}`;
  let client = clients.get(cacheKey);
  if (!client) {
    const base = new DynamoDBClient({
      region: options.region,
      ...localEndpoint(options.endpoint),
      ...awsClientTimeouts,
      maxAttempts: DYNAMODB_MAX_ATTEMPTS,
    });
    client = DynamoDBDocumentClient.from(base, {
      marshallOptions: { removeUndefinedValues: true },
    });
    clients.set(cacheKey, client);
  }
  return client;
}

/** True when a conditional write or a transaction failed only because a condition did not hold. */
export function isConditionFailure(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === 'ConditionalCheckFailedException') return true;
  if (error.name === 'TransactionCanceledException') {
    const reasons = (error as Error & { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
    return reasons.some((reason) => reason.Code === 'ConditionalCheckFailed');
  }
  return false;
}

/** Whether a conditional write went through: false when only its condition failed; other errors are thrown. */
export async function conditionHeld(write: Promise<unknown>): Promise<boolean> {
  try {
    await write;
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}

/**
 * Counts the requests an AWS SDK client sends, by command name, or by what `labelOf` makes of a
 * request (tests count the requests to one table). The benchmark uses it to report DynamoDB
 * requests per operation; it adds one middleware and nothing on the hot path otherwise.
 */
export function countRequests(
  client: { middlewareStack: { add(middleware: never, options: { step: 'initialize'; name: string }): void } },
  labelOf: (commandName: string, input: Record<string, unknown>) => string = (commandName) => commandName,
): Map<string, number> {
  const counts = new Map<string, number>();
  const counter = (next: (args: { input: Record<string, unknown> }) => Promise<unknown>, context: { commandName?: string }) => async (args: { input: Record<string, unknown> }) => {
    const name = labelOf(String(context.commandName ?? 'unknown'), args.input ?? {});
    counts.set(name, (counts.get(name) ?? 0) + 1);
    return next(args);
  };
  client.middlewareStack.add(counter as never, { step: 'initialize', name: 'hooklineRequestCounter' });
  return counts;
}

/**
 * Measures the capacity units a client's requests consume, as DynamoDB bills them on demand (a
 * write unit per KB written to the table and to each index the item enters). It asks every
 * request to return its consumed capacity, so it is for benchmarks only, never the functions.
 */
export function meterCapacity(client: { middlewareStack: { add(middleware: never, options: { step: 'initialize'; name: string }): void } }) {
  const consumed = { writeUnits: 0, readUnits: 0 };
  const writes = new Set(['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand', 'TransactWriteItemsCommand', 'BatchWriteItemCommand']);
  type Capacity = { CapacityUnits?: number };
  const meter = (next: (args: { input: Record<string, unknown> }) => Promise<{ output: { ConsumedCapacity?: Capacity | Capacity[] } }>, context: { commandName?: string }) =>
    async (args: { input: Record<string, unknown> }) => {
      args.input.ReturnConsumedCapacity = 'TOTAL';
      const result = await next(args);
      const capacity = result.output.ConsumedCapacity;
      const units = (Array.isArray(capacity) ? capacity : capacity ? [capacity] : []).reduce((sum, entry) => sum + (entry.CapacityUnits ?? 0), 0);
      if (writes.has(String(context.commandName))) consumed.writeUnits += units;
      else consumed.readUnits += units;
      return result;
    };
  client.middlewareStack.add(meter as never, { step: 'initialize', name: 'hooklineCapacityMeter' });
  return consumed;
}

/** Every item a query returns, following pages, up to `limit` items. */
export async function queryAll(
  db: DynamoDBDocumentClient,
  input: Omit<QueryCommandInput, 'Limit' | 'ExclusiveStartKey'>,
  limit = Number.POSITIVE_INFINITY,
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const remaining = limit - items.length;
    const page = await db.send(
      new QueryCommand({
        ...input,
        ...(Number.isFinite(remaining) ? { Limit: remaining } : {}),
        ExclusiveStartKey: startKey,
      }),
    );
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey && items.length < limit);
  return items;
}

/**
 * The items of `itemKeys` that exist, each once, in no particular order: BatchGetItem per 100
 * keys (DynamoDB's cap), sent together, unprocessed keys asked again. `consistent` reads them
 * strongly consistent.
 */
export async function batchGetAll(
  db: DynamoDBDocumentClient,
  table: string,
  itemKeys: Array<{ PK: string; SK: string }>,
  options: { consistent?: boolean } = {},
): Promise<Record<string, unknown>[]> {
  const unique = [...new Map(itemKeys.map((key) => [`${key.PK}\u0000${key.SK}`, key])).values()];
  const found: Record<string, unknown>[] = [];
  const chunks: Array<typeof unique> = [];
  for (let start = 0; start < unique.length; start += 100) chunks.push(unique.slice(start, start + 100));
  await Promise.all(
    chunks.map(async (chunk) => {
      let request: Record<string, { Keys: Record<string, unknown>[]; ConsistentRead?: boolean }> | undefined = {
        [table]: { Keys: chunk.map((key) => ({ PK: key.PK, SK: key.SK })), ...(options.consistent ? { ConsistentRead: true } : {}) },
      };
      while (request && Object.keys(request).length > 0) {
        const result = await db.send(new BatchGetCommand({ RequestItems: request }));
        found.push(...(result.Responses?.[table] ?? []));
        request = result.UnprocessedKeys as typeof request;
      }
    }),
  );
  return found;
}
