/**
 * Live events: the delay from an incoming webhook's answer to the `posted` event at connected
 * clients, with 1 and with 500 connections in the channel, through the same path as `npm start`:
 * the local gateway (WebSocket API and Management API on the HTTP port), the posts stream polled
 * every 20 ms, the live-events handler. Also what one post's fan-out costs: DynamoDB requests and
 * capacity units, and Management API messages, per connection.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { loadConfig } from '../../lib/config.js';
import { createRuntime } from '../../lib/runtime.js';
import { countRequests, meterCapacity } from '../../lib/store/dynamo.js';
import { ConnectionStore } from '../../lib/store/connections.js';
import { liveFor, setLive } from '../../lib/live/live.js';
import { createHandler as createLiveEvents } from '../../functions/live-events.js';
import { startStreamSource } from '../local/event-sources.js';
import { startGateway } from '../local/gateway.js';
import { freePort } from '../local/stack.js';
import { percentile, perOperation, seed } from './support.js';

const USERS = 50;

interface Client {
  socket: WebSocket;
  arrivals: Map<string, number>;
}

async function connectClient(url: string, token: string): Promise<Client> {
  const socket = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } } as never);
  const arrivals = new Map<string, number>();
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no hello')), 30_000);
    socket.onopen = () => socket.send(JSON.stringify({ seq: 1, action: 'ping' }));
    socket.onmessage = (message) => {
      const parsed = JSON.parse(String(message.data)) as { event?: string; data?: { post?: string }; broadcast?: { channel_id?: string } };
      if (parsed.event === 'hello') {
        clearTimeout(timer);
        resolve();
      } else if (parsed.event === 'posted') arrivals.set((JSON.parse(parsed.data!.post!) as { id: string }).id, performance.now());
      else if (parsed.event === 'direct_added') arrivals.set(`direct_added:${parsed.broadcast?.channel_id ?? ''}`, performance.now());
    };
    socket.onerror = () => reject(new Error('socket error'));
  });
  return { socket, arrivals };
}

/** A direct channel's fan-out: its members' connections (the by-user index), one connection each. */
export interface DirectChannelResult {
  p50Ms: number;
  p95Ms: number;
  dynamoPerPost: number;
  readUnitsPerPost: number;
  messagesPerPost: number;
  breakdown: string;
}

