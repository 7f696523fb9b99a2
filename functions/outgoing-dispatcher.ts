import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { postFromItem } from '../lib/store/posts.js';
import { planDeliveries } from '../lib/webhooks/outgoing-dispatch.js';
import { outgoingRuntimeFromEnv, type OutgoingRuntime } from '../lib/webhooks/outgoing-runtime.js';

/**
 * The posts table's stream: each new post marked `trigger_webhooks` becomes one SQS message per
 * matching (hook, callback URL). A failure reports the record, so the stream retries from it.
 */
export const createHandler = (runtime: OutgoingRuntime) => async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
  for (const record of event.Records) {
    const image = record.dynamodb?.NewImage;
    if (record.eventName !== 'INSERT' || !image || image.trigger_webhooks?.BOOL !== true) continue;
    try {
      const post = postFromItem(unmarshall(image as Record<string, AttributeValue>));
      const deliveries = await planDeliveries(runtime, post);
      await runtime.queue.enqueue(deliveries);
      if (deliveries.length > 0) runtime.logger.debug('deliveries enqueued', { post_id: post.id, deliveries: deliveries.length });
    } catch (error) {
      runtime.logger.error('dispatch failed', { sequence_number: record.dynamodb?.SequenceNumber, error: error as Error });
      // The stream retries from the first failed record, so the ones after it are retried too.
      return { batchItemFailures: [{ itemIdentifier: record.dynamodb?.SequenceNumber ?? '' }] };
    }
  }
  return { batchItemFailures: [] };
};

// Built on the first event rather than at import, so that importing this module (the local stack,
// tests, the benchmark) needs no queue wiring in the environment; a missing QUEUE_URL fails that event.
let deployed: ReturnType<typeof createHandler> | undefined;
export const handler: ReturnType<typeof createHandler> = (event) => (deployed ??= createHandler(outgoingRuntimeFromEnv()))(event);
