import * as z from '../zod.js';
import { AppError } from '../errors.js';
import { decodeGoJsonObject, GoJsonError, goProps, goString } from '../http/go-json.js';
import { encodeGoForm } from '../http/form.js';
import type { OutboundResponse } from '../http/outbound.js';
import { deriveId } from '../ids.js';
import { callIntegration, IntegrationCallError } from '../integrations/call.js';
import type { OutgoingWebhook } from '../model.js';
import { createWebhookPost } from '../posts/webhook-post.js';
import { PostExistsError } from '../store/posts.js';
import type { DeliveryMessage } from '../queue.js';
import { MAX_VISIBILITY_SECONDS } from '../queue.js';
import { boundedUsernameLookup, decodeAttachments, goPriority, processSlackAttachments, processSlackText, SlackDecodeError } from '../slack.js';
import type { AttemptOutcome } from '../store/deliveries.js';
import type { DeliveryOutcome } from '../metrics.js';
import type { OutgoingRuntime } from './outgoing-runtime.js';

/** What the worker does with the message after an attempt. */
export type DeliveryResult =
  | { kind: 'done' }
  | { kind: 'retry'; delaySeconds: number }
  /** A failure no retry can mend: straight to the dead-letter queue, where an operator sees it. */
  | { kind: 'dead_letter' };

export interface OutgoingPayload {
  token: string;
  team_id: string;
  team_domain: string;
  channel_id: string;
  channel_name: string;
  timestamp: number;
  user_id: string;
  user_name: string;
  post_id: string;
  text: string;
  trigger_word: string;
  file_ids: string;
}

/**
 * The request body, as Mattermost sends it: JSON with the timestamp in
 * milliseconds when the hook's content type is exactly `application/json`; otherwise form fields,
 * sorted by key, with the timestamp in seconds.
 */
export function encodePayload(payload: OutgoingPayload, contentType: string): { body: string; contentType: string } {
  if (contentType === 'application/json') return { body: JSON.stringify(payload), contentType: 'application/json' };
  const fields: Record<string, string> = { ...payload, timestamp: String(Math.floor(payload.timestamp / 1000)) } as never;
  return { body: encodeGoForm(fields), contentType: 'application/x-www-form-urlencoded' };
}

const RESPONSE_KEYS = ['text', 'username', 'icon_url', 'props', 'attachments', 'type', 'response_type', 'priority'] as const;
const responseSchema = z.object({
  text: z.nullish(z.string()),
  username: goString,
  icon_url: goString,
  props: goProps,
  attachments: z.optional(z.unknown()),
  type: goString,
  response_type: goString,
  priority: goPriority,
});

/**
 * `OutgoingWebhookResponse`, decoded as Mattermost's `json.NewDecoder(resp.Body).Decode(&webhookResp)`
 * into a pointer: an empty body or `null` is no reply, what follows the first value is ignored.
 */
export function decodeOutgoingResponse(body: Buffer) {
  let reply;
  try {
    reply = decodeGoJsonObject(body.toString('utf8'), RESPONSE_KEYS, responseSchema, { trailing: 'ignore', empty: 'absent', null: 'absent' });
  } catch (error) {
    if (error instanceof GoJsonError) throw new GoJsonError(`api.unmarshal_error: ${error.message}`);
    throw error;
  }
  return reply && { ...reply, attachments: decodeAttachments(reply.attachments) };
}

function retryDelaySeconds(runtime: OutgoingRuntime, attempt: number, response?: OutboundResponse): number {
  const delays = runtime.config.outgoingRetryDelaysSeconds;
  let delay = delays[Math.min(attempt - 1, delays.length - 1)]!;
  // Longer delays get ±10% jitter so a burst of failures does not come back as a burst.
  if (delay >= 10) delay = Math.round(delay * (0.9 + Math.random() * 0.2));
  const retryAfter = response?.headers['retry-after'];
  if (typeof retryAfter === 'string') {
    const seconds = /^\d+$/.test(retryAfter.trim()) ? Number(retryAfter) : (Date.parse(retryAfter) - runtime.nowMs()) / 1000;
    if (Number.isFinite(seconds) && seconds > delay) delay = Math.ceil(seconds);
  }
  return Math.min(delay, MAX_VISIBILITY_SECONDS);
}

