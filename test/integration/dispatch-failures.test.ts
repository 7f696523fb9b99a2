import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeStreamCommand, DynamoDBStreamsClient, GetRecordsCommand, GetShardIteratorCommand } from '@aws-sdk/client-dynamodb-streams';
import { GetQueueAttributesCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../lib/ids.js';
import { buildPost } from '../../lib/posts/rules.js';
import { sqsClient } from '../../lib/queue.js';
import { documentClient } from '../../lib/store/dynamo.js';
import { replayDispatchFailures } from '../../lib/webhooks/dispatch-replay.js';
import { dispatchPost } from '../../lib/webhooks/outgoing-dispatch.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../infra/local/stack.js';
import { resourceName } from '../../infra/stage-resources.js';
import { startCallbackServer, type CallbackServer } from '../support/callback-server.js';
import { seedWorld, startOutgoingStack, type OutgoingStack, type World } from '../support/harness.js';

/**
 * A post the dispatcher cannot handle: parked in the posts stream's failure queue (with what a
 * replay needs) while later posts are dispatched, then replayed by the operator command's use case.
 */
let stack: OutgoingStack;
let server: CallbackServer;
let world: World;
let streams: DynamoDBStreamsClient;

beforeAll(async () => {
  // Parked at the first failure, so the test does not wait the default five minutes.
  stack = await startOutgoingStack({ DISPATCH_PARK_AFTER_SECONDS: '0' });
  server = await startCallbackServer();
  world = await seedWorld(stack.api.runtime, (names) => ({
    outgoing_webhooks: [
      { team: names.team, channel: 'town-square', creator: names.creator, trigger_words: ['build'], callback_urls: [`${server.url}/hook`], content_type: 'application/json' },
    ],
  }));
  streams = new DynamoDBStreamsClient({ endpoint: stack.environment.DYNAMODB_ENDPOINT, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
});
afterAll(async () => {
  streams.destroy();
  await server.close();
  await stack.close();
});

const sqs = () => sqsClient({ endpoint: stack.environment.SQS_ENDPOINT, region: LOCAL_REGION });
const failureQueueUrl = () => stack.environment.DISPATCH_FAILURE_QUEUE_URL!;

async function failureQueueDepth(): Promise<number> {
  const attributes = await sqs().send(
    new GetQueueAttributesCommand({ QueueUrl: failureQueueUrl(), AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
  );
  return Number(attributes.Attributes?.ApproximateNumberOfMessages ?? 0) + Number(attributes.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
}

async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A stored post item that the dispatcher cannot read (its props are not JSON), as a bug could leave one. */
async function storePoisonPost(message: string, props: string, where: { stack: OutgoingStack; world: World } = { stack, world }): Promise<string> {
  const post = buildPost({ userId: where.world.user('creator').id, channelId: where.world.channel('town-square').id, rootId: '', message, type: '', props: {} }, Date.now());
  const item = {
    PK: `POST#${post.id}`,
    SK: '#POST',
    GSI1PK: `CHANNEL#${post.channel_id}`,
    GSI1SK: `${String(post.create_at).padStart(15, '0')}#${post.id}`,
    id: post.id,
    create_at: post.create_at,
    update_at: post.update_at,
    user_id: post.user_id,
    channel_id: post.channel_id,
    message,
    props_json: props,
    metadata_json: '{}',
    trigger_webhooks: true,
  };
  await documentClient({ endpoint: where.stack.environment.DYNAMODB_ENDPOINT, region: LOCAL_REGION }).send(
    new PutCommand({ TableName: where.stack.environment.TABLE_POSTS, Item: item }),
  );
  return post.id;
}

describe('a post the dispatcher cannot handle', () => {
  it('is parked in the failure queue without holding up later posts, and the replay delivers it once mended', async () => {
    const poisonId = await storePoisonPost('build poison', '{not json');
    const auth = { authorization: `Bearer ${world.user('creator').token}` };
    const later = await stack.api.postJson('/api/v4/posts', { channel_id: world.channel('town-square').id, message: 'build later' }, auth);
    expect(later.status).toBe(201);

    // The later post is delivered: the shard moved past the poison record.
    const [delivered] = await server.waitFor(1);
    expect(JSON.parse(delivered!.body)).toMatchObject({ text: 'build later' });
    expect(await eventually(failureQueueDepth, (depth) => depth === 1)).toBe(1);

    // Nothing can be delivered while the post is unreadable: the replay keeps the message.
    const failed = await replayDispatchFailures(stack.runtime, sqs(), { failureQueueUrl: failureQueueUrl(), streams });
    expect(failed).toMatchObject({ messages: 0, posts: 0 });
    expect(failed.kept).toHaveLength(1);

    // Mended (a MODIFY, which the stream filter never dispatches), then replayed once the kept
    // message is visible again.
    await documentClient({ endpoint: stack.environment.DYNAMODB_ENDPOINT, region: LOCAL_REGION }).send(
      new PutCommand({
        TableName: stack.environment.TABLE_POSTS,
        Item: { ...(await rawPost(poisonId)), props_json: '{}' },
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    // The operator's command, against the stage's tables and queues by name.
    const output = await runDeliveriesCli(['replay-dispatch']);
    expect(output).toContain('replayed 1 failure record(s): 1 post(s) dispatched again, 1 delivery(ies) enqueued');
    const requests = await server.waitFor(2);
    expect(JSON.parse(requests[1]!.body)).toMatchObject({ text: 'build poison', post_id: poisonId });
    expect(await failureQueueDepth()).toBe(0);
  });

  it('lets the stream retry a failing post until it is DISPATCH_PARK_AFTER_SECONDS old', async () => {
    const patient = { ...stack.runtime, config: { ...stack.runtime.config, dispatchParkAfterMs: 300_000 } };
    const before = await failureQueueDepth();
    const young = await dispatchPost(patient, { postId: newId(), error: new Error('unreadable') }, { sequenceNumber: '1', createdAtMs: Date.now() - 1_000 });
    expect(young).toBe('retry');
    expect(await failureQueueDepth()).toBe(before);
    const old = await dispatchPost(patient, { postId: newId(), error: new Error('unreadable') }, { sequenceNumber: '2', createdAtMs: Date.now() - 301_000 });
    expect(old).toBe('parked');
    expect(await eventually(failureQueueDepth, (depth) => depth === before + 1)).toBe(before + 1);
    // Drained, so the next test starts from an empty queue: a post that no longer exists has nothing to replay.
    expect(await replayDispatchFailures(stack.runtime, sqs(), { failureQueueUrl: failureQueueUrl(), streams })).toMatchObject({ messages: 1, posts: 0 });
  });

  it('replays a batch that Lambda gave up on, reading its records back from the stream', async () => {
    server.received.length = 0;
    const auth = { authorization: `Bearer ${world.user('creator').token}` };
    const post = (await stack.api.postJson('/api/v4/posts', { channel_id: world.channel('town-square').id, message: 'build from the stream' }, auth)).json();
    const [first] = await server.waitFor(1);

    // Lambda's on-failure record locates the batch only: shard and sequence numbers.
    const record = await streamRecordOf(post.id);
    await sqs().send(
      new SendMessageCommand({
        QueueUrl: failureQueueUrl(),
        MessageBody: JSON.stringify({
          requestContext: { requestId: newId(), condition: 'RecordAgeExceeded', approximateInvokeCount: 3 },
          version: '1.0',
          timestamp: new Date().toISOString(),
          DDBStreamBatchInfo: { ...record, batchSize: 1 },
        }),
      }),
    );
    const replayed = await replayDispatchFailures(stack.runtime, sqs(), { failureQueueUrl: failureQueueUrl(), streams });
    expect(replayed).toMatchObject({ messages: 1, posts: 1, deliveries: 1, kept: [] });
    // The same delivery again, with the same webhook-id, so the receiver can tell it is a replay.
    const [, again] = await server.waitFor(2);
    expect(again!.headers['webhook-id']).toBe(first!.headers['webhook-id']);
    expect(JSON.parse(again!.body)).toMatchObject({ post_id: post.id });
  });
});

/** `npm run deliveries -- ARGS --stage <the test stack's stage>`, with the AWS endpoints pointed at the local emulators. */
async function runDeliveriesCli(args: string[]): Promise<string> {
  const stage = stack.environment.TABLE_POSTS!.replace(/^hookline-/, '').replace(/-posts$/, '');
  return new Promise<string>((resolve, reject) =>
    execFile(
      'npx',
      ['tsx', 'infra/deliveries/cli.ts', ...args, '--stage', stage],
      {
        env: {
          ...process.env,
          AWS_ENDPOINT_URL_DYNAMODB: stack.environment.DYNAMODB_ENDPOINT,
          AWS_ENDPOINT_URL_DYNAMODB_STREAMS: stack.environment.DYNAMODB_ENDPOINT,
          AWS_ENDPOINT_URL_SQS: stack.environment.SQS_ENDPOINT,
          AWS_ACCESS_KEY_ID: 'local',
          AWS_SECRET_ACCESS_KEY: 'local',
        },
      },
      (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stdout}\n${stderr}`)) : resolve(stdout)),
    ),
  );
}

async function rawPost(postId: string, of: OutgoingStack = stack): Promise<Record<string, unknown>> {
  const result = await documentClient({ endpoint: of.environment.DYNAMODB_ENDPOINT, region: LOCAL_REGION }).send(
    new GetCommand({ TableName: of.environment.TABLE_POSTS, Key: { PK: `POST#${postId}`, SK: '#POST' } }),
  );
  return result.Item!;
}

/** The shard, sequence number and stream of the INSERT record of a post. */
async function streamRecordOf(postId: string) {
  const dynamo = new DynamoDBClient({ endpoint: stack.environment.DYNAMODB_ENDPOINT, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  const streamArn = (await dynamo.send(new DescribeTableCommand({ TableName: stack.environment.TABLE_POSTS }))).Table!.LatestStreamArn!;
  dynamo.destroy();
  for (const shard of (await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }))).StreamDescription!.Shards!) {
    let iterator = (await streams.send(new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shard.ShardId!, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
    while (iterator) {
      const page = await streams.send(new GetRecordsCommand({ ShardIterator: iterator }));
      const found = (page.Records ?? []).find((record) => record.dynamodb?.NewImage?.id?.S === postId && record.eventName === 'INSERT');
      if (found) {
        const sequenceNumber = found.dynamodb!.SequenceNumber!;
        return { shardId: shard.ShardId!, startSequenceNumber: sequenceNumber, endSequenceNumber: sequenceNumber, streamArn };
      }
      if ((page.Records ?? []).length === 0) break;
      iterator = page.NextShardIterator;
    }
  }
  throw new Error(`no stream record of post ${postId}`);
}

describe('a batch the dispatcher keeps failing without parking it', () => {
  it('is discarded once older than the maximum record age, with Lambda\'s record in the failure queue, and replayed from the stream', async () => {
    // No failure queue for the dispatcher itself: only the event source mapping can give up.
    const unparked = await startOutgoingStack({ DISPATCH_FAILURE_QUEUE_URL: '' }, { maximumRecordAgeSeconds: 1 });
    const callbacks = await startCallbackServer();
    try {
      const local = await seedWorld(unparked.api.runtime, (names) => ({
        outgoing_webhooks: [
          { team: names.team, channel: 'town-square', creator: names.creator, trigger_words: ['build'], callback_urls: [`${callbacks.url}/hook`], content_type: 'application/json' },
        ],
      }));
      const stage = { stack: unparked, world: local };
      const poisonId = await storePoisonPost('build stuck', '{not json', stage);
      const queueUrl = await failureQueueOf(unparked);
      const sqsOfStage = sqsClient({ endpoint: unparked.environment.SQS_ENDPOINT, region: LOCAL_REGION });
      const depth = async () =>
        Number(
          (await sqsOfStage.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }))).Attributes
            ?.ApproximateNumberOfMessages ?? 0,
        );
      expect(await eventually(depth, (value) => value === 1, 15_000)).toBe(1);
      await documentClient({ endpoint: unparked.environment.DYNAMODB_ENDPOINT, region: LOCAL_REGION }).send(
        new PutCommand({ TableName: unparked.environment.TABLE_POSTS, Item: { ...(await rawPost(poisonId, unparked)), props_json: '{}' } }),
      );
      const replayed = await replayDispatchFailures(unparked.runtime, sqsOfStage, { failureQueueUrl: queueUrl, streams });
      expect(replayed).toMatchObject({ messages: 1, posts: 1, deliveries: 1, kept: [] });
      const [delivered] = await callbacks.waitFor(1);
      expect(JSON.parse(delivered!.body)).toMatchObject({ text: 'build stuck', post_id: poisonId });
    } finally {
      await callbacks.close();
      await unparked.close();
    }
  }, 40_000);
});

async function failureQueueOf(of: OutgoingStack): Promise<string> {
  const { GetQueueUrlCommand } = await import('@aws-sdk/client-sqs');
  const stage = of.environment.TABLE_POSTS!.replace(/^hookline-/, '').replace(/-posts$/, '');
  const sqsOfStage = sqsClient({ endpoint: of.environment.SQS_ENDPOINT, region: LOCAL_REGION });
  return (await sqsOfStage.send(new GetQueueUrlCommand({ QueueName: resourceName('DispatchFailureQueue', stage) }))).QueueUrl!;
}
