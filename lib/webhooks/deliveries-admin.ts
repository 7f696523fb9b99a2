import { DeleteMessageBatchCommand, ReceiveMessageCommand, SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';

/**
 * Moves what sits in the dead-letter queue back to the delivery queue, where the worker tries it
 * afresh. Delivery ids do not change, so a delivery that had in fact succeeded before failing still
 * posts its reply once, and receivers see the same `webhook-id`.
 */
export async function redriveDeadLetters(
  sqs: SQSClient,
  options: { deadLetterQueueUrl: string; queueUrl: string; max?: number },
): Promise<number> {
  let moved = 0;
  const max = options.max ?? Number.POSITIVE_INFINITY;
  while (moved < max) {
    const received = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: options.deadLetterQueueUrl,
        MaxNumberOfMessages: Math.min(10, max - moved),
        WaitTimeSeconds: 0,
        VisibilityTimeout: 60,
      }),
    );
    const messages = received.Messages ?? [];
    if (messages.length === 0) break;
    const sent = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: options.queueUrl,
        Entries: messages.map((message, index) => ({ Id: String(index), MessageBody: message.Body ?? '' })),
      }),
    );
    const failed = new Set((sent.Failed ?? []).map((failure) => failure.Id));
    const done = messages.filter((_message, index) => !failed.has(String(index)));
    if (done.length > 0) {
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: options.deadLetterQueueUrl,
          Entries: done.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle! })),
        }),
      );
    }
    moved += done.length;
    if (failed.size > 0) throw new Error(`SQS refused ${failed.size} messages; they stay in the dead-letter queue`);
  }
  return moved;
}
