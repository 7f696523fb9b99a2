/**
 * npm run bench: the performance figures, as ratios and counts measured in one run (these machines
 * are noisy, so no absolute number is compared across runs and nothing here is a test).
 *
 *  1. incoming-webhook posts per second through the bundled handler, against bare DynamoDB PutItems
 *     of post-sized items on the same DynamoDB Local at the same concurrency (alternating rounds);
 *  2. DynamoDB requests per incoming post on a warm instance;
 *  3. the peak memory of one instance serving requests one at a time, against a bare-PutItem process
 *     run the same way, and of the processes of (1); each function's bundle size and module load
 *     time in a fresh Node process;
 *  4-7. outgoing webhooks, slash commands, interactive messages, the per-hook rate limit;
 *  8. live events: the delay from an incoming webhook post to the `posted` event at 1 and 500
 *     connected websocket clients, and what a post's fan-out costs per connection.
 *
 * `--sections 1,3` runs only those (a comma-separated subset of 1-8).
 */
// The in-process sections keep EMF metrics off the console; the load processes turn them on
// (functionEnv below), so the measured handler pays for them as a deployed one does.
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';

import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { loadConfig } from '../../lib/config.js';
import { createRuntime } from '../../lib/runtime.js';
import { countRequests, meterCapacity } from '../../lib/store/dynamo.js';
import { costPerMillionPosts, PRICES } from './prices.js';
import { createHandler } from '../../functions/incoming-webhook.js';
import { projectRoot } from '../local/serverless-definition.js';
import { provisionLocalResources, startDynamoDbLocal, startSqsEmulator } from '../local/stack.js';
import { bundleFunctions } from './bundle.js';
import { buildWebApp } from '../web/build.js';
import { webAppSizes } from './web-app-size.js';
import { perOperation, seed } from './support.js';
import { benchActions } from './actions.js';
import { benchCommands } from './commands.js';
import { benchOutgoing } from './outgoing.js';
import { benchRateLimit } from './rate-limit.js';
import { benchLive } from './live.js';

const { values } = parseArgs({
  options: {
    concurrency: { type: 'string', default: '16' },
    requests: { type: 'string', default: '2000' },
    rounds: { type: 'string', default: '5' },
    'outgoing-posts': { type: 'string', default: '50' },
    'fanout-posts': { type: 'string', default: '30' },
    executions: { type: 'string', default: '200' },
    'live-posts': { type: 'string', default: '30' },
    // A comma-separated subset, e.g. `--sections 1,3` for the throughput and memory figures only.
    sections: { type: 'string', default: '1,2,3,4,5,6,7,8' },
  },
});
const sections = new Set(values.sections.split(',').map((section) => Number(section.trim())));
const concurrency = Number(values.concurrency);
const requests = Number(values.requests);
const rounds = Number(values.rounds);

const median = (numbers: number[]) => {
  const sorted = [...numbers].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

function run(command: string, args: string[], env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(command, args, { env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) =>
      error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout),
    ),
  );
}

