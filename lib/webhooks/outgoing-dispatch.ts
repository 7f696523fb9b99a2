import { deriveId } from '../ids.js';
import type { Post } from '../model.js';
import type { DeliveryMessage } from '../queue.js';
import type { Runtime } from '../runtime.js';
import { matchOutgoingWebhooks } from './outgoing-match.js';

/**
 * The deliveries a stored post calls for: one per (matching hook, callback URL), in public channels
 * only, none when outgoing webhooks are switched off. The delivery id is derived from post, hook and
 * URL, so a post dispatched twice (a retried stream batch) gives the same ids.
 */
export async function planDeliveries(runtime: Runtime, post: Post): Promise<DeliveryMessage[]> {
  if (!runtime.config.enableOutgoingWebhooks) return [];
  const channel = await runtime.directory.channel(post.channel_id);
  if (!channel || channel.type !== 'O' || channel.delete_at !== 0) return [];
  const hooks = await runtime.directory.outgoingWebhooksOfTeam(channel.team_id);
  const matches = matchOutgoingWebhooks(post, hooks);
  if (matches.length === 0) return [];
  const [team, user] = await Promise.all([runtime.directory.team(channel.team_id), runtime.directory.user(post.user_id)]);
  const snapshot = {
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
  return matches.flatMap(({ hook, triggerWord }) =>
    hook.callback_urls.map((url) => ({
      version: 1 as const,
      delivery_id: deriveId('delivery', post.id, hook.id, url),
      post_id: post.id,
      hook_id: hook.id,
      callback_url: url,
      trigger_word: triggerWord,
      post: snapshot,
    })),
  );
}
