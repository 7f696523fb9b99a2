import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { loadConfig } from '../../lib/config.js';
import { sqsClient } from '../../lib/queue.js';
import { createRuntime } from '../../lib/runtime.js';
import { applySeed, parseSeedFile } from '../../lib/seed/seed.js';
import { countRequests } from '../../lib/store/dynamo.js';
import { createOutgoingRuntime } from '../../lib/webhooks/outgoing-runtime.js';
import { startQueueSource, startStreamSource } from '../local/event-sources.js';
import { startGateway } from '../local/gateway.js';
import { percentile, perOperation } from './support.js';


/**
 * The outgoing pipeline as `npm start` runs it (gateway, posts stream poller, dispatcher, SQS
 * poller, worker) against a callback server on loopback that answers at once:
 *  - the delay from `POST /api/v4/posts` answering to the callback receiving the request;
 *  - deliveries per second with 10 hooks matching every post, and requests per delivery.
 */
export async function benchOutgoing(environment: Record<string, string>, options: { posts: number; burstPosts: number }) {
  const received: Array<{ atMs: number; text: string }> = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ atMs: performance.now(), text: new URLSearchParams(Buffer.concat(chunks).toString()).get('text') ?? '' });
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const callbackUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const config = loadConfig({ ...environment, ALLOWED_UNTRUSTED_INTERNAL_CONNECTIONS: '127.0.0.0/8', POWERTOOLS_LOG_LEVEL: 'WARN' });
  const db = DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint: config.dynamodbEndpoint, region: config.region, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }),
    { marshallOptions: { removeUndefinedValues: true } },
  );
  const sqs = sqsClient({ endpoint: config.sqsEndpoint, region: config.region });
  const dynamoCounts = countRequests(db);
  const sqsCounts = countRequests(sqs);
  const runtime = createRuntime(config, new Logger({ serviceName: 'bench', logLevel: 'WARN' }), db);
  const outgoing = createOutgoingRuntime(runtime, sqs, db);
  const { createHandler: dispatcher } = await import('../../functions/outgoing-dispatcher.js');
  const { createHandler: worker } = await import('../../functions/outgoing-worker.js');
  const gateway = await startGateway({ runtime });
  const stream = await startStreamSource({ dynamoEndpoint: config.dynamodbEndpoint!, tableName: config.tables.posts, handler: dispatcher(outgoing), intervalMs: 20 });
  const queue = startQueueSource({ sqsEndpoint: config.sqsEndpoint!, queueUrl: config.queueUrl!, handler: worker(outgoing), intervalMs: 20 });

  const seed = await applySeed(
    'bench-outgoing.yaml',
    parseSeedFile(
      'bench-outgoing.yaml',
      `teams: [{name: outbench}, {name: fanout}]
channels: [{team: outbench, name: town-square}, {team: fanout, name: town-square}]
users: [{username: poster, token: benchposter00000000000000000000000, teams: [outbench, fanout], channels: [outbench/town-square, fanout/town-square]}]
outgoing_webhooks:
  - {team: outbench, channel: town-square, creator: poster, display_name: one, trigger_words: [go], callback_urls: ["${callbackUrl}/one"]}
${Array.from({ length: 10 }, (_unused, index) => `  - {team: fanout, channel: town-square, creator: poster, display_name: fan${index}, trigger_words: [go], callback_urls: ["${callbackUrl}/fan${index}"]}`).join('\n')}`,
    ),
    { store: runtime.entities, siteUrl: '' },
  );
  const channel = (team: string) => seed.channels.find((candidate) => candidate.team === team)!.id;
  const post = async (channelId: string, message: string) => {
    const response = await fetch(`${gateway.url}/api/v4/posts`, {
      method: 'POST',
      headers: { authorization: 'Bearer benchposter00000000000000000000000', 'content-type': 'application/json' },
      body: JSON.stringify({ channel_id: channelId, message }),
    });
    if (response.status !== 201) throw new Error(`post answered ${response.status}`);
    return performance.now();
  };
  const waitFor = async (count: number, timeoutMs = 120_000) => {
    const deadline = Date.now() + timeoutMs;
    while (received.length < count) {
      if (Date.now() > deadline) throw new Error(`only ${received.length} of ${count} deliveries arrived`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  };

  try {
    // 1. Delay, one post at a time.
    await post(channel('outbench'), 'go warm-up');
    await waitFor(1);
    const delaysMs: number[] = [];
    for (let i = 0; i < options.posts; i++) {
      const before = received.length;
      const answeredAt = await post(channel('outbench'), `go ${i}`);
      await waitFor(before + 1);
      delaysMs.push(received[before]!.atMs - answeredAt);
    }

    // 2. Fan-out throughput: every post matches 10 hooks.
    dynamoCounts.clear();
    sqsCounts.clear();
    const start = received.length;
    const startedAt = performance.now();
    for (let i = 0; i < options.burstPosts; i++) await post(channel('fanout'), `go burst ${i}`);
    const deliveries = options.burstPosts * 10;
    await waitFor(start + deliveries);
    const seconds = (performance.now() - startedAt) / 1000;
    await new Promise((resolve) => setTimeout(resolve, 300)); // the last attempts' log writes
    const dynamo = perOperation(dynamoCounts, deliveries);
    const queue = perOperation(sqsCounts, deliveries);
    return {
      delayP50Ms: percentile(delaysMs, 50),
      delayP95Ms: percentile(delaysMs, 95),
      deliveriesPerSecond: deliveries / seconds,
      dynamoPerDelivery: dynamo.total,
      dynamoBreakdown: dynamo.breakdown,
      sqsPerDelivery: queue.total,
      sqsBreakdown: queue.breakdown,
      deliveries,
    };
  } finally {
    await queue.stop();
    await stream.stop();
    await gateway.close();
    server.closeAllConnections();
    server.close();
  }
}