const dynamo = await startDynamoDbLocal();
const sqs = await startSqsEmulator();
try {
  const { environment } = await provisionLocalResources({ stage: 'bench', dynamoEndpoint: dynamo.endpoint, sqsEndpoint: sqs.endpoint });
  const config = loadConfig({ ...environment, INCOMING_WEBHOOK_RATE_LIMIT_PER_SECOND: '100000' });
  const runtime = createRuntime(config, new Logger({ serviceName: 'bench', logLevel: 'SILENT' }));
  const summary = await seed(
    runtime,
    'bench.yaml',
    `teams: [{name: bench}]
channels: [{team: bench, name: town-square}]
users: [{username: bencher, teams: [bench], channels: [bench/town-square]}]
incoming_webhooks: [{team: bench, channel: town-square, creator: bencher, display_name: bench}]`,
  );
  const hookId = summary.incoming_webhooks[0]!.id;

  const outDir = mkdtempSync(path.join(tmpdir(), 'hookline-bench-'));
  const loadSections = sections.has(1) || sections.has(2) || sections.has(3);
  if (loadSections) console.log(`Bundling functions into ${outDir} ...`);
  const bundles = loadSections ? await bundleFunctions(outDir) : [];
  // The driver is split: the baseline's AWS SDK goes to a chunk of its own that only the baseline
  // process loads, so the handler process's memory holds the function's bundle and a few lines of
  // driver, not a second SDK (bundled into one file, it added about 8 MB to the handler's peak RSS).
  // The baseline's SDK is bundled as the functions' is (ES modules, minified), so both sides load
  // the same SDK code.
  const loadOut = path.join(outDir, 'load');
  if (loadSections) {
    await build({
      entryPoints: [path.join(projectRoot, 'infra/bench/load.ts')],
      outdir: loadOut,
      outExtension: { '.js': '.mjs' },
      splitting: true,
      bundle: true,
      minify: true,
      mainFields: ['module', 'main'],
      external: ['bowser'],
      platform: 'node',
      format: 'esm',
      target: 'node24',
      banner: { js: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);" },
      logLevel: 'error',
    });
  }
  const loadDriver = path.join(loadOut, 'load.mjs');
  const incomingBundle = bundles.find((bundle) => bundle.name === 'incomingWebhook')?.file ?? '';
  // The per-hook rate limit stays on, as deployed, but high enough not to refuse this load: its
  // bookkeeping is measured, its refusals are not (section 7 measures those).
  const functionEnv = {
    ...environment,
    POWERTOOLS_LOG_LEVEL: process.env.LOG_LEVEL ?? 'INFO',
    POWERTOOLS_SERVICE_NAME: 'hookline',
    INCOMING_WEBHOOK_RATE_LIMIT_PER_SECOND: '100000',
    POWERTOOLS_METRICS_DISABLED: 'false',
  };

  // The V8 limits the Lambda Node.js runtime sets for a 128 MB function (its bootstrap gives a
  // tenth of the memory to the new space, half of that per semi-space, and the rest to the old space).
  // --expose-gc only lets the driver collect once the peak is read, to report the live heap.
  const lambda128 = ['--max-semi-space-size=6', '--max-old-space-size=116', '--expose-gc'];
  type LoadResult = { perSecond: number; maxRssMb: number; cpuMsPerRequest: number; heapAfterGcMb: number };
  const load = async (mode: 'baseline' | 'handler', loadConcurrency: number, loadRequests: number): Promise<LoadResult> => {
    const settings = { mode, bundle: incomingBundle, hookId, table: environment.TABLE_POSTS, endpoint: dynamo.endpoint, concurrency: loadConcurrency, requests: loadRequests };
    const output = await run(process.execPath, [...lambda128, loadDriver], { ...functionEnv, BENCH_LOAD: JSON.stringify(settings) });
    const lines = output.trim().split('\n');
    return JSON.parse(lines[lines.length - 1]!) as LoadResult;
  };

  // 1. Throughput against the baseline, alternating so drift hits both sides alike. Two
  // discarded rounds warm DynamoDB Local's JIT, which otherwise penalizes whoever runs first.
  const results: Record<'baseline' | 'handler', LoadResult[]> = { baseline: [], handler: [] };
  if (sections.has(1)) {
    console.log(`Load: ${rounds} rounds of ${requests} requests at concurrency ${concurrency}, after two warm-up rounds ...`);
    for (let warmUp = 0; warmUp < 2; warmUp++) {
      await load('baseline', concurrency, requests);
      await load('handler', concurrency, requests);
    }
    for (let round = 0; round < rounds; round++) {
      for (const mode of ['baseline', 'handler'] as const) {
        const result = await load(mode, concurrency, requests);
        results[mode].push(result);
        console.log(`  round ${round + 1} ${mode.padEnd(8)} ${result.perSecond.toFixed(0)} /s   ${result.cpuMsPerRequest.toFixed(2)} ms CPU/request   peak RSS ${result.maxRssMb.toFixed(0)} MB`);
      }
    }
    const baselineRate = median(results.baseline.map((result) => result.perSecond));
    const handlerRate = median(results.handler.map((result) => result.perSecond));
    console.log(`
Incoming webhook throughput (median of ${rounds} rounds, concurrency ${concurrency}):
  bare DynamoDB PutItem    ${baselineRate.toFixed(0)} /s
  POST /hooks/{id} handler ${handlerRate.toFixed(0)} /s
  ratio                    ${(handlerRate / baselineRate).toFixed(2)}   (target 0.9 or better)
`);
  }

  // A Lambda instance serves one request at a time: its memory is that of a sequential run, and its
  // mean latency is the billed Lambda duration (section 2's cost). Its peak RSS swings by several MB
  // between identical runs (native memory of V8's background compiler), so section 3 takes five runs,
  // alternating with a bare-PutItem process run the same way, and reports their median.
  const sequential: Record<'baseline' | 'handler', LoadResult[]> = { baseline: [], handler: [] };
  const sequentialRequests = Math.min(requests, 1000);
  for (let round = 0; round < (sections.has(3) ? 5 : sections.has(2) ? 1 : 0); round++) {
    for (const mode of sections.has(3) ? (['baseline', 'handler'] as const) : (['handler'] as const)) {
      sequential[mode].push(await load(mode, 1, sequentialRequests));
    }
  }

  // 2. DynamoDB requests per post, counted on a warm instance.
  if (sections.has(2)) {
    const counted = DynamoDBDocumentClient.from(
      new DynamoDBClient({ endpoint: dynamo.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }),
    );
    const counts = countRequests(counted);
    const capacity = meterCapacity(counted);
    const handler = createHandler(createRuntime(config, new Logger({ serviceName: 'bench', logLevel: 'SILENT' }), counted));
    const event = (index: number) =>
      ({
        version: '2.0',
        rawPath: `/hooks/${hookId}`,
        headers: { 'content-type': 'application/json' },
        pathParameters: { hook_id: hookId },
        requestContext: { http: { method: 'POST' }, requestId: String(index) },
        body: JSON.stringify({ text: `count ${index}` }),
        isBase64Encoded: false,
      }) as never;
    await handler(event(-1));
    counts.clear();
    capacity.writeUnits = 0;
    capacity.readUnits = 0;
    const countedPosts = 200;
    for (let i = 0; i < countedPosts; i++) await handler(event(i));
    const perPost = perOperation(counts, countedPosts).breakdown;
    const writeUnitsPerPost = capacity.writeUnits / countedPosts;
    const readUnitsPerPost = capacity.readUnits / countedPosts;
    const lambdaMsPerPost = 1000 / median(sequential.handler.map((result) => result.perSecond));
    const cost = costPerMillionPosts({ writeUnitsPerPost, readUnitsPerPost, lambdaMsPerPost });
    console.log(`DynamoDB requests per incoming post, warm instance: ${perPost}   (target: 1 write, 0 reads)
DynamoDB capacity per incoming post (as billed on demand, table and indexes): ${writeUnitsPerPost.toFixed(2)} write units, ${readUnitsPerPost.toFixed(2)} read units   (target: at most 2 write units)

Cost per million incoming posts (${PRICES.source}):
  API Gateway HTTP API   $${cost.apiGateway.toFixed(2)}
  Lambda requests        $${cost.lambdaRequests.toFixed(2)}
  Lambda duration        $${cost.lambdaDuration.toFixed(2)}   (${lambdaMsPerPost.toFixed(1)} ms at 128 MB arm64, the local sequential latency)
  DynamoDB writes        $${cost.dynamoWrites.toFixed(2)}
  DynamoDB reads         $${cost.dynamoReads.toFixed(2)}
  CloudFront front door   $${cost.frontDoor.toFixed(2)}   (past its free 10 million requests a month; api.frontDoor: false saves it)
  total                  $${cost.total.toFixed(2)}   ($${cost.totalWithoutFrontDoor.toFixed(2)} without the front door)
`);
  }

  // 3. Peak memory; bundle sizes and module load times, each in a fresh Node process.
  if (sections.has(3)) {
    const loadTimes: Record<string, number> = {};
    for (const bundle of bundles) {
      const samples: number[] = [];
      for (let i = 0; i < 5; i++) {
        const output = await run(
          process.execPath,
          ['--input-type=module', '-e', `const t=performance.now(); await import(${JSON.stringify(`file://${bundle.file}`)}); console.log(performance.now()-t)`],
          functionEnv,
        );
        samples.push(Number(output.trim()));
      }
      loadTimes[bundle.name] = median(samples);
    }

    // The web app as served: its script and stylesheet, minified, and what they weigh gzipped.
    const webApp = webAppSizes(await buildWebApp({ outDir: mkdtempSync(path.join(tmpdir(), 'hookline-web-')) }));

    const loaded = results.handler.length > 0;
    const spread = (runs: LoadResult[]) =>
      `median ${median(runs.map((result) => result.maxRssMb)).toFixed(0)} MB, highest ${Math.max(...runs.map((result) => result.maxRssMb)).toFixed(0)} MB`;
    const memory = (runs: LoadResult[]) =>
      `median ${median(runs.map((result) => result.maxRssMb)).toFixed(0)} MB (runs ${runs.map((result) => result.maxRssMb.toFixed(0)).join(', ')}); live heap after a full GC ${median(runs.map((result) => result.heapAfterGcMb)).toFixed(1)} MB`;
    console.log(`Peak memory (RSS) with the V8 limits of a 128 MB Lambda, ${sequentialRequests} requests one at a time (as Lambda runs them)   (target under 128 MB)
  one instance of the incomingWebhook bundle   ${memory(sequential.handler)}
  a bare-PutItem process, the same way         ${memory(sequential.baseline)}${
    loaded ? `
  one process serving the concurrency-${concurrency} load of section 1: ${spread(results.handler)}   (bare-PutItem process: ${spread(results.baseline)})` : ''
  }

Function bundles (minified, as packaged) and module load time in a fresh Node process (median of 5):
${bundles.map((bundle) => `  ${bundle.name.padEnd(18)} ${(bundle.bytes / 1024).toFixed(0).padStart(6)} KiB   ${loadTimes[bundle.name]!.toFixed(0).padStart(4)} ms`).join('\n')}

${webApp}
`);
  }

  // 4. Outgoing webhooks through the local pipeline.
  if (sections.has(4)) {
    console.log('Outgoing webhooks: delay and fan-out through the posts stream, SQS and the worker ...');
    const outgoing = await benchOutgoing(environment, { posts: Number(values['outgoing-posts']), burstPosts: Number(values['fanout-posts']) });
    console.log(`
Outgoing webhooks (local stack: stream and queue polled every 20 ms, callback answering at once):
  delay from POST /api/v4/posts answering to the callback receiving it   p50 ${outgoing.delayP50Ms.toFixed(0)} ms   p95 ${outgoing.delayP95Ms.toFixed(0)} ms   (target p50 under 1 s)
  deliveries per second, 10 hooks matching every post                   ${outgoing.deliveriesPerSecond.toFixed(0)} /s   (${outgoing.deliveries} deliveries)
  DynamoDB requests per delivery (post, dispatch, delivery, log)         ${outgoing.dynamoPerDelivery.toFixed(2)}   (${outgoing.dynamoBreakdown})
  SQS requests per delivery                                              ${outgoing.sqsPerDelivery.toFixed(2)}   (${outgoing.sqsBreakdown})
`);
  }

  // 5. Slash commands.
  if (sections.has(5)) {
    const commands = await benchCommands(environment, Number(values.executions));
    console.log(`Slash commands (local API, command server answering at once, in_channel answer):
  overhead of POST /api/v4/commands/execute over the command server's own round trip   p50 ${commands.p50Ms.toFixed(1)} ms   p95 ${commands.p95Ms.toFixed(1)} ms
  DynamoDB requests per execution                                                        ${commands.dynamoPerExecution.toFixed(2)}   (${commands.breakdown})
`);
  }

  // 6. Interactive message actions.
  if (sections.has(6)) {
    const actions = await benchActions(environment, Number(values.executions));
    console.log(`Interactive messages (local API, integration answering at once with an update):
  overhead of POST /api/v4/posts/{id}/actions/{action_id} over the integration's own round trip   p50 ${actions.p50Ms.toFixed(1)} ms   p95 ${actions.p95Ms.toFixed(1)} ms
  DynamoDB requests per click                                                                     ${actions.dynamoPerClick.toFixed(2)}   (${actions.breakdown})
`);
  }

  // 7. The per-hook rate limit across instances, at its defaults.
  if (sections.has(7)) {
    const rate = await benchRateLimit(environment, { instances: 4, concurrencyPerInstance: 4, seconds: 16 });
    const worst = Math.max(...rate.admittedPerWindow);
    console.log(`Per-hook rate limit (10/s, burst 100; 5 s windows instead of the default 60 s), 4 instances x 4 concurrent callers on one hook:
  budget per window                       ${rate.budgetPerWindow}   (bound across the instances: ${rate.boundPerWindow})
  admitted per whole window               ${rate.admittedPerWindow.join(', ')}   (worst ${(worst / rate.budgetPerWindow).toFixed(2)} x the budget${worst > rate.boundPerWindow ? ', PAST THE BOUND' : ''})
  refused (429)                           ${rate.refused}
  shared-counter writes per admitted post ${rate.updatesPerAdmitted.toFixed(3)}
`);
  }

  // 8. Live events through the local WebSocket gateway.
  if (sections.has(8)) {
    console.log('Live events: posted events at 1 and 500 websocket connections ...');
    const { channels: live, direct } = await benchLive(environment, { posts: Number(values['live-posts']), connectionCounts: [1, 500] });
    console.log(`Live events (local stack: posts stream polled every 20 ms; delay from the incoming webhook answering):
  direct channel, 1 connection per member   p50 ${direct.p50Ms.toFixed(0)} ms  p95 ${direct.p95Ms.toFixed(0)} ms (from the REST post answering)
       per post: ${direct.messagesPerPost.toFixed(0)} Management API messages, ${direct.readUnitsPerPost.toFixed(1)} read units, ${direct.dynamoPerPost.toFixed(2)} DynamoDB requests   (${direct.breakdown})
${live
    .map(
      (result) => `  ${String(result.connections).padStart(3)} connection(s)  first client p50 ${result.firstP50Ms.toFixed(0)} ms  p95 ${result.firstP95Ms.toFixed(0)} ms   last client p50 ${result.lastP50Ms.toFixed(0)} ms  p95 ${result.lastP95Ms.toFixed(0)} ms${result.connections === 1 ? '   (target p50 under 100 ms)' : ''}
       per post: ${result.messagesPerPost.toFixed(0)} Management API messages, ${result.readUnitsPerPost.toFixed(1)} read units; per connection: ${result.dynamoPerConnection.toFixed(2)} DynamoDB requests, ${result.writeUnitsPerConnection.toFixed(2)} write units   (${result.breakdown})`,
    )
    .join('\n')}
  AWS cost of one post's fan-out to 10 000 connections, at these per-connection figures: ${(10_000 * (PRICES.websocketPerMessage + (live.at(-1)!.writeUnitsPerConnection * PRICES.dynamoPerWriteUnit))).toFixed(4)} USD
`);
  }
} finally {
  await sqs.stop();
  await dynamo.stop();
}
