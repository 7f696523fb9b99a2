import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { dispatchPost } from '../lib/webhooks/outgoing-dispatch.js';
import { outgoingRuntimeFromEnv, type OutgoingRuntime } from '../lib/webhooks/outgoing-runtime.js';
import { postFromStreamImage } from '../lib/store/posts.js';

/**
 * The posts table's stream: each new post marked `trigger_webhooks` becomes one SQS message per
 * matching (hook, callback URL). A failing post is reported, so the stream retries from it, until
 * it is DISPATCH_PARK_AFTER_SECONDS old: then it is parked in the failure queue and the shard moves on.
 */
export const createHandler = (runtime: OutgoingRuntime) => async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
  for (const record of event.Records) {
    const image = record.dynamodb?.NewImage as Record<string, AttributeValue> | undefined;
    if (record.eventName !== 'INSERT' || !image || image.trigger_webhooks?.BOOL !== true) continue;
    const sequenceNumber = record.dynamodb?.SequenceNumber ?? '';
    const decoded = postFromStreamImage(image);
    const outcome = await dispatchPost(runtime, decoded, { sequenceNumber, createdAtMs: createdAtMs(record) });
    // The stream retries from the first failed record, so the ones after it are retried too.
    if (outcome === 'retry') return { batchItemFailures: [{ itemIdentifier: sequenceNumber }] };
  }
  return { batchItemFailures: [] };
};

/** When the record entered the stream (Lambda gives epoch seconds). */
function createdAtMs(record: DynamoDBRecord): number | undefined {
  const seconds = record.dynamodb?.ApproximateCreationDateTime;
  return typeof seconds === 'number' ? seconds * 1000 : undefined;
}

// Built on the first event rather than at import, so that importing this module (the local stack,
// tests, the benchmark) needs no queue wiring in the environment; a missing QUEUE_URL fails that event.
let deployed: ReturnType<typeof createHandler> | undefined;
export const handler: ReturnType<typeof createHandler> = (event) => (deployed ??= createHandler(outgoingRuntimeFromEnv()))(event);
