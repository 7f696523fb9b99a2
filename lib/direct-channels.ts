/**
 * The direct channel of two users, created on first use, for every path that may create one:
 * `POST /api/v4/channels/direct` (lib/rest/channels.ts) and an incoming webhook posting to
 * `@username` (lib/webhooks/incoming.ts). As in Mattermost, the call that creates the channel sends
 * `direct_added` to it (both members' open connections) and an existing channel sends nothing. The
 * event is sent before the call returns, so it precedes every post of the channel on each
 * connection: a post can only be written once its channel exists, and its `posted` comes later
 * from the posts stream.
 */
import { directAddedEvent } from './live/events.js';
import { publishToChannel } from './live/live.js';
import type { Channel } from './model.js';
import type { Runtime } from './runtime.js';

/**
 * Gets or creates the direct channel of `creatorId` and `teammateId` (Mattermost's order: the
 * event's `creator_id` and `teammate_id`). `cached` reads it through the Directory's cache, as the
 * webhook path does; REST reads the store.
 */
export async function getOrCreateDirectChannel(runtime: Runtime, creatorId: string, teammateId: string, options: { cached?: boolean } = {}): Promise<Channel> {
  const load = async () => {
    const { channel, created } = await runtime.entities.openDirectChannel(creatorId, teammateId, runtime.nowMs());
    if (created) await announce(runtime, channel, creatorId, teammateId);
    return channel;
  };
  return options.cached ? runtime.directory.directChannel(creatorId, teammateId, load) : load();
}

/** Never throws: the channel exists and the request goes on; a client that missed the event sees the channel on its next read. */
async function announce(runtime: Runtime, channel: Channel, creatorId: string, teammateId: string): Promise<void> {
  try {
    await publishToChannel(runtime, channel.id, directAddedEvent(channel.id, creatorId, teammateId), undefined, channel);
  } catch (error) {
    runtime.logger.warn('live event not published', { channel_id: channel.id, event: 'direct_added', error: String(error) });
  }
}
