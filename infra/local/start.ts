/**
 * npm start: the whole stack on this machine, no AWS account needed. DynamoDB Local (data kept in
 * .hookline/), the SQS emulator, tables and queues created from serverless.yml, the demo seed on
 * first start, and every route of the API on http://127.0.0.1:PORT (3000 unless PORT is set),
 * served by the same handlers that deploy to Lambda. Ctrl-C stops everything it started.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../lib/config.js';
import { createRuntime } from '../../lib/runtime.js';
import { applySeed, parseSeedFile, type SeedSummary } from '../../lib/seed/seed.js';
import { startGateway } from './gateway.js';
import { projectRoot } from './serverless-definition.js';
import { createHandler as createDispatcher } from '../../functions/outgoing-dispatcher.js';
import { createHandler as createWorker } from '../../functions/outgoing-worker.js';
import { createHandler as createLiveEvents } from '../../functions/live-events.js';
import { createOutgoingRuntime } from '../../lib/webhooks/outgoing-runtime.js';
import { startDemoIntegration } from './demo-integration.js';
import { startQueueSource, startStreamSource } from './event-sources.js';
import { provisionLocalResources, startDynamoDbLocal, startSqsEmulator } from './stack.js';
import { resolveStageConfig } from '../aws/stage-config.cjs';
import { localDataDir, writeLocalState } from './state.js';
import { buildWebApp } from '../web/build.js';

const port = Number(process.env.PORT ?? 3000);
const demoIntegrationPort = Number(process.env.DEMO_INTEGRATION_PORT ?? port + 1);
const host = process.env.HOST ?? '127.0.0.1';
const stops: Array<() => Promise<void>> = [];

async function shutdown(code: number): Promise<never> {
  for (const stop of stops.reverse()) await stop().catch(() => undefined);
  process.exit(code);
}
process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));

try {
  // The web app at / is served from web/dist, built from web/src on every start.
  console.log('Building the web app...');
  await buildWebApp();
  console.log('Starting DynamoDB Local and the SQS emulator...');
  const dynamo = await startDynamoDbLocal({ dataDir: path.join(localDataDir, 'dynamodb') });
  stops.push(dynamo.stop);
  // The queues survive restarts and kill -9, as SQS would: the emulator's messages are journaled.
  const sqs = await startSqsEmulator({ journalFile: path.join(localDataDir, 'sqs-journal.jsonl') });
  stops.push(sqs.stop);
  // Settings come from config/local.yml; a variable of the same name in this shell wins for one run.
  const provisioned = await provisionLocalResources({ stage: 'local', dynamoEndpoint: dynamo.endpoint, sqsEndpoint: sqs.endpoint });
  const restored = await sqs.restore!(provisioned.queueUrls);
  if (restored > 0) console.log(`Restored ${restored} queued message(s) from the last run.`);
  const apiUrl = `http://${host}:${port}`;
  const environment: Record<string, string> = {
    ...provisioned.environment,
    // Like a deployed stage, an empty SITE_URL means the stack's own URL.
    SITE_URL: provisioned.environment.SITE_URL || apiUrl,
    // The WebSocket API's Management API is served by the local gateway on the same port.
    WEBSOCKET_MANAGEMENT_ENDPOINT: apiUrl,
    // EMF metrics are for CloudWatch; locally they would only fill the console.
    POWERTOOLS_METRICS_DISABLED: process.env.POWERTOOLS_METRICS_DISABLED ?? 'true',
  };
  Object.assign(process.env, environment);
  const runtime = createRuntime(loadConfig(process.env));

  const gateway = await startGateway({ runtime, port, host });
  stops.push(gateway.close);
  // Lambda's event source mappings, locally: the posts stream to the dispatcher, the queue to the worker.
  const outgoing = createOutgoingRuntime(runtime);

  const logError = (source: string) => (error: unknown) => console.error(`${source}:`, error);
  const stream = await startStreamSource({
    dynamoEndpoint: dynamo.endpoint,
    tableName: environment.TABLE_POSTS!,
    handler: createDispatcher(outgoing),
    onError: logError('posts stream'),
    checkpointFile: path.join(localDataDir, 'posts-stream-checkpoint.json'),
    // As the deployed event source mapping: give up on a record this old, noting it in the failure queue.
    maximumRecordAgeSeconds: resolveStageConfig('local').stream.maximumRecordAgeSeconds,
    onFailure: { sqsEndpoint: sqs.endpoint, queueUrl: provisioned.queueUrls.DispatchFailureQueue! },
  });
  stops.push(stream.stop);
  // The stream's second mapping: live events to connected websocket clients, from now on.
  const liveStream = await startStreamSource({
    dynamoEndpoint: dynamo.endpoint,
    tableName: environment.TABLE_POSTS!,
    handler: createLiveEvents(runtime),
    intervalMs: 20,
    startingPosition: 'LATEST',
    onError: logError('live events'),
  });
  stops.push(liveStream.stop);
  const queue = startQueueSource({
    sqsEndpoint: sqs.endpoint,
    queueUrl: environment.QUEUE_URL!,
    handler: createWorker(outgoing),
    onError: logError('delivery queue'),
  });
  stops.push(queue.stop);
  writeLocalState({ apiUrl, environment, pid: process.pid });

  const summaryFile = path.join(localDataDir, 'demo-summary.json');
  let demo: SeedSummary | undefined;
  if (provisioned.tablesCreated.length > 0 || !existsSync(summaryFile)) {
    const demoFile = path.join(projectRoot, 'infra/seed/demo.yaml');
    const demoText = readFileSync(demoFile, 'utf8').replaceAll('{{DEMO_INTEGRATION_URL}}', `http://${host}:${demoIntegrationPort}`);
    demo = await applySeed('infra/seed/demo.yaml', parseSeedFile('infra/seed/demo.yaml', demoText), {
      store: runtime.entities,
      siteUrl: apiUrl,
      // The demo integration verifies signatures with these secrets, even when the tables outlived the summary file.
      showSecrets: true,
    });
    writeFileSync(summaryFile, `${JSON.stringify(demo, null, 2)}\n`);
  } else {
    demo = JSON.parse(readFileSync(summaryFile, 'utf8')) as SeedSummary;
  }

  const demoSummary = demo;
  const integration = await startDemoIntegration({
    port: demoIntegrationPort,
    host,
    outgoingSecrets: () => demoSummary.outgoing_webhooks.flatMap((hook) => hook.signing_secret ?? []),
    commandSecrets: () => demoSummary.commands.flatMap((command) => command.signing_secret ?? []),
    actionSecret: () => demoSummary.action_signing_secret ?? '',
  });
  stops.push(() => new Promise<void>((resolve) => integration.close(() => resolve())));

  const alice = demo.users.find((user) => user.username === 'alice');
  const townSquare = demo.channels.find((channel) => channel.name === 'town-square');
  const ciHook = demo.incoming_webhooks[0];
  console.log(`
Hookline is running on ${apiUrl}   (Ctrl-C to stop)
  Live events     ${apiUrl.replace(/^http/, 'ws')}/api/v4/websocket

Web app: ${apiUrl}/   (sign in with the demo token below)

  DynamoDB Local  ${dynamo.endpoint}   data in ${path.join(localDataDir, "dynamodb")}
  SQS emulator    ${sqs.endpoint}

Demo incoming webhooks:
${demo.incoming_webhooks.map((hook) => `  ${hook.display_name.padEnd(8)} ${hook.url}   (#${hook.channel})`).join('\n')}

Demo user token (alice): ${alice?.token ?? '(see .hookline/demo-summary.json)'}
Demo integration: http://${host}:${demoIntegrationPort}/outgoing   (outgoing webhook on "build" in #town-square)

Try:
  curl -s -X POST ${ciHook?.url} -H 'Content-Type: application/json' -d '{"text":"Build 42 passed :tada:"}'
  curl -s ${apiUrl}/api/v4/channels/${townSquare?.id}/posts -H 'Authorization: Bearer ${alice?.token}'
  curl -s -X POST ${apiUrl}/api/v4/posts -H 'Authorization: Bearer ${alice?.token}' \\
       -d '{"channel_id":"${townSquare?.id}","message":"build api"}'     # the demo integration replies in the thread
  npm run deliveries -- list                                            # what was delivered, what failed
  curl -s -X POST ${apiUrl}/api/v4/commands/execute -H 'Authorization: Bearer ${alice?.token}' \\
       -d '{"channel_id":"${townSquare?.id}","command":"/deploy api"}'  # ephemeral answer, then one in the channel
  curl -s -X POST ${apiUrl}/api/v4/posts/<reply post id>/actions/approve -H 'Authorization: Bearer ${alice?.token}'
                                                      # click Approve on the build reply (or /reject, or /environment with -d '{"selected_option":"staging"}')
`);
} catch (error) {
  console.error(error);
  await shutdown(1);
}
