/**
 * npm run deliveries -- list [--hours N] [--failed] [--limit N] [--stage NAME]
 * npm run deliveries -- show DELIVERY_ID [--stage NAME]
 * npm run deliveries -- redrive [--max N] [--stage NAME]
 *
 * The operator's view of outgoing deliveries: recent attempts (outcome, status, latency, error),
 * one delivery's attempts, and moving what sits in the dead-letter queue back for another try.
 * Against the local stack by default; with --stage against a deployed stage (AWS credentials and
 * region from the environment, queue URLs looked up by name).
 */
import { GetQueueAttributesCommand, GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { parseArgs } from 'node:util';
import { sqsClient } from '../../lib/queue.js';
import { documentClient } from '../../lib/store/dynamo.js';
import { DeliveryStore, type DeliveryAttempt } from '../../lib/store/deliveries.js';
import { redriveDeadLetters } from '../../lib/webhooks/deliveries-admin.js';
import { readLocalState } from '../local/state.js';

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

async function wiring() {
  if (values.stage) {
    const sqs = sqsClient({ region });
    const url = async (name: string) => (await sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl!;
    return {
      dynamoEndpoint: undefined,
      sqsEndpoint: undefined,
      deliveriesTable: `hookline-${values.stage}-deliveries`,
      queueUrl: await url(`hookline-${values.stage}-outgoing`),
      deadLetterQueueUrl: await url(`hookline-${values.stage}-outgoing-dlq`),
    };
  }
  const local = readLocalState();
  if (!local) {
    console.error('The local stack is not running: start it with `npm start`, or pass --stage NAME.');
    process.exit(2);
  }
  process.env.AWS_ACCESS_KEY_ID ??= 'local';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
  return {
    dynamoEndpoint: local.environment.DYNAMODB_ENDPOINT,
    sqsEndpoint: local.environment.SQS_ENDPOINT,
    deliveriesTable: local.environment.TABLE_DELIVERIES!,
    queueUrl: local.environment.QUEUE_URL!,
    deadLetterQueueUrl: local.environment.DEAD_LETTER_QUEUE_URL!,
  };
}

function printAttempts(attempts: DeliveryAttempt[]): void {
  if (attempts.length === 0) return console.log('no delivery attempts');
  for (const attempt of attempts) {
    console.log(
      [
        new Date(attempt.attempted_at).toISOString(),
        attempt.delivery_id,
        `#${attempt.attempt}`,
        attempt.outcome.padEnd(9),
        String(attempt.status || '-').padStart(3),
        `${attempt.latency_ms} ms`.padStart(8),
        attempt.url,
        attempt.error,
      ].join('  '),
    );
  }
}

const wired = await wiring();
const store = new DeliveryStore(documentClient({ endpoint: wired.dynamoEndpoint, region }), wired.deliveriesTable, 0);
const sqs = sqsClient({ endpoint: wired.sqsEndpoint, region });
switch (command) {
  case 'list': {
    const attempts = await store.recent({ hours: Number(values.hours), nowMs: Date.now(), limit: Number(values.limit) * 4 });
    const shown = values.failed ? attempts.filter((attempt) => attempt.outcome !== 'delivered' && attempt.outcome !== 'skipped') : attempts;
    printAttempts(shown.slice(0, Number(values.limit)));
    const depth = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: wired.deadLetterQueueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }));
    console.log(`\ndead-letter queue: ${depth.Attributes?.ApproximateNumberOfMessages ?? '?'} message(s)  (npm run deliveries -- redrive)`);
    break;
  }
  case 'show':
    if (!argument) throw new Error('usage: npm run deliveries -- show DELIVERY_ID');
    printAttempts(await store.ofDelivery(argument));
    break;
  case 'redrive': {
    const moved = await redriveDeadLetters(sqs, {
      deadLetterQueueUrl: wired.deadLetterQueueUrl,
      queueUrl: wired.queueUrl,
      ...(values.max ? { max: Number(values.max) } : {}),
    });
    console.log(`moved ${moved} message(s) from the dead-letter queue back to the delivery queue`);
    break;
  }
  default:
    console.error('usage: npm run deliveries -- list [--hours N] [--failed] [--limit N] | show DELIVERY_ID | redrive [--max N]   [--stage NAME]');
    process.exit(2);
}
