/**
 * Replays what sits in the posts stream's failure queue (npm run deliveries -- replay-dispatch).
 * Two kinds of message land there:
 *  - posts the dispatcher parked itself (`parked_post`): the post id, read back from the posts table;
 *  - Lambda's own on-failure record, when the stream gave up on a batch the dispatcher could not
 *    even report (a crash, a timeout): shard and sequence range only. The records are read back
 *    from the stream, which keeps them 24 hours; the event source's maximum record age (1 hour by
 *    default) leaves most of that day to replay them.
 * Each post is dispatched again with the same derived delivery ids, so a post that had in fact been
 * partly dispatched gets no second reply, and receivers see the same `webhook-id`.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient, GetRecordsCommand, GetShardIteratorCommand } from '@aws-sdk/client-dynamodb-streams';
import { ChangeMessageVisibilityCommand, DeleteMessageCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { parkedDispatchSchema } from '../queue.js';
import { planDeliveries } from './outgoing-dispatch.js';
import type { OutgoingRuntime } from './outgoing-runtime.js';

/** The part of Lambda's on-failure record for a DynamoDB stream batch that locates the records. */
interface StreamBatchInfo {
  shardId: string;
  startSequenceNumber: string;
  endSequenceNumber: string;
  streamArn: string;
}

export interface ReplayReport {
  /** Failure-queue messages handled and deleted. */
  messages: number;
  /** Posts dispatched again. */
  posts: number;
  /** Deliveries enqueued for them. */
  deliveries: number;
  /** Messages left in the queue (unreadable, or their replay failed), with why. */
  kept: Array<{ messageId: string; reason: string }>;
}

export async function replayDispatchFailures(
  runtime: OutgoingRuntime,
  sqs: SQSClient,
  options: { failureQueueUrl: string; streams: DynamoDBStreamsClient; max?: number },
): Promise<ReplayReport> {
  const report: ReplayReport = { messages: 0, posts: 0, deliveries: 0, kept: [] };
  const max = options.max ?? Number.POSITIVE_INFINITY;
  const seen = new Set<string>();
  while (report.messages + report.kept.length < max) {
    const received = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: options.failureQueueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        // Long enough to replay a batch; a message whose replay fails comes back after it.
        VisibilityTimeout: 120,
      }),
    );
    const messages = (received.Messages ?? []).filter((message) => !seen.has(message.MessageId!));
    if (messages.length === 0) break;
    for (const message of messages) {
      seen.add(message.MessageId!);
      try {
        const postIds = await postIdsOf(message.Body ?? '', options.streams);
        for (const postId of postIds) {
          const post = await runtime.posts.getPost(postId);
          // A post deleted since has nothing left to deliver.
          if (!post) continue;
          const deliveries = await planDeliveries(runtime, post);
          await runtime.queue.enqueue(deliveries);
          report.posts++;
          report.deliveries += deliveries.length;
        }
        await sqs.send(new DeleteMessageCommand({ QueueUrl: options.failureQueueUrl, ReceiptHandle: message.ReceiptHandle! }));
        report.messages++;
      } catch (error) {
        report.kept.push({ messageId: message.MessageId!, reason: error instanceof Error ? error.message : String(error) });
        // Visible again in a second, for the next replay; this run does not take it twice (`seen`).
        // (Not 0: besides meaning "now", the local emulator mishandles a visibility of 0.)
        await sqs.send(
          new ChangeMessageVisibilityCommand({ QueueUrl: options.failureQueueUrl, ReceiptHandle: message.ReceiptHandle!, VisibilityTimeout: 1 }),
        );
      }
    }
  }
  return report;
}

/** The ids of the posts a failure-queue message stands for. */
async function postIdsOf(body: string, streams: DynamoDBStreamsClient): Promise<string[]> {
  const message = JSON.parse(body) as unknown;
  const parked = parkedDispatchSchema.safeParse(message);
  if (parked.success) return [parked.data.post_id];
  const batch = (message as { DDBStreamBatchInfo?: StreamBatchInfo }).DDBStreamBatchInfo;
  if (batch?.shardId && batch.startSequenceNumber && batch.endSequenceNumber && batch.streamArn) {
    return triggeringPostIdsInRange(streams, batch);
  }
  throw new Error('neither a parked post nor a stream batch record');
}

/** The posts that the dispatcher's filter lets through (new, marked trigger_webhooks) in a shard range. */
async function triggeringPostIdsInRange(streams: DynamoDBStreamsClient, batch: StreamBatchInfo): Promise<string[]> {
  const end = BigInt(batch.endSequenceNumber);
  let iterator = (
    await streams.send(
      new GetShardIteratorCommand({
        StreamArn: batch.streamArn,
        ShardId: batch.shardId,
        ShardIteratorType: 'AT_SEQUENCE_NUMBER',
        SequenceNumber: batch.startSequenceNumber,
      }),
    )
  ).ShardIterator;
  const postIds: string[] = [];
  while (iterator) {
    const page = await streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
    for (const record of page.Records ?? []) {
      if (BigInt(record.dynamodb?.SequenceNumber ?? '0') > end) return postIds;
      const image = record.dynamodb?.NewImage as Record<string, AttributeValue> | undefined;
      if (record.eventName === 'INSERT' && image?.trigger_webhooks?.BOOL === true && image.id?.S) postIds.push(image.id.S);
    }
    // An empty page of an open shard: the range has been read to the shard's current end.
    if ((page.Records ?? []).length === 0) break;
    iterator = page.NextShardIterator;
  }
  return postIds;
}
