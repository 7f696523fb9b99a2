import {
  ChangeMessageVisibilityCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import * as z from './zod.js';
import { awsClientTimeouts, localEndpoint } from './aws.js';

/** One outgoing delivery: one message per (post, hook, callback URL). */
export const deliveryMessageSchema = z.object({
  version: z.literal(1),
  delivery_id: z.string().check(z.minLength(1)),
  post_id: z.string().check(z.minLength(1)),
  hook_id: z.string().check(z.minLength(1)),
  callback_url: z.string().check(z.minLength(1)),
  trigger_word: z.string(),
  /** The hook's callback URLs when the post was dispatched; older messages lack it. */
  planned_urls: z.optional(z.array(z.string())),
  /**
   * What the payload says about the post, as it was when posted: the worker needs no read of the
   * post, channel, team or user, only of the hook (whose token and URLs must be current).
   */
  post: z.object({
    create_at: z.number(),
    root_id: z.string(),
    message: z.string(),
    user_id: z.string(),
    user_name: z.string(),
    channel_id: z.string(),
    channel_name: z.string(),
    team_id: z.string(),
    team_domain: z.string(),
  }),
});
export type DeliveryMessage = z.infer<typeof deliveryMessageSchema>;

/**
 * A post the dispatcher could not turn into deliveries, parked so the stream can move on. The post
 * itself stays in the posts table, so this is all a replay needs (npm run deliveries -- replay-dispatch).
 */
export const parkedDispatchSchema = z.object({
  version: z.literal(1),
  kind: z.literal('parked_post'),
  post_id: z.string().check(z.minLength(1)),
  channel_id: z.string(),
  sequence_number: z.string(),
  parked_at: z.number(),
  error: z.string(),
});
export type ParkedDispatch = z.infer<typeof parkedDispatchSchema>;

/** SQS's longest visibility timeout: 12 hours. */
export const MAX_VISIBILITY_SECONDS = 43_200;

export function sqsClient(options: { endpoint?: string | undefined; region: string }): SQSClient {
  return new SQSClient({ region: options.region, ...localEndpoint(options.endpoint), ...awsClientTimeouts });
}

/** The outgoing-delivery queue and its dead-letter queue. */
export class DeliveryQueue {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
    private readonly deadLetterQueueUrl: string,
  ) {}

  /** Sends the messages, ten per request; throws unless every one was accepted. */
  async enqueue(messages: DeliveryMessage[]): Promise<void> {
    for (let start = 0; start < messages.length; start += 10) {
      const chunk = messages.slice(start, start + 10);
      const result = await this.sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: this.queueUrl,
          Entries: chunk.map((message, index) => ({ Id: String(index), MessageBody: JSON.stringify(message) })),
        }),
      );
      if (result.Failed && result.Failed.length > 0) {
        throw new Error(`SQS refused ${result.Failed.length} delivery messages: ${result.Failed[0]?.Message ?? ''}`);
      }
    }
  }

  /** Puts a message straight into the dead-letter queue (a failure no retry can mend). */
  async deadLetter(body: string): Promise<void> {
    await this.sqs.send(new SendMessageCommand({ QueueUrl: this.deadLetterQueueUrl, MessageBody: body }));
  }

  /** Parks a post the dispatcher cannot handle now in the posts stream's failure queue. */
  async parkDispatch(failureQueueUrl: string, parked: ParkedDispatch): Promise<void> {
    await this.sqs.send(new SendMessageCommand({ QueueUrl: failureQueueUrl, MessageBody: JSON.stringify(parked) }));
  }

  /** Hides a received message for `seconds`: the delay before SQS offers it again. */
  async delay(receiptHandle: string, seconds: number): Promise<void> {
    await this.sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: this.queueUrl,
        ReceiptHandle: receiptHandle,
        // Never 0: besides meaning "now", the local emulator moves such a message to the DLQ at once.
        VisibilityTimeout: Math.min(Math.max(1, Math.round(seconds)), MAX_VISIBILITY_SECONDS),
      }),
    );
  }
}
