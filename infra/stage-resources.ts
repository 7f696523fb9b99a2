/**
 * Where a deployed stage's tables and queues are, for the operator commands (seed, deliveries):
 * names derived from serverless.yml's resources, so a renamed table cannot drift from the tools.
 * Queue URLs are looked up by name with the environment's AWS credentials and region.
 */
import { GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { sqsClient } from '../lib/queue.js';
import { readServerlessDefinition, resolveName } from './local/serverless-definition.js';

export interface StageResources {
  tables: { entities: string; posts: string; deliveries: string };
  queueUrls: { outgoing: string; deadLetter: string; dispatchFailures: string };
}

/** The physical name of a table or queue of serverless.yml, for `stage`. */
export function resourceName(logicalId: string, stage: string): string {
  const definition = readServerlessDefinition();
  const resource = definition.resources.Resources[logicalId];
  const name = resource?.Properties.TableName ?? resource?.Properties.QueueName;
  if (typeof name !== 'string') throw new Error(`serverless.yml has no named resource ${logicalId}`);
  return resolveName(name, definition, stage);
}

export async function stageResources(stage: string, region: string): Promise<StageResources> {
  const sqs = sqsClient({ region });
  const queueUrl = async (logicalId: string) =>
    (await sqs.send(new GetQueueUrlCommand({ QueueName: resourceName(logicalId, stage) }))).QueueUrl!;
  try {
    return {
      tables: {
        entities: resourceName('EntitiesTable', stage),
        posts: resourceName('PostsTable', stage),
        deliveries: resourceName('DeliveriesTable', stage),
      },
      queueUrls: {
        outgoing: await queueUrl('OutgoingQueue'),
        deadLetter: await queueUrl('OutgoingDeadLetterQueue'),
        dispatchFailures: await queueUrl('DispatchFailureQueue'),
      },
    };
  } finally {
    sqs.destroy();
  }
}
