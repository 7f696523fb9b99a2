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
  /** The most a window can admit across the instances (lib/rate-limit.ts derives it). */
  boundPerWindow: number;
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
  const admittedByWindow = new Map<number, number>();
  let refused = 0;
  const handlers = Array.from({ length: options.instances }, () => {
    const runtime = createRuntime(limited, new Logger({ serviceName: 'bench', logLevel: 'SILENT' }), db);
    // A post counts in the window the limiter counted it in. The request's start time would put a
    // post that started just before a window's end, but was decided just after, in the wrong window.
    const limiter = runtime.hookRateLimiter!;
    const take = limiter.take.bind(limiter);
    limiter.take = async (id) => {
      const decision = await take(id);
      if (decision.allowed) admittedByWindow.set(decision.windowStartMs, (admittedByWindow.get(decision.windowStartMs) ?? 0) + 1);
      return decision;
    };
    return createHandler(runtime);
  });
  let answered = 0;
  counts.clear();
  const deadline = Date.now() + options.seconds * 1000;
  let index = 0;
  await Promise.all(
    handlers.flatMap((handler) =>
      Array.from({ length: options.concurrencyPerInstance }, async () => {
        while (Date.now() < deadline) {
          const i = index++;
          const result = await handler({
            version: '2.0',
            rawPath: `/hooks/${hookId}`,
            headers: { 'content-type': 'application/json' },
            pathParameters: { hook_id: hookId },
            requestContext: { http: { method: 'POST' }, requestId: String(i) },
            body: JSON.stringify({ text: `hammer ${i}` }),
            isBase64Encoded: false,
          } as never);
          if (result.statusCode === 200) answered++;
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
  if (admitted !== answered) throw new Error(`the limiter admitted ${admitted} posts but the handler answered ${answered} with 200`);
  const budgetPerWindow = (limit.perSecond * windowMs) / 1000 + limit.burst;
  const syncEvery = Math.ceil(budgetPerWindow / 10);
  return {
    budgetPerWindow,
    boundPerWindow: budgetPerWindow + (options.instances - 1) * syncEvery,
    windows: windows.length,
    admittedPerWindow: windows.map(([, count]) => count),
    refused,
    updatesPerAdmitted: (counts.get('UpdateItemCommand') ?? 0) / admitted,
  };
}
