import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DeliveryQueue, sqsClient } from '../queue.js';
import { createRuntime, type Runtime } from '../runtime.js';
import { loadConfig } from '../config.js';
import { documentClient } from '../store/dynamo.js';
import { DeliveryStore } from '../store/deliveries.js';

/**
 * What the outgoing-webhook functions need beyond the common runtime: the queue and the delivery
 * log. Kept apart so the other functions carry no SQS client.
 */
export interface OutgoingRuntime extends Runtime {
  queue: DeliveryQueue;
  deliveries: DeliveryStore;
}

export function createOutgoingRuntime(
  runtime: Runtime,
  sqs: SQSClient = sqsClient({ endpoint: runtime.config.sqsEndpoint, region: runtime.config.region }),
  db: DynamoDBDocumentClient = documentClient({ endpoint: runtime.config.dynamodbEndpoint, region: runtime.config.region }),
): OutgoingRuntime {
  const { config } = runtime;
  if (!config.queueUrl || !config.deadLetterQueueUrl) throw new Error('QUEUE_URL and DEAD_LETTER_QUEUE_URL must be set');
  return {
    ...runtime,
    queue: new DeliveryQueue(sqs, config.queueUrl, config.deadLetterQueueUrl),
    deliveries: new DeliveryStore(
      db,
      config.tables.deliveries,
      config.deliveryLogTtlSeconds,
    ),
  };
}

let shared: OutgoingRuntime | undefined;
export function outgoingRuntimeFromEnv(): OutgoingRuntime {
  shared ??= createOutgoingRuntime(createRuntime(loadConfig(process.env)));
  return shared;
}