/**
 * A delivery whose URL was removed from its hook after the post was dispatched: the post goes to the
 * hook's URLs that the dispatch did not plan, so a changed URL loses nothing. Of the planned URLs
 * now gone, only the first one's message does this, so each new URL gets the post once; delivery
 * ids derive from (post, hook, URL), so even a repeat of this step is one delivery to receivers.
 */
async function redirectToCurrentUrls(runtime: OutgoingRuntime, message: DeliveryMessage, currentUrls: string[]): Promise<number> {
  const planned = message.planned_urls ?? [message.callback_url];
  if (planned.find((url) => !currentUrls.includes(url)) !== message.callback_url) return 0;
  const replacements = currentUrls
    .filter((url) => !planned.includes(url))
    .map((url) => ({
      ...message,
      delivery_id: deriveId('delivery', message.post_id, message.hook_id, url),
      callback_url: url,
      planned_urls: currentUrls,
    }));
  await runtime.queue.enqueue(replacements);
  return replacements.length;
}

/** The delivery log's outcomes, as the DeliveryAttempts metric names them. */
const METRIC_OUTCOMES: Record<AttemptOutcome, DeliveryOutcome> = {
  delivered: 'succeeded',
  retrying: 'retried',
  dead_lettered: 'dead_lettered',
  refused: 'dead_lettered',
  gone: 'gone',
  skipped: 'skipped',
};

interface Context {
  hook: OutgoingWebhook;
}

/** Creates the reply post once: its ids derive from the delivery, so a repeated attempt finds them taken. */
async function postReply(runtime: OutgoingRuntime, message: DeliveryMessage, context: Context, body: Buffer): Promise<{ replyIds: string[]; error: string }> {
  let reply: ReturnType<typeof decodeOutgoingResponse>;
  try {
    reply = decodeOutgoingResponse(body);
  } catch (error) {
    return { replyIds: [], error: error instanceof SlackDecodeError ? 'api.unmarshal_error: attachments' : (error as Error).message };
  }
  if (!reply || (reply.text === undefined || reply.text === null ? !reply.attachments : false)) return { replyIds: [], error: '' };
  const usernameOf = boundedUsernameLookup(async (userId: string) => (await runtime.directory.user(userId))?.username);
  // A reply in the thread of the triggering post; when that post is itself a reply, in its thread.
  const rootId = reply.response_type === 'comment' ? message.post.root_id || message.post_id : '';
  try {
    const posts = await createWebhookPost(
      runtime,
      {
        userId: context.hook.creator_id,
        channelId: message.post.channel_id,
        rootId,
        reply: {
          text: await processSlackText(reply.text ?? '', usernameOf),
          type: reply.attachments ? 'slack_attachment' : reply.type,
          props: reply.props,
          attachments: reply.attachments ? await processSlackAttachments(reply.attachments, usernameOf) : null,
        },
        how: {
          path: 'webhook',
          overrides: { username: reply.username || context.hook.username, iconUrl: reply.icon_url || context.hook.icon_url, iconEmoji: '' },
          displayName: context.hook.display_name,
          priority: reply.priority,
          origin: { kind: 'outgoing_reply', id: context.hook.id },
        },
      },
      { postIdFor: (index) => deriveId('reply', message.delivery_id, String(index)) },
    );
    runtime.metrics.postsCreated('outgoing_reply', posts.length);
    return { replyIds: posts.map((post) => post.id), error: '' };
  } catch (error) {
    if (error instanceof PostExistsError) return { replyIds: [deriveId('reply', message.delivery_id, '0')], error: 'reply already posted' };
    if (error instanceof AppError && error.statusCode < 500) return { replyIds: [], error: `${error.id}: ${error.message}` };
    throw error;
  }
}

/**
 * One attempt of one outgoing delivery: build Mattermost's payload, sign it, send it through the
 * outbound client, post the integration's answer, and record the attempt. Unlike Mattermost, a
 * failure (connection error, timeout, non-2xx) is retried with growing delays; 410 stops at once;
 * a refused address goes to the dead-letter queue at once.
 */