export async function benchLive(environment: Record<string, string>, options: { posts: number; connectionCounts: number[] }) {
  const port = await freePort();
  const apiUrl = `http://127.0.0.1:${port}`;
  const config = loadConfig({ ...environment, SITE_URL: apiUrl, WEBSOCKET_MANAGEMENT_ENDPOINT: apiUrl, INCOMING_WEBHOOK_RATE_LIMIT_PER_SECOND: '0' });
  const logger = new Logger({ serviceName: 'bench', logLevel: 'WARN' });
  // The API serves its own runtime; the live-events handler has one whose requests are counted.
  const apiRuntime = createRuntime(config, logger);
  const db = DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint: config.dynamodbEndpoint, region: config.region, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }),
    { marshallOptions: { removeUndefinedValues: true } },
  );
  const counts = countRequests(db);
  const capacity = meterCapacity(db);
  const liveRuntime = createRuntime(config, logger, db);
  // The fan-out's connection store on the counted client, and its sends counted.
  const sender = liveFor(liveRuntime)!.sender;
  let messages = 0;
  setLive(liveRuntime, {
    connections: new ConnectionStore(db, config.tables.connections!),
    sender: { send: (connectionId, message) => (messages++, sender.send(connectionId, message)), close: (connectionId) => sender.close(connectionId) },
  });
  const gateway = await startGateway({ runtime: apiRuntime, port });
  const users = Array.from({ length: USERS }, (_, index) => ({ username: `live${index}`, token: `livebench${String(index).padStart(4, '0')}${'0'.repeat(21)}` }));
  const summary = await seed(
    apiRuntime,
    'bench-live.yaml',
    `teams: [{name: livebench}]
channels: [{team: livebench, name: town-square}]
users:
${users.map((user) => `  - {username: ${user.username}, token: ${user.token}, teams: [livebench], channels: [livebench/town-square]}`).join('\n')}
incoming_webhooks: [{team: livebench, channel: town-square, creator: live0, display_name: live}]`,
  );
  const hookUrl = `${apiUrl}/hooks/${summary.incoming_webhooks[0]!.id}`;
  const stream = await startStreamSource({
    dynamoEndpoint: config.dynamodbEndpoint!,
    tableName: config.tables.posts,
    handler: createLiveEvents(liveRuntime),
    intervalMs: 20,
    startingPosition: 'LATEST',
    onError: (error) => console.error('live stream:', error),
  });
  const socketUrl = `${apiUrl.replace(/^http/, 'ws')}/api/v4/websocket`;

  /**
   * live0 and live1 connected once each; live0 creates their direct channel (direct_added reaches
   * both) and posts there over REST. The two sockets are closed before the channel rounds.
   */
  async function benchDirectChannel(): Promise<DirectChannelResult> {
    const pair = await Promise.all([users[0]!, users[1]!].map((user) => connectClient(socketUrl, user.token)));
    const rest = (path: string, body: unknown) =>
      fetch(`${apiUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${users[0]!.token}` }, body: JSON.stringify(body) });
    const ids = summary.users.filter((user) => user.username === 'live0' || user.username === 'live1').map((user) => user.id);
    const channel = (await (await rest('/api/v4/channels/direct', ids)).json()) as { id: string };
    const arrived = async (key: string) => {
      const deadline = Date.now() + 30_000;
      while (pair.some((client) => !client.arrivals.has(key)) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 2));
      if (pair.some((client) => !client.arrivals.has(key))) throw new Error(`${key} missed a member of the direct channel`);
      return Math.max(...pair.map((client) => client.arrivals.get(key)!));
    };
    await arrived(`direct_added:${channel.id}`);
    const post = async () => {
      const response = await rest('/api/v4/posts', { channel_id: channel.id, message: 'direct' });
      const { id } = (await response.json()) as { id: string };
      const answeredAt = performance.now();
      return (await arrived(id)) - answeredAt;
    };
    for (let warmUp = 0; warmUp < 3; warmUp++) await post();
    counts.clear();
    capacity.readUnits = 0;
    messages = 0;
    const delays: number[] = [];
    for (let index = 0; index < options.posts; index++) delays.push(await post());
    const requests = perOperation(counts, options.posts);
    const result = {
      p50Ms: percentile(delays, 50),
      p95Ms: percentile(delays, 95),
      dynamoPerPost: requests.total,
      readUnitsPerPost: capacity.readUnits / options.posts,
      messagesPerPost: messages / options.posts,
      breakdown: requests.breakdown,
    };
    // Their $disconnect removes them, so the channel rounds count only their own connections.
    const store = liveFor(liveRuntime)!.connections;
    for (const client of pair) client.socket.close();
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && (await Promise.all(ids.map((id) => store.connectionsOfUser(id)))).some((listed) => listed.length > 0)) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return result;
  }
  const clients: Client[] = [];
  let direct: DirectChannelResult | undefined;
  const results: Array<{ connections: number; firstP50Ms: number; firstP95Ms: number; lastP50Ms: number; lastP95Ms: number; dynamoPerConnection: number; writeUnitsPerConnection: number; readUnitsPerPost: number; messagesPerPost: number; breakdown: string }> = [];
  try {
    direct = await benchDirectChannel();
    for (const connections of options.connectionCounts) {
      while (clients.length < connections) {
        const batch = Array.from({ length: Math.min(50, connections - clients.length) }, (_, index) => users[(clients.length + index) % USERS]!);
        clients.push(...(await Promise.all(batch.map((user) => connectClient(socketUrl, user.token)))));
      }
      // The warm-up posts may race the stream poller's first LATEST iterator, so a miss there is not counted.
      const post = async (strict = true) => {
        const started = performance.now();
        const response = await fetch(hookUrl, { method: 'POST', headers: { 'content-type': 'application/json', prefer: 'return=representation' }, body: '{"text":"live"}' });
        const { post_id: postId } = (await response.json()) as { post_id: string };
        const answeredAt = performance.now();
        const deadline = Date.now() + 30_000;
        while (clients.some((client) => !client.arrivals.has(postId)) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 2));
        const arrivals = clients.map((client) => client.arrivals.get(postId) ?? Number.NaN);
        if (arrivals.some(Number.isNaN)) {
          if (!strict) return undefined;
          throw new Error(`post ${postId} missed ${arrivals.filter(Number.isNaN).length} connections`);
        }
        return { first: Math.min(...arrivals) - answeredAt, last: Math.max(...arrivals) - answeredAt, total: Math.max(...arrivals) - started };
      };
      for (let warmUp = 0; warmUp < 3; warmUp++) await post(false);
      counts.clear();
      capacity.writeUnits = 0;
      capacity.readUnits = 0;
      messages = 0;
      const delays: Array<{ first: number; last: number }> = [];
      for (let index = 0; index < options.posts; index++) delays.push((await post())!);
      const requests = perOperation(counts, options.posts);
      results.push({
        connections,
        firstP50Ms: percentile(delays.map((delay) => delay.first), 50),
        firstP95Ms: percentile(delays.map((delay) => delay.first), 95),
        lastP50Ms: percentile(delays.map((delay) => delay.last), 50),
        lastP95Ms: percentile(delays.map((delay) => delay.last), 95),
        dynamoPerConnection: requests.total / connections,
        writeUnitsPerConnection: capacity.writeUnits / options.posts / connections,
        readUnitsPerPost: capacity.readUnits / options.posts,
        messagesPerPost: messages / options.posts,
        breakdown: requests.breakdown,
      });
    }
    return { channels: results, direct: direct! };
  } finally {
    // The gateway drops the sockets without $disconnect: the bench stage's connection items expire.
    await stream.stop();
    await gateway.close();
  }
}
