import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { runtimeFromEnv, type Runtime } from '../lib/runtime.js';

/**
 * The SQS-triggered worker for outgoing deliveries. Nothing enqueues deliveries yet (outgoing
 * webhooks are issue 3); until then every message is reported as failed, so SQS keeps it and, after
 * the last attempt, moves it to the dead-letter queue: nothing is dropped silently.
 */
export const createHandler = (runtime: Runtime) => async (event: SQSEvent): Promise<SQSBatchResponse> => {
  const batchItemFailures = event.Records.map((record) => {
    runtime.logger.warn('no delivery handler for message', { message_id: record.messageId });
    return { itemIdentifier: record.messageId };
  });
  return { batchItemFailures };
};

export const handler = createHandler(runtimeFromEnv());
