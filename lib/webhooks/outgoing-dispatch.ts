import { MAX_LOGGED_DETAIL_BYTES, truncateUtf8 } from '../errors.js';
import { deriveId } from '../ids.js';
import type { Channel, OutgoingWebhook, Post } from '../model.js';
import type { DeliveryMessage } from '../queue.js';
import type { Runtime } from '../runtime.js';
import { unreadableReason } from '../store/stored-json.js';
import { matchOutgoingWebhooks } from './outgoing-match.js';
import type { OutgoingRuntime } from './outgoing-runtime.js';

/**
 * The deliveries a stored post calls for: one per (matching hook, callback URL), in public channels
 * only, none when outgoing webhooks are switched off. The delivery id is derived from post, hook and
 * URL, so a post dispatched twice (a retried stream batch) gives the same ids.
 */
export async function planDeliveries(runtime: Runtime, post: Post): Promise<DeliveryMessage[]> {
  if (!runtime.config.enableOutgoingWebhooks) return [];
  // A post whose stored props could not be read is not dispatched from what is left of it: it
  // fails, so the stream parks it and a replay delivers it once an operator has mended the item.
  const unreadable = unreadableReason(post);
  if (unreadable !== undefined) throw new Error(`the stored post cannot be read: ${unreadable}`);
  const channel = await runtime.directory.channel(post.channel_id);
  if (!channel || channel.type !== 'O' || channel.delete_at !== 0) return [];
  // Read at every dispatch, not cached: a changed trigger or callback URL applies to the next post.
  // (One query per post that may trigger, off the poster's path.)
  const hooks = await runtime.entities.listOutgoingWebhooksOfTeam(channel.team_id);
  const matches = matchOutgoingWebhooks(post, hooks);
  if (matches.length === 0) return [];
  const snapshot = await postSnapshot(runtime, post, channel);
  return matches.flatMap(({ hook, triggerWord }) =>
    hook.callback_urls.map((url) => deliveryMessage(deriveId('delivery', post.id, hook.id, url), post.id, hook, url, triggerWord, snapshot)),
  );
}

/** What a delivery says about its post, as it was when posted (the worker reads no post). */
export async function postSnapshot(runtime: Runtime, post: Post, channel: Channel): Promise<DeliveryMessage['post']> {
  const [team, user] = await Promise.all([runtime.directory.team(channel.team_id), runtime.directory.user(post.user_id)]);
  return {
    create_at: post.create_at,
    root_id: post.root_id,
    message: post.message,
    user_id: post.user_id,
    user_name: user?.username ?? '',
    channel_id: channel.id,
    channel_name: channel.name,
    team_id: channel.team_id,
    team_domain: team?.name ?? '',
  };
}

/** One delivery of a post to one callback URL of a hook. */
export function deliveryMessage(
  deliveryId: string,
  postId: string,
  hook: OutgoingWebhook,
  url: string,
  triggerWord: string,
  snapshot: DeliveryMessage['post'],
): DeliveryMessage {
  return {
    version: 1,
    delivery_id: deliveryId,
    post_id: postId,
    hook_id: hook.id,
    callback_url: url,
    trigger_word: triggerWord,
    planned_urls: hook.callback_urls,
    post: snapshot,
  };
}

/** What became of one post on the stream: dispatched, parked for a later replay, or to be retried. */
export type DispatchOutcome = 'dispatched' | 'parked' | 'retry';


/**
 * Dispatches one post from the stream. A failure asks the stream to retry until the record is
 * `dispatchParkAfterMs` old; then the post is parked in the failure queue (it stays in the posts
 * table, so a replay needs only its id) and the shard moves on. Deliveries keep their derived ids,
 * so a replay of a post that was in fact partly dispatched sends no duplicate reply.
 */
export async function dispatchPost(
  runtime: OutgoingRuntime,
  decoded: { postId: string; post?: Post; error?: unknown },
  record: { sequenceNumber: string; createdAtMs: number | undefined },
): Promise<DispatchOutcome> {
  let failure: unknown = decoded.error;
  if (decoded.post) {
    try {
      const deliveries = await planDeliveries(runtime, decoded.post);
      await runtime.queue.enqueue(deliveries);
      if (deliveries.length > 0) runtime.logger.debug('deliveries enqueued', { post_id: decoded.postId, deliveries: deliveries.length });
      return 'dispatched';
    } catch (error) {
      failure = error;
    }
  }
  // The error text reaches the failure queue and the logs: its first kilobyte says what went wrong.
  const error = truncateUtf8(String(failure instanceof Error ? failure.message : failure), MAX_LOGGED_DETAIL_BYTES);
  const ageMs = record.createdAtMs === undefined ? 0 : runtime.nowMs() - record.createdAtMs;
  const { dispatchFailureQueueUrl, dispatchParkAfterMs } = runtime.config;
  if (dispatchFailureQueueUrl && decoded.postId && ageMs >= dispatchParkAfterMs) {
    try {
      await runtime.queue.parkDispatch(dispatchFailureQueueUrl, {
        version: 1,
        kind: 'parked_post',
        post_id: decoded.postId,
        channel_id: decoded.post?.channel_id ?? '',
        sequence_number: record.sequenceNumber,
        parked_at: runtime.nowMs(),
        error,
      });
      runtime.logger.warn('dispatch failed; post parked for replay', { post_id: decoded.postId, sequence_number: record.sequenceNumber, error });
      return 'parked';
    } catch (parkError) {
      runtime.logger.error('dispatch failed and the post could not be parked', { post_id: decoded.postId, error: parkError as Error });
      return 'retry';
    }
  }
  runtime.logger.error('dispatch failed; the stream retries it', { post_id: decoded.postId, sequence_number: record.sequenceNumber, age_ms: ageMs, error });
  return 'retry';
}
