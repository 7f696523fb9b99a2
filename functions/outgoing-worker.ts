import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { deliveryMessageSchema } from '../lib/queue.js';
import { deliver } from '../lib/webhooks/outgoing-deliver.js';
import { outgoingRuntimeFromEnv, type OutgoingRuntime } from '../lib/webhooks/outgoing-runtime.js';

/**
 * The SQS-triggered worker: one outgoing delivery per message, the batch's messages in parallel.
 * A message to retry gets its delay as its visibility timeout and is reported failed, so SQS offers
 * it again later and, after the queue's last receive, moves it to the dead-letter queue.
 */
export const createHandler = (runtime: OutgoingRuntime) => async (event: SQSEvent): Promise<SQSBatchResponse> => {
  const outcomes = await Promise.all(
    event.Records.map(async (record: SQSRecord) => {
      const log = { message_id: record.messageId };
      try {
        const message = deliveryMessageSchema.parse(JSON.parse(record.body));
        const attempt = Number(record.attributes?.ApproximateReceiveCount ?? 1);
        const result = await deliver(runtime, message, attempt);
        if (result.kind === 'retry') {
          await runtime.queue.delay(record.receiptHandle, result.delaySeconds);
          runtime.logger.info('delivery will be retried', { ...log, delivery_id: message.delivery_id, attempt, delay_seconds: result.delaySeconds });
          return { itemIdentifier: record.messageId };
        }
        if (result.kind === 'dead_letter') {
          await runtime.queue.deadLetter(record.body);
          runtime.logger.warn('delivery moved to the dead-letter queue', { ...log, delivery_id: message.delivery_id, attempt });
        }
        return undefined;
      } catch (error) {
        // Unexpected (storage down, a malformed message): SQS offers it again after the visibility timeout.
        runtime.logger.error('delivery failed', { ...log, error: error as Error });
        return { itemIdentifier: record.messageId };
      }
    }),
  );
  return { batchItemFailures: outcomes.filter((failure) => failure !== undefined) };
};

// Built on the first event rather than at import, so that importing this module (the local stack,
// tests, the benchmark) needs no queue wiring in the environment; a missing QUEUE_URL fails that event.
let deployed: ReturnType<typeof createHandler> | undefined;
export const handler: ReturnType<typeof createHandler> = (event) => (deployed ??= createHandler(outgoingRuntimeFromEnv()))(event);
