/**
 * Every AWS SDK client Hookline builds has a connection and a request timeout (lib/aws.ts): the
 * SDK sets none, and a hung connection would hold a request until Lambda's timeout.
 */
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AWS_CONNECTION_TIMEOUT_MS, AWS_REQUEST_TIMEOUT_MS, DYNAMODB_MAX_ATTEMPTS, MANAGEMENT_API_MAX_ATTEMPTS } from '../../lib/aws.js';
import { readServerlessDefinition } from '../../infra/local/serverless-definition.js';
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
    }, 20_000);
  }

  it("give up before the shortest timeout of a function that calls AWS, so a hung call answers the app's error, not Lambda's", () => {
    const functions = Object.values(readServerlessDefinition().functions) as Array<{ timeout?: number | string }>;
    const timeoutsMs = functions.map((fn) => Number(fn.timeout) * 1000).filter((timeoutMs) => Number.isFinite(timeoutMs));
    // ping, the web app and the catch-all (5 s) call no AWS service; the websocket function (15 s) is the shortest that does.
    const shortestCallingAwsMs = Math.min(...timeoutsMs.filter((timeoutMs) => timeoutMs > 5_000));
    expect(shortestCallingAwsMs).toBe(15_000);
    // Attempts times the request timeout, plus the SDK's backoff between attempts (well under 1 s for two retries).
    expect(DYNAMODB_MAX_ATTEMPTS * AWS_REQUEST_TIMEOUT_MS + 1_000).toBeLessThan(shortestCallingAwsMs);
    expect(MANAGEMENT_API_MAX_ATTEMPTS * AWS_REQUEST_TIMEOUT_MS + 1_000).toBeLessThan(shortestCallingAwsMs);
  });
});
