/**
 * An outgoing hook's delivery log and redelivery, for those who may manage the hook (Hookline's
 * extension of Mattermost's API; the web app's integrations console shows it). The log is the
 * attempts the worker records (lib/store/deliveries.ts), newest first. A redelivery sends the post
 * again to the callback URL of the delivery chosen, as a new delivery with its own id and attempts,
 * through the same queue, retries and log as any delivery.
 */
import { AppError } from '../errors.js';
import { deriveId, isValidId } from '../ids.js';
import { audited } from '../integrations/hook-common.js';
import { manageableOutgoingHook } from '../integrations/outgoing-hooks.js';
import type { Caller } from '../permissions.js';
import { MAX_LIST_OFFSET, type Paging } from '../rest/paging.js';
import type { DeliveryAttempt } from '../store/deliveries.js';
import type { OutgoingWebhook } from '../model.js';
import { deliveryMessage, postSnapshot } from './outgoing-dispatch.js';
import { matchOutgoingWebhooks } from './outgoing-match.js';
import type { OutgoingRuntime } from './outgoing-runtime.js';

const deliveryNotFound = () => new AppError('api.outgoing_webhook.delivery.not_found.app_error', 'Unable to find the delivery.', 404);

/**
 * `GET /api/v4/hooks/outgoing/{hook_id}/deliveries`: one page of the hook's attempts, newest
 * first, for whoever may manage the hook; a page past MAX_LIST_OFFSET attempts is empty.
 */
export async function deliveryLog(runtime: OutgoingRuntime, caller: Caller, hookId: string, paging: Paging): Promise<DeliveryAttempt[]> {
  const hook = await manageableOutgoingHook(runtime, caller, hookId);
  const start = paging.page * paging.perPage;
  if (start > MAX_LIST_OFFSET || paging.perPage === 0) return [];
  const attempts = await runtime.deliveries.ofHook(hook.id, { limit: start + paging.perPage });
  return attempts.slice(start);
}

/**
 * `POST /api/v4/hooks/outgoing/{hook_id}/deliveries/{delivery_id}/redeliver`: sends the post of
 * that delivery of this hook again, to the same callback URL, which the hook must still have.
 * Answers the new delivery's id. Audited, as a change made through the hook.
 */
export async function redeliver(runtime: OutgoingRuntime, caller: Caller, hookId: string, deliveryId: string): Promise<{ delivery_id: string }> {
  const hook = await manageableOutgoingHook(runtime, caller, hookId);
  if (!isValidId(deliveryId)) throw new AppError('api.context.invalid_url_param.app_error', 'Invalid or missing delivery_id parameter in request URL.', 400);
  return audited(runtime, caller, 'redeliverOutgoingHook', hook.id, () => enqueueRedelivery(runtime, hook, deliveryId), (result) => ({ delivery_id: result.delivery_id, of: deliveryId }));
}

async function enqueueRedelivery(runtime: OutgoingRuntime, hook: OutgoingWebhook, deliveryId: string): Promise<{ delivery_id: string }> {
  const [attempt] = await runtime.deliveries.ofDelivery(deliveryId);
  if (!attempt || attempt.hook_id !== hook.id) throw deliveryNotFound();
  if (!hook.callback_urls.includes(attempt.url)) {
    throw new AppError('api.outgoing_webhook.redeliver.url_gone.app_error', 'The hook no longer has the callback URL of this delivery.', 400);
  }
  const post = await runtime.posts.getPost(attempt.post_id);
  const channel = post ? await runtime.directory.channel(post.channel_id) : undefined;
  if (!post || post.delete_at !== 0 || !channel) {
    throw new AppError('api.outgoing_webhook.redeliver.post_gone.app_error', 'The post of this delivery no longer exists.', 400);
  }
  const triggerWord = matchOutgoingWebhooks(post, [hook])[0]?.triggerWord ?? '';
  const newId = deriveId('redelivery', deliveryId, String(runtime.nowMs()));
  await runtime.queue.enqueue([deliveryMessage(newId, post.id, hook, attempt.url, triggerWord, await postSnapshot(runtime, post, channel))]);
  return { delivery_id: newId };
}
