import { AppError } from '../errors.js';
import { isValidId } from '../ids.js';
import { MAX_NAME_LENGTH } from '../limits.js';
import type { Channel, IncomingWebhook, Post } from '../model.js';
import { createWebhookPost } from '../posts/webhook-post.js';
import type { Runtime } from '../runtime.js';
import { boundedUsernameLookup, processSlackAttachments, processSlackText } from '../slack.js';
import type { IncomingWebhookRequest } from './incoming-request.js';
import { directChannelName } from '../store/keys.js';
import { getOrCreateDirectChannel } from '../direct-channels.js';
import type { RateLimitDecision } from '../rate-limit.js';
import { invalidRootId } from '../posts/rules.js';

const disabled = () =>
  new AppError('web.incoming_webhook.disabled.app_error', 'Incoming webhooks have been disabled by the system admin.', 501);
const noText = () => new AppError('web.incoming_webhook.text.app_error', 'No text specified.', 400);
const invalidHook = () => new AppError('web.incoming_webhook.invalid.app_error', 'Invalid webhook.', 400);
const unknownUser = (username: string) =>
  new AppError('web.incoming_webhook.user.app_error', `Couldn't find the user ${username}`, 400);
const unknownChannel = () => new AppError('web.incoming_webhook.channel.app_error', "Couldn't find the channel.", 404);
const missingHookChannel = () =>
  new AppError('app.channel.get.existing.app_error', 'Unable to find the existing channel.', 404);
const channelLocked = (channelId: string) =>
  new AppError(
    'web.incoming_webhook.channel_locked.app_error',
    `This webhook is not permitted to post to the requested channel ${channelId}`,
    403,
  );
const creatorMissing = () => new AppError('web.incoming_webhook.user.app_error', "Couldn't find the user.", 403);
const noPermission = () =>
  new AppError('web.incoming_webhook.permissions.app_error', 'Inappropriate channel permissions.', 403);

/**
 * The channel a request names, resolved within the hook's team: `@username` is the direct channel
 * between the hook's creator and that user (created on first use), `#name` or `name` a channel by
 * name, and nothing the hook's own channel. Archived channels are not found by name.
 */
async function resolveChannel(runtime: Runtime, hook: IncomingWebhook, requested: string, rootId: string): Promise<Channel> {
  const { directory } = runtime;
  if (requested === '') {
    const channel = await directory.channel(hook.channel_id);
    if (!channel) throw missingHookChannel();
    // Archiving soft-deletes a channel's hooks; a hook whose channel is archived is no hook.
    if (channel.delete_at !== 0) throw invalidHook();
    return channel;
  }
  if (requested.startsWith('@')) {
    const username = requested.slice(1);
    // Longer than any username: unknown, without a lookup (whose key could exceed DynamoDB's limit).
    const user = username.length <= MAX_NAME_LENGTH ? await directory.userByUsername(username) : undefined;
    if (!user || user.delete_at !== 0) throw unknownUser(username);
    if (hook.channel_locked || rootId !== '') {
      const existing = await runtime.entities.getChannelByName('', directChannelName(hook.user_id, user.id));
      // A locked hook may post only to its own channel, never a direct one. Mattermost creates the
      // direct channel before it checks the lock; refusing first leaves nothing half-done behind.
      if (hook.channel_locked && existing?.id !== hook.channel_id) throw channelLocked(existing?.id ?? '');
      // Nor can a thread live in a direct channel that does not exist yet.
      if (!existing) throw invalidRootId();
    }
    return getOrCreateDirectChannel(runtime, hook.user_id, user.id, { cached: true });
  }
  const name = requested.startsWith('#') ? requested.slice(1) : requested;
  const channel = name.length <= MAX_NAME_LENGTH ? await directory.channelByName(hook.team_id, name) : undefined;
  if (!channel || channel.delete_at !== 0) throw unknownChannel();
  return channel;
}

/**
 * The hook's rate limit (lib/rate-limit.ts), taken before the request is handled; undefined when the
 * limit is off or the hook does not exist (no bucket for ids that are no credential).
 */
export async function admitIncomingWebhook(runtime: Runtime, hookId: string): Promise<RateLimitDecision | undefined> {
  if (!runtime.hookRateLimiter || !isValidId(hookId)) return undefined;
  const hook = await runtime.directory.incomingWebhook(hookId);
  if (!hook || hook.delete_at !== 0) return undefined;
  return runtime.hookRateLimiter.take(hookId);
}

/**
 * Mattermost's `HandleIncomingWebhook`, step for step: the feature switch, the
 * empty-message check before the lookup, the hook, Slack text processing, channel resolution,
 * the lock, the creator's rights, overrides, then the post (split when long).
 */
export async function handleIncomingWebhook(
  runtime: Runtime,
  hookId: string,
  request: IncomingWebhookRequest,
): Promise<Post[]> {
  const { config, directory } = runtime;
  if (!config.enableIncomingWebhooks) throw disabled();
  if (request.text === '' && request.attachments === null) throw noText();

  // Only a Mattermost id can name a hook; anything else (even past DynamoDB's key size) is unknown.
  const hook = isValidId(hookId) ? await directory.incomingWebhook(hookId) : undefined;
  if (!hook || hook.delete_at !== 0) throw invalidHook();

  const usernameOf = boundedUsernameLookup(async (userId: string) => (await directory.user(userId))?.username);
  const text = await processSlackText(request.text, usernameOf);
  const attachments = request.attachments ? await processSlackAttachments(request.attachments, usernameOf) : null;
  const type = attachments ? 'slack_attachment' : request.type;

  const channel = await resolveChannel(runtime, hook, request.channel, request.root_id);
  if (hook.channel_locked && hook.channel_id !== channel.id) throw channelLocked(channel.id);

  const creator = await directory.user(hook.user_id);
  if (!creator || creator.delete_at !== 0) throw creatorMissing();
  if (channel.type !== 'O' && !(await directory.isChannelMember(channel.id, creator.id))) throw noPermission();

  const posts = await createWebhookPost(runtime, {
    userId: hook.user_id,
    channelId: channel.id,
    rootId: request.root_id,
    reply: { text, type, props: request.props, attachments },
    how: {
      path: 'webhook',
      overrides: { username: request.username || hook.username, iconUrl: request.icon_url || hook.icon_url, iconEmoji: request.icon_emoji },
      displayName: hook.display_name,
      priority: request.priority,
      origin: { kind: 'incoming_webhook', id: hook.id },
    },
  });
  runtime.metrics.postsCreated('incoming_webhook', posts.length);
  return posts;
}
