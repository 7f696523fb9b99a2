import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record,
} from '@aws-sdk/client-dynamodb-streams';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { randomUUID } from 'node:crypto';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from './stack.js';

/**
 * Local stand-ins for Lambda's event source mappings: a DynamoDB stream poller and an SQS poller
 * that invoke the same handlers as in AWS, with the same partial-failure contracts. The stock
 * serverless-offline-sqs plugin long-polls and takes 8-10 s per message against the emulator
 * (which always waits the full wait time); these poll every `intervalMs` without long polling, so a message is handled
 * within a fraction of a second.
 */
export interface EventSource {
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `round` again and again until stopped, as a mapping polls: a round that throws is reported
 * to `onError` and followed by a pause of `intervalMs`. `stop` waits for the round under way, then
 * `release`s the clients.
 */
function runUntilStopped(options: { intervalMs?: number; onError?: (error: unknown) => void }, round: () => Promise<void>, release: () => void): EventSource {
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        await round();
      } catch (error) {
        options.onError?.(error);
        await sleep(options.intervalMs ?? 100);
      }
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      release();
    },
  };
}

export function startQueueSource(options: {
  sqsEndpoint: string;
  queueUrl: string;
  handler: (event: SQSEvent) => Promise<SQSBatchResponse>;
  intervalMs?: number;
  onError?: (error: unknown) => void;
}): EventSource {
  const sqs = new SQSClient({ endpoint: options.sqsEndpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  const queueArn = `arn:aws:sqs:${LOCAL_REGION}:000000000000:${options.queueUrl.split('/').pop()}`;
  // The emulator counts a ChangeMessageVisibility as one more receive (real SQS does not), so its
  // ApproximateReceiveCount runs ahead; this poller counts receives itself, as SQS would.
  const receives = new Map<string, number>();
  return runUntilStopped(
    options,
    async () => {
      const received = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: options.queueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 0,
          AttributeNames: ['All'],
        }),
      );
      const messages = received.Messages ?? [];
      if (messages.length === 0) {
        await sleep(options.intervalMs ?? 100);
        return;
      }
      for (const message of messages) receives.set(message.MessageId!, (receives.get(message.MessageId!) ?? 0) + 1);
      const event: SQSEvent = {
        Records: messages.map((message) => ({
          messageId: message.MessageId!,
          receiptHandle: message.ReceiptHandle!,
          body: message.Body ?? '',
          attributes: {
            ApproximateReceiveCount: String(receives.get(message.MessageId!)),
            SentTimestamp: message.Attributes?.SentTimestamp ?? String(Date.now()),
            SenderId: 'local',
            ApproximateFirstReceiveTimestamp: message.Attributes?.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
          },
          messageAttributes: {},
          md5OfBody: message.MD5OfBody ?? '',
          eventSource: 'aws:sqs',
          eventSourceARN: queueArn,
          awsRegion: LOCAL_REGION,
        })),
      };
      let failed: Set<string>;
      try {
        const response = await options.handler(event);
        failed = new Set(response.batchItemFailures.map((failure) => failure.itemIdentifier));
      } catch (error) {
        // As in Lambda: a failed invocation leaves the whole batch to come back after its visibility timeout.
        options.onError?.(error);
        return;
      }
      const done = messages.filter((message) => !failed.has(message.MessageId!));
      for (const message of done) receives.delete(message.MessageId!);
      if (done.length > 0) {
        await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: options.queueUrl,
            Entries: done.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle! })),
          }),
        );
      }
    },
    () => sqs.destroy(),
  );
}

/**
 * Reads a table's stream from its start and invokes the handler with batches of records; a
 * reported failure makes it retry from that record, as Lambda does with ReportBatchItemFailures.
 */
