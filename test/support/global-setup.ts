import type { TestProject } from 'vitest/node';
import { provisionLocalResources, startDynamoDbLocal, startSqsEmulator } from '../../infra/local/stack.js';
import { buildWebApp } from '../../infra/web/build.js';

declare module 'vitest' {
  export interface ProvidedContext {
    stackEnvironment: Record<string, string>;
  }
}

/**
 * Starts the real local services once for the whole run: DynamoDB Local and the SQS emulator; and
 * builds the web app that the browser tests load.
 */
export default async function setup(project: TestProject) {
  await buildWebApp();
  const dynamo = await startDynamoDbLocal();
  const sqs = await startSqsEmulator();
  const provisioned = await provisionLocalResources({ stage: 'test', dynamoEndpoint: dynamo.endpoint, sqsEndpoint: sqs.endpoint });
  project.provide('stackEnvironment', provisioned.environment);
  return async () => {
    await sqs.stop();
    await dynamo.stop();
  };
}
