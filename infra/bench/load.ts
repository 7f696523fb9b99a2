/**
 * One load run in its own process, so its peak memory is its own: either the bundled
 * incoming-webhook function called with API Gateway v2 events, or bare DynamoDB PutItems of
 * post-sized items (the baseline). Settings arrive as JSON in BENCH_LOAD; the result is printed as JSON.
 */
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';

interface LoadSettings {
  mode: 'handler' | 'baseline';
  bundle: string;
  hookId: string;
  table: string;
  endpoint: string;
  concurrency: number;
  requests: number;
}

const settings = JSON.parse(process.env.BENCH_LOAD ?? '{}') as LoadSettings;
const text = 'Build 1234 of hookline passed in 42 s :tada:';

async function makeCall(): Promise<(index: number) => Promise<void>> {
  if (settings.mode === 'handler') {
    const { handler } = (await import(pathToFileURL(settings.bundle).href)) as {
      handler: (event: unknown) => Promise<{ statusCode: number; body: string }>;
    };
    return async (index) => {
      const result = await handler({
        version: '2.0',
        routeKey: 'POST /hooks/{hook_id}',
        rawPath: `/hooks/${settings.hookId}`,
        rawQueryString: '',
        headers: { 'content-type': 'application/json' },
        pathParameters: { hook_id: settings.hookId },
        requestContext: { http: { method: 'POST', path: `/hooks/${settings.hookId}` }, requestId: String(index) },
        body: JSON.stringify({ text: `${text} #${index}` }),
        isBase64Encoded: false,
      });
      if (result.statusCode !== 200) throw new Error(`handler answered ${result.statusCode}: ${result.body}`);
    };
  }
  // Imported only here, and split into a chunk of its own (run.ts), so the handler process carries no
  // second copy of the SDK.
  const { DynamoDBClient, PutItemCommand } = await import('@aws-sdk/client-dynamodb');
  const client = new DynamoDBClient({ endpoint: settings.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  return async (index) => {
    const id = randomBytes(13).toString('hex');
    const now = Date.now();
    // The same attributes as a stored post, so both sides write items of one size to the same indexes.
    await client.send(
      new PutItemCommand({
        TableName: settings.table,
        Item: {
          PK: { S: `POST#${id}` },
          SK: { S: '#POST' },
          GSI1PK: { S: 'CHANNEL#baseline' },
          GSI1SK: { S: `${String(now).padStart(15, '0')}#${id}` },
          GSI2PK: { S: 'CHANNEL#baseline' },
          GSI2SK: { S: `${String(now).padStart(15, '0')}#${id}` },
          id: { S: id },
          create_at: { N: String(now) },
          update_at: { N: String(now) },
          edit_at: { N: '0' },
          delete_at: { N: '0' },
          is_pinned: { BOOL: false },
          user_id: { S: 'u'.repeat(26) },
          channel_id: { S: 'c'.repeat(26) },
          root_id: { S: '' },
          original_id: { S: '' },
          message: { S: `${text} #${index}` },
          type: { S: '' },
          hashtags: { S: '' },
          pending_post_id: { S: '' },
          reply_count: { N: '0' },
          props_json: { S: '{"from_webhook":"true","webhook_display_name":"bench"}' },
          metadata_json: { S: '{}' },
        },
        ConditionExpression: 'attribute_not_exists(PK)',
      }),
    );
  };
}

const call = await makeCall();
// Warm up: the first calls pay for connections and, in the handler, the hook and channel reads.
for (let i = 0; i < settings.concurrency; i++) await call(-1 - i);
let next = 0;
const startedMs = performance.now();
const cpuBefore = process.cpuUsage();
await Promise.all(
  Array.from({ length: settings.concurrency }, async () => {
    while (next < settings.requests) await call(next++);
  }),
);
const seconds = (performance.now() - startedMs) / 1000;
const cpu = process.cpuUsage(cpuBefore);
const cpuMsPerRequest = (cpu.user + cpu.system) / 1000 / settings.requests;
const maxRssMb = process.resourceUsage().maxRSS / 1024;
// After the peak is read: what stays reachable, against the RSS that V8 and the allocator keep.
(globalThis as { gc?: () => void }).gc?.();
const heapAfterGcMb = process.memoryUsage().heapUsed / 1024 / 1024;
process.stdout.write(
  `${JSON.stringify({ mode: settings.mode, requests: settings.requests, seconds, perSecond: settings.requests / seconds, cpuMsPerRequest, maxRssMb, heapAfterGcMb })}\n`,
);
