/**
 * Every AWS SDK client Hookline builds has a connection and a request timeout (lib/aws.ts): the
 * SDK sets none, and a hung connection would hold a request until Lambda's timeout.
 */
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AWS_CONNECTION_TIMEOUT_MS, AWS_REQUEST_TIMEOUT_MS } from '../../lib/aws.js';
import { sqsClient } from '../../lib/queue.js';
import { documentClient } from '../../lib/store/dynamo.js';

type Handler = { httpHandlerConfigs(): Record<string, unknown>; updateHttpClientConfig(key: string, value: number): void };
const handlerOf = (client: unknown) => (client as { config: { requestHandler: Handler } }).config.requestHandler;

/** A loopback server that accepts connections and never answers. */
const sockets: Socket[] = [];
const silent = createServer((socket) => void sockets.push(socket));
let endpoint: string;

beforeAll(async () => {
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
});
afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => silent.close(resolve));
});

describe('AWS SDK clients', () => {
  const clients = {
    dynamodb: () => {
      const client = documentClient({ endpoint, region: 'us-east-1' });
      return { handler: handlerOf(client), send: () => client.send(new GetCommand({ TableName: 't', Key: { PK: 'a', SK: 'b' } })) };
    },
    sqs: () => {
      const client = sqsClient({ endpoint, region: 'us-east-1' });
      return { handler: handlerOf(client), send: () => client.send(new GetQueueUrlCommand({ QueueName: 'q' })) };
    },
  };

  for (const [name, make] of Object.entries(clients)) {
    it(`${name}: fails a request that gets no answer with a TimeoutError, with lib/aws.ts's timeouts`, async () => {
      const { handler, send } = make();
      const connectionsBefore = sockets.length;
      // Shortened for the test only; everything else is as the client was built.
      handler.updateHttpClientConfig('requestTimeout', 200);
      const error = await send().then(
        () => undefined,
        (caught: unknown) => caught as Error,
      );
      expect(error?.name).toBe('TimeoutError');
      expect(sockets.length).toBeGreaterThan(connectionsBefore);
      expect(handler.httpHandlerConfigs()).toMatchObject({ connectionTimeout: AWS_CONNECTION_TIMEOUT_MS, throwOnRequestTimeout: true });
      expect(AWS_REQUEST_TIMEOUT_MS).toBeLessThan(28_000);
    }, 20_000);
  }
});
