/**
 * How closely the per-hook rate limit holds across instances: `instances` runtimes (each with its
 * own per-instance buckets, as separate Lambda instances have) hammer one hook through the real
 * handler and DynamoDB Local for a few windows. Reports posts admitted per window against the
 * window's budget, and the shared counter's writes per admitted post.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { createHandler } from '../../functions/incoming-webhook.js';
import { createRuntime } from '../../lib/runtime.js';
import { countedRuntime, seed } from './support.js';

export interface RateLimitBench {
  budgetPerWindow: number;
  windows: number;
  admittedPerWindow: number[];
  refused: number;
  updatesPerAdmitted: number;
}

export async function benchRateLimit(environment: Record<string, string>, options: { instances: number; concurrencyPerInstance: number; seconds: number }): Promise<RateLimitBench> {
  const { config, db, counts, runtime } = countedRuntime(environment);
  const summary = await seed(
    runtime,
    'rate.yaml',
    `teams: [{name: ratebench}]
channels: [{team: ratebench, name: town-square}]
users: [{username: ratebencher, teams: [ratebench], channels: [ratebench/town-square]}]
incoming_webhooks: [{team: ratebench, channel: town-square, creator: ratebencher, display_name: hammered}]`,
  );
  const hookId = summary.incoming_webhooks[0]!.id;
  // Short windows, so that a run of seconds covers several of them.
  const windowMs = 5_000;
  const limit = { ...config.incomingWebhookRateLimit!, windowMs };
  const limited = { ...config, incomingWebhookRateLimit: limit };
  const handlers = Array.from({ length: options.instances }, () =>
    createHandler(createRuntime(limited, new Logger({ serviceName: 'bench', logLevel: 'SILENT' }), db)),
  );
  const admittedByWindow = new Map<number, number>();
  let refused = 0;
  counts.clear();
  const deadline = Date.now() + options.seconds * 1000;
  let index = 0;
  await Promise.all(
    handlers.flatMap((handler) =>
      Array.from({ length: options.concurrencyPerInstance }, async () => {
        while (Date.now() < deadline) {
          const i = index++;
          // The window a post counts in is the one it was admitted in: when the request started.
          const startedAt = Date.now();
          const result = await handler({
            version: '2.0',
            rawPath: `/hooks/${hookId}`,
            headers: { 'content-type': 'application/json' },
            pathParameters: { hook_id: hookId },
            requestContext: { http: { method: 'POST' }, requestId: String(i) },
            body: JSON.stringify({ text: `hammer ${i}` }),
            isBase64Encoded: false,
          } as never);
          const windowStart = startedAt - (startedAt % windowMs);
          if (result.statusCode === 200) admittedByWindow.set(windowStart, (admittedByWindow.get(windowStart) ?? 0) + 1);
          else if (result.statusCode === 429) {
            refused++;
            // Refusals answer at once; yielding lets the admitted requests' writes go on meanwhile.
            await new Promise((resolve) => setImmediate(resolve));
          } else throw new Error(`answered ${result.statusCode}`);
        }
      }),
    ),
  );
  // Only whole windows count: the first and last are cut by the start and the deadline.
  const windows = [...admittedByWindow.entries()].sort(([a], [b]) => a - b).slice(1, -1);
  const admitted = [...admittedByWindow.values()].reduce((sum, count) => sum + count, 0);
  return {
    budgetPerWindow: (limit.perSecond * windowMs) / 1000 + limit.burst,
    windows: windows.length,
    admittedPerWindow: windows.map(([, count]) => count),
    refused,
    updatesPerAdmitted: (counts.get('UpdateItemCommand') ?? 0) / admitted,
  };
}
