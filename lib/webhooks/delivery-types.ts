/**
 * One attempt of an outgoing delivery as the delivery log stores it and the API answers it
 * (`GET /api/v4/hooks/outgoing/{hook_id}/deliveries`). No imports: the web app's console reads the
 * same declaration.
 */

/** What happened to one attempt of an outgoing delivery. */
export type AttemptOutcome =
  | 'delivered' // 2xx; the reply (if any) was posted or was not a post
  | 'retrying' // failed; SQS will bring it back
  | 'dead_lettered' // failed at the last attempt: moved to the dead-letter queue
  | 'gone' // 410: the integration asked to stop
  | 'refused' // forbidden or invalid address: dead-lettered at once
  | 'skipped'; // the hook or URL no longer exists

export interface DeliveryAttempt {
  delivery_id: string;
  attempt: number;
  attempted_at: number;
  hook_id: string;
  post_id: string;
  url: string;
  outcome: AttemptOutcome;
  status: number;
  latency_ms: number;
  error: string;
  reply_post_ids: string[];
}