export async function deliver(runtime: OutgoingRuntime, message: DeliveryMessage, attempt: number): Promise<DeliveryResult> {
  const startedAt = runtime.nowMs();
  const record = (outcome: AttemptOutcome, details: { status?: number; latencyMs?: number; error?: string; replyIds?: string[] }) => {
    runtime.metrics.deliveryAttempt(METRIC_OUTCOMES[outcome], details.status ? details.latencyMs : undefined);
    return runtime.deliveries.record({
      delivery_id: message.delivery_id,
      attempt,
      attempted_at: startedAt,
      hook_id: message.hook_id,
      post_id: message.post_id,
      url: message.callback_url,
      outcome,
      status: details.status ?? 0,
      latency_ms: Math.round(details.latencyMs ?? 0),
      error: details.error ?? '',
      reply_post_ids: details.replyIds ?? [],
    });
  };

  /** A failed attempt: retried later, or, at the last attempt, dead-lettered and logged as such. */
  const failed = async (details: { status?: number; latencyMs: number; error: string }, response?: OutboundResponse): Promise<DeliveryResult> => {
    if (attempt >= runtime.config.outgoingMaxAttempts) {
      await record('dead_lettered', details);
      return { kind: 'dead_letter' };
    }
    await record('retrying', details);
    return { kind: 'retry', delaySeconds: retryDelaySeconds(runtime, attempt, response) };
  };

  // Read at every attempt, not cached: a changed token or removed URL takes effect at once (OW-12).
  const found = await runtime.entities.getOutgoingWebhookWithSecrets(message.hook_id);
  const hook = found?.hook;
  if (!found || !hook || hook.delete_at !== 0) {
    await record('skipped', { error: 'the hook no longer exists' });
    return { kind: 'done' };
  }
  if (!hook.callback_urls.includes(message.callback_url)) {
    const redirected = await redirectToCurrentUrls(runtime, message, hook.callback_urls);
    await record('skipped', { error: `this callback URL was removed from the hook; ${redirected} delivery(ies) sent to its new URLs instead` });
    return { kind: 'done' };
  }
  const { post } = message;
  const payload: OutgoingPayload = {
    token: found.secrets.token,
    team_id: post.team_id,
    team_domain: post.team_domain,
    channel_id: post.channel_id,
    channel_name: post.channel_name,
    timestamp: post.create_at,
    user_id: post.user_id,
    user_name: post.user_name,
    post_id: message.post_id,
    text: post.message,
    trigger_word: message.trigger_word,
    file_ids: '',
  };
  const { body, contentType } = encodePayload(payload, hook.content_type);

  let response: OutboundResponse;
  try {
    response = await callIntegration(runtime, {
      kind: 'outgoing_webhook',
      url: message.callback_url,
      method: 'POST',
      headers: { 'content-type': contentType },
      body,
      // The whole secrets: during a rotation window the previous secret signs too.
      signingSecret: found.secrets,
      // The same on every attempt, so that receivers can drop a repeated delivery.
      messageId: message.delivery_id,
    });
  } catch (error) {
    if (!(error instanceof IntegrationCallError)) throw error;
    if (error.failure === 'forbidden' || error.failure === 'invalid_url') {
      await record('refused', { error: error.message, latencyMs: error.latencyMs });
      return { kind: 'dead_letter' };
    }
    const status = error.response?.status;
    if (status === 410) {
      await record('gone', { status, latencyMs: error.latencyMs });
      return { kind: 'done' };
    }
    if (status !== undefined) return failed({ status, latencyMs: error.latencyMs, error: `HTTP ${status}` }, error.response);
    return failed({ error: `${error.failure}: ${error.message}`, latencyMs: error.latencyMs });
  }

  const reply = response.truncated
    ? { replyIds: [], error: `api.unmarshal_error: answer longer than ${response.body.length} bytes` }
    : await postReply(runtime, message, { hook }, response.body);
  await record('delivered', { status: response.status, latencyMs: response.latencyMs, replyIds: reply.replyIds, error: reply.error });
  return { kind: 'done' };
}
