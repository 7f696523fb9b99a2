/**
 * npm run deliveries -- list [--hours N] [--failed] [--limit N] [--stage NAME]
 * npm run deliveries -- show DELIVERY_ID [--stage NAME]
 * npm run deliveries -- redrive [--max N] [--stage NAME]
 * npm run deliveries -- replay-dispatch [--max N] [--stage NAME]
 *
 * The operator's view of outgoing deliveries: recent attempts (outcome, status, latency, error),
 * one delivery's attempts, moving what sits in the dead-letter queue back for another try, and
 * replaying the posts that the dispatcher could not dispatch (the posts stream's failure queue).
 * Against the local stack by default; with --stage against a deployed stage (AWS credentials and
 * region from the environment, names from serverless.yml, queue URLs looked up by name).
 */
import { GetQueueAttributesCommand, GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { parseArgs } from 'node:util';
import { localEndpoint } from '../../lib/aws.js';
import { loadConfig } from '../../lib/config.js';
import { sqsClient } from '../../lib/queue.js';
import { createRuntime } from '../../lib/runtime.js';
import { documentClient } from '../../lib/store/dynamo.js';
import { DeliveryStore, type DeliveryAttempt } from '../../lib/store/deliveries.js';
import { redriveDeadLetters } from '../../lib/webhooks/deliveries-admin.js';
import { replayDispatchFailures } from '../../lib/webhooks/dispatch-replay.js';
import { createOutgoingRuntime } from '../../lib/webhooks/outgoing-runtime.js';
import { readLocalState } from '../local/state.js';
import { resourceName, stageResources } from '../stage-resources.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    stage: { type: 'string' },
    region: { type: 'string' },
    hours: { type: 'string', default: '24' },
    limit: { type: 'string', default: '50' },
    max: { type: 'string' },
    failed: { type: 'boolean', default: false },
  },
});
const [command, argument] = positionals;
const region = values.region ?? process.env.AWS_REGION ?? 'us-east-1';

/** The functions' environment for the stage: the tables, queues and endpoints they would see. */
async function stageEnvironment(): Promise<Record<string, string | undefined>> {
  if (values.stage) {
    const resources = await stageResources(values.stage, region);
    return {
      AWS_REGION: region,
      TABLE_ENTITIES: resources.tables.entities,
      TABLE_POSTS: resources.tables.posts,
      TABLE_DELIVERIES: resources.tables.deliveries,
      QUEUE_URL: resources.queueUrls.outgoing,
      DEAD_LETTER_QUEUE_URL: resources.queueUrls.deadLetter,
      DISPATCH_FAILURE_QUEUE_URL: resources.queueUrls.dispatchFailures,
    };
  }
  const local = readLocalState();
  if (!local) {
    console.error('The local stack is not running: start it with `npm start`, or pass --stage NAME.');
    process.exit(2);
  }
  process.env.AWS_ACCESS_KEY_ID ??= 'local';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
  const localSqs = sqsClient({ endpoint: local.environment.SQS_ENDPOINT, region });
  const failureQueue = await localSqs.send(new GetQueueUrlCommand({ QueueName: resourceName('DispatchFailureQueue', 'local') }));
  localSqs.destroy();
  return { ...local.environment, DISPATCH_FAILURE_QUEUE_URL: local.environment.DISPATCH_FAILURE_QUEUE_URL ?? failureQueue.QueueUrl };
}

function printAttempts(attempts: DeliveryAttempt[]): void {
  if (attempts.length === 0) return console.log('no delivery attempts');
  for (const attempt of attempts) {
    console.log(
      [
        new Date(attempt.attempted_at).toISOString(),
        attempt.delivery_id,
        `#${attempt.attempt}`,
        attempt.outcome.padEnd(13),
        String(attempt.status || '-').padStart(3),
        `${attempt.latency_ms} ms`.padStart(8),
        attempt.url,
        attempt.error,
      ].join('  '),
    );
  }
}

const environment = await stageEnvironment();
const config = loadConfig(environment);
const store = new DeliveryStore(documentClient({ endpoint: config.dynamodbEndpoint, region }), config.tables.deliveries, 0);
const sqs = sqsClient({ endpoint: config.sqsEndpoint, region });
switch (command) {
  case 'list': {
    const attempts = await store.recent({ hours: Number(values.hours), nowMs: Date.now(), limit: Number(values.limit) * 4 });
    const shown = values.failed ? attempts.filter((attempt) => attempt.outcome !== 'delivered' && attempt.outcome !== 'skipped') : attempts;
    printAttempts(shown.slice(0, Number(values.limit)));
    const depth = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: config.deadLetterQueueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }));
    console.log(`\ndead-letter queue: ${depth.Attributes?.ApproximateNumberOfMessages ?? '?'} message(s)  (npm run deliveries -- redrive)`);
    break;
  }
  case 'show':
    if (!argument) throw new Error('usage: npm run deliveries -- show DELIVERY_ID');
    printAttempts(await store.ofDelivery(argument));
    break;
  case 'redrive': {
    const moved = await redriveDeadLetters(sqs, {
      deadLetterQueueUrl: config.deadLetterQueueUrl!,
      queueUrl: config.queueUrl!,
      ...(values.max ? { max: Number(values.max) } : {}),
    });
    console.log(`moved ${moved} message(s) from the dead-letter queue back to the delivery queue`);
    break;
  }
  case 'replay-dispatch': {
    const runtime = createOutgoingRuntime(createRuntime(config));
    const streams = new DynamoDBStreamsClient({ region, ...localEndpoint(config.dynamodbEndpoint) });
    const report = await replayDispatchFailures(runtime, sqs, {
      failureQueueUrl: config.dispatchFailureQueueUrl!,
      streams,
      ...(values.max ? { max: Number(values.max) } : {}),
    });
    console.log(`replayed ${report.messages} failure record(s): ${report.posts} post(s) dispatched again, ${report.deliveries} delivery(ies) enqueued`);
    for (const kept of report.kept) console.log(`kept ${kept.messageId}: ${kept.reason}`);
    if (report.kept.length > 0) process.exitCode = 1;
    break;
  }
  default:
    console.error('usage: npm run deliveries -- list [--hours N] [--failed] [--limit N] | show DELIVERY_ID | redrive [--max N] | replay-dispatch [--max N]   [--stage NAME]');
    process.exit(2);
}
