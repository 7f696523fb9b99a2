import { AllowList } from '../http/ssrf.js';
import { DeliveryQueue, sqsClient } from '../queue.js';
import { createRuntime, type Runtime } from '../runtime.js';
import { loadConfig } from '../config.js';
import { documentClient } from '../store/dynamo.js';
import { DeliveryStore } from '../store/deliveries.js';

/**
 * What the outgoing-webhook functions need beyond the common runtime: the queue, the delivery log
 * and the outbound allow list. Kept apart so the other functions carry no SQS client.
 */
export interface OutgoingRuntime extends Runtime {
  queue: DeliveryQueue;
  deliveries: DeliveryStore;
  allowList: AllowList;
}

export function createOutgoingRuntime(runtime: Runtime): OutgoingRuntime {
  const { config } = runtime;
  if (!config.queueUrl || !config.deadLetterQueueUrl) throw new Error('QUEUE_URL and DEAD_LETTER_QUEUE_URL must be set');
  const sqs = sqsClient({ endpoint: config.sqsEndpoint, region: config.region });
  return {
    ...runtime,
    queue: new DeliveryQueue(sqs, config.queueUrl, config.deadLetterQueueUrl),
    deliveries: new DeliveryStore(
      documentClient({ endpoint: config.dynamodbEndpoint, region: config.region }),
      config.tables.deliveries,
      config.deliveryLogTtlSeconds,
    ),
    allowList: new AllowList(config.allowedUntrustedInternalConnections),
  };
}

let shared: OutgoingRuntime | undefined;
export function outgoingRuntimeFromEnv(): OutgoingRuntime {
  shared ??= createOutgoingRuntime(createRuntime(loadConfig(process.env)));
  return shared;
}