export async function startStreamSource(options: {
  dynamoEndpoint: string;
  tableName: string;
  handler: (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse>;
  intervalMs?: number;
  retryDelayMs?: number;
  onError?: (error: unknown) => void;
  /** Where to remember the position per shard, so a restart resumes instead of starting over. */
  checkpointFile?: string;
  /**
   * The event source mapping's MaximumRecordAgeInSeconds and on-failure destination: a failing
   * record older than this is discarded, and Lambda's metadata record of it goes to the queue.
   */
  maximumRecordAgeSeconds?: number;
  onFailure?: { sqsEndpoint: string; queueUrl: string };
  /**
   * The mapping's starting position for the shards open when it starts (later shards are read from
   * their start). LATEST suits a consumer of what happens from now on, such as live events.
   */
  startingPosition?: 'TRIM_HORIZON' | 'LATEST';
}): Promise<EventSource> {
  const dynamo = new DynamoDBClient({ endpoint: options.dynamoEndpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  const streams = new DynamoDBStreamsClient({ endpoint: options.dynamoEndpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  const table = await dynamo.send(new DescribeTableCommand({ TableName: options.tableName }));
  const streamArn = table.Table?.LatestStreamArn;
  if (!streamArn) throw new Error(`table ${options.tableName} has no stream`);
  const iterators = new Map<string, string | undefined>();
  const pending = new Map<string, _Record[]>();
  /** The last sequence number handled per shard, to resume after a lost iterator without repeating. */
  const handledUpTo = new Map<string, string>(
    options.checkpointFile && existsSync(options.checkpointFile)
      ? Object.entries(JSON.parse(readFileSync(options.checkpointFile, 'utf8')) as Record<string, string>)
      : [],
  );
  const saveCheckpoint = () => {
    if (options.checkpointFile) writeFileSync(options.checkpointFile, JSON.stringify(Object.fromEntries(handledUpTo)));
  };
  const failureSqs = options.onFailure
    ? new SQSClient({ endpoint: options.onFailure.sqsEndpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS })
    : undefined;

  /** Lambda's on-failure record for a discarded record: where it was in the stream, not what it held. */
  const discard = async (shardId: string, record: _Record) => {
    const sequenceNumber = record.dynamodb?.SequenceNumber ?? '';
    const arrival = record.dynamodb?.ApproximateCreationDateTime?.toISOString();
    await failureSqs!.send(
      new SendMessageCommand({
        QueueUrl: options.onFailure!.queueUrl,
        MessageBody: JSON.stringify({
          requestContext: { requestId: randomUUID(), condition: 'RecordAgeExceeded', approximateInvokeCount: 1 },
          version: '1.0',
          timestamp: new Date().toISOString(),
          DDBStreamBatchInfo: {
            shardId,
            startSequenceNumber: sequenceNumber,
            endSequenceNumber: sequenceNumber,
            approximateArrivalOfFirstRecord: arrival,
            approximateArrivalOfLastRecord: arrival,
            batchSize: 1,
            streamArn,
          },
        }),
      }),
    );
  };
  const tooOld = (record: _Record | undefined) =>
    options.maximumRecordAgeSeconds !== undefined &&
    record?.dynamodb?.ApproximateCreationDateTime !== undefined &&
    Date.now() - record.dynamodb.ApproximateCreationDateTime.getTime() > options.maximumRecordAgeSeconds * 1000;

  let firstRefresh = true;
  const refreshShards = async () => {
    const description = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }));
    for (const shard of description.StreamDescription?.Shards ?? []) {
      if (iterators.has(shard.ShardId!)) continue;
      const after = handledUpTo.get(shard.ShardId!);
      if (!after && firstRefresh && options.startingPosition === 'LATEST' && shard.SequenceNumberRange?.EndingSequenceNumber) {
        // A closed shard holds only the past.
        iterators.set(shard.ShardId!, undefined);
        pending.set(shard.ShardId!, []);
        continue;
      }
      const iteratorFrom = (position: { ShardIteratorType: 'TRIM_HORIZON' } | { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER'; SequenceNumber: string }) =>
        streams.send(new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shard.ShardId!, ...position }));
      const iterator = after
        ? await iteratorFrom({ ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: after }).catch(() =>
            iteratorFrom({ ShardIteratorType: 'TRIM_HORIZON' }),
          )
        : firstRefresh && options.startingPosition === 'LATEST'
          ? await streams.send(new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shard.ShardId!, ShardIteratorType: 'LATEST' }))
          : await iteratorFrom({ ShardIteratorType: 'TRIM_HORIZON' });
      iterators.set(shard.ShardId!, iterator.ShardIterator);
      if (!pending.has(shard.ShardId!)) pending.set(shard.ShardId!, []);
    }
    firstRefresh = false;
  };

  const invoke = async (records: _Record[]): Promise<number> => {
    const event = {
      Records: records.map((record) => ({
        eventID: record.eventID,
        eventName: record.eventName,
        eventSource: 'aws:dynamodb',
        eventSourceARN: streamArn,
        awsRegion: LOCAL_REGION,
        // Lambda sends ApproximateCreationDateTime as epoch seconds; the SDK parsed it into a Date.
        dynamodb: {
          ...record.dynamodb,
          ApproximateCreationDateTime:
            record.dynamodb?.ApproximateCreationDateTime instanceof Date
              ? Math.floor(record.dynamodb.ApproximateCreationDateTime.getTime() / 1000)
              : record.dynamodb?.ApproximateCreationDateTime,
        },
      })),
    } as unknown as DynamoDBStreamEvent;
    try {
      const response = await options.handler(event);
      const failed = response.batchItemFailures[0]?.itemIdentifier;
      if (failed === undefined) return records.length;
      const index = records.findIndex((record) => record.dynamodb?.SequenceNumber === failed);
      return index < 0 ? 0 : index;
    } catch (error) {
      options.onError?.(error);
      return 0;
    }
  };

  let lastRefreshMs = 0;
  return runUntilStopped(
    options,
    async () => {
      if (Date.now() - lastRefreshMs > 2_000) {
        await refreshShards();
        lastRefreshMs = Date.now();
      }
      let busy = false;
      for (const [shardId, iterator] of iterators) {
        let batch = pending.get(shardId) ?? [];
        if (batch.length === 0 && iterator) {
          try {
            const result = await streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 100 }));
            iterators.set(shardId, result.NextShardIterator);
            batch = result.Records ?? [];
          } catch (error) {
            // DynamoDB Local answers TrimmedDataAccess for a TRIM_HORIZON iterator of a shard that
            // had no record yet; iterators also expire. Either way: take a fresh iterator.
            const name = (error as Error).name;
            if (name !== 'TrimmedDataAccessException' && name !== 'ExpiredIteratorException') throw error;
            iterators.delete(shardId);
            lastRefreshMs = 0;
            continue;
          }
        }
        if (batch.length === 0) continue;
        busy = true;
        let handled = await invoke(batch);
        if (handled < batch.length && failureSqs && tooOld(batch[handled])) {
          await discard(shardId, batch[handled]!);
          handled++;
        }
        const lastHandled = batch[handled - 1]?.dynamodb?.SequenceNumber;
        if (lastHandled) {
          handledUpTo.set(shardId, lastHandled);
          saveCheckpoint();
        }
        pending.set(shardId, batch.slice(handled));
        if (handled < batch.length) await sleep(options.retryDelayMs ?? 500);
      }
      if (!busy) await sleep(options.intervalMs ?? 100);
    },
    () => {
      dynamo.destroy();
      streams.destroy();
      failureSqs?.destroy();
    },
  );
}
