import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { publishStreamRecord } from '../lib/live/stream.js';
import { runtimeFromEnv, type Runtime } from '../lib/runtime.js';

/**
 * The posts table's stream, second consumer: posts, edits, deletes and reactions become websocket
 * events for the channel's connected members (lib/live/stream.ts). Records are handled in stream
 * order. A record that fails (DynamoDB unavailable) is reported, so the stream retries from it;
 * sends themselves are at most once and never fail a record.
 */
export const createHandler = (runtime: Runtime) => async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
  for (const record of event.Records) {
    try {
      await publishStreamRecord(runtime, record);
    } catch (error) {
      runtime.logger.error('live event not published', { error: String(error), sequence_number: record.dynamodb?.SequenceNumber });
      return { batchItemFailures: [{ itemIdentifier: record.dynamodb?.SequenceNumber ?? '' }] };
    }
  }
  return { batchItemFailures: [] };
};

let deployed: ReturnType<typeof createHandler> | undefined;
export const handler: ReturnType<typeof createHandler> = (event) => (deployed ??= createHandler(runtimeFromEnv()))(event);
