/**
 * Live events: what pushes an event to connected clients. `publishToUser` (ephemeral answers, dialogs)
 * and `publishToChannel` (the posts stream's fan-out) find the connections, take each connection's
 * next `seq` atomically and send through the Management API, a bounded number at a time; a connection
 * found gone (410) is forgotten. Delivery is at most once: a failed send is logged, not retried, and
 * leaves a gap in that connection's numbering, which the client detects on its next event and answers
 * by reconnecting and resyncing over REST, as it does with Mattermost.
 */
import type { Runtime } from '../runtime.js';
import { documentClient } from '../store/dynamo.js';
import { ConnectionStore, type ConnectionTarget } from '../store/connections.js';
import { receivesEventsOf } from '../posts/visibility.js';
import type { Channel, Post } from '../model.js';
import { directChannelMemberIds } from '../store/keys.js';
import { ephemeralEvent, serializeEvent, withSeq, type LiveEvent } from './events.js';
import { managementApiSender, type ConnectionSender } from './sender.js';

export interface Live {
  connections: ConnectionStore;
  sender: ConnectionSender;
}

/** Sends in flight per fan-out: the SDK's default socket pool is 50 per client. */
export const SEND_CONCURRENCY = 50;
/** A channel's members are read in full for the fan-out's membership check, up to this many. */
const MAX_CHANNEL_MEMBERS = 100_000;

const lives = new WeakMap<Runtime, Live | null>();

/** The live-events wiring of a runtime; undefined without a Management API endpoint or a connections table. */
export function liveFor(runtime: Runtime): Live | undefined {
  let live = lives.get(runtime);
  if (live === undefined) {
    const endpoint = runtime.config.websocketManagementEndpoint;
    const table = runtime.config.tables.connections;
    live = endpoint && table
      ? {
          connections: new ConnectionStore(documentClient({ endpoint: runtime.config.dynamodbEndpoint, region: runtime.config.region }), table),
          sender: managementApiSender({ endpoint, region: runtime.config.region, local: runtime.config.dynamodbEndpoint !== undefined }),
        }
      : null;
    lives.set(runtime, live);
  }
  return live ?? undefined;
}

/** Replaces a runtime's wiring (the benchmark counts sends; tests break connections). */
export function setLive(runtime: Runtime, live: Live): void {
  lives.set(runtime, live);
}

export interface DeliveryCounts {
  sent: number;
  gone: number;
  skipped: number;
  failed: number;
}

/** How long a send waits for a connection whose hello is on its way (one Management API call). */
export const OPENING_WAIT_MS = 2_000;

/**
 * The connection's next seq, waiting while it is opening; undefined when it is closed, or opening
 * for longer than `OPENING_WAIT_MS` since it was listed (a hello that never completed costs one request).
 */
async function takeSeqOnceOpen(live: Live, connectionId: string): Promise<number | undefined> {
  const deadline = Date.now() + OPENING_WAIT_MS;
  for (let delayMs = 10; ; delayMs = Math.min(delayMs * 2, 200)) {
    const seq = await live.connections.takeSeq(connectionId, Date.now(), OPENING_WAIT_MS);
    if (seq === 'closed') return undefined;
    if (seq !== 'opening') return seq;
    if (Date.now() + delayMs > deadline) return undefined;
    await new Promise((resolve) => setTimeout(resolve, delayMs));
  }
}

/** Sends one event to each target with its own next seq, `SEND_CONCURRENCY` at a time. */
export async function deliver(runtime: Runtime, live: Live, targets: ConnectionTarget[], event: LiveEvent): Promise<DeliveryCounts> {
  const counts: DeliveryCounts = { sent: 0, gone: 0, skipped: 0, failed: 0 };
  const serialized = serializeEvent(event);
  let next = 0;
  const worker = async () => {
    while (next < targets.length) {
      const target = targets[next++]!;
      try {
        const seq = await takeSeqOnceOpen(live, target.connectionId);
        if (seq === undefined) {
          counts.skipped++;
          continue;
        }
        if ((await live.sender.send(target.connectionId, withSeq(serialized, seq))) === 'sent') counts.sent++;
        else {
          counts.gone++;
          await live.connections.remove(target.connectionId);
        }
      } catch (error) {
        counts.failed++;
        runtime.logger.warn('live event not sent', { connection_id: target.connectionId, event: event.event, error: String(error) });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(SEND_CONCURRENCY, targets.length) }, worker));
  return counts;
}

/** Sends an event to every open connection of one user. Never throws: live delivery is best effort. */
export async function publishToUser(runtime: Runtime, userId: string, event: LiveEvent): Promise<DeliveryCounts | undefined> {
  const live = liveFor(runtime);
  if (!live) return undefined;
  try {
    return await deliver(runtime, live, await live.connections.connectionsOfUser(userId), event);
  } catch (error) {
    runtime.logger.warn('live event not published', { user_id: userId, event: event.event, error: String(error) });
    return undefined;
  }
}

/** An ephemeral post (stored already for clients that are not connected) pushed to its one user. */
export function publishEphemeralPost(runtime: Runtime, post: Post, userId: string): Promise<DeliveryCounts | undefined> {
  return publishToUser(runtime, userId, ephemeralEvent(post, userId, runtime.config));
}

/**
 * Sends a channel event to the channel's connected members, kept only if they may see `post`
 * (lib/posts/visibility.ts). A direct channel's members are the two users its name holds, and it is
 * often newer than their connections: its events go to the users' connections (the by-user index),
 * so a direct channel created after they connected reaches them at once. Any other channel's go to
 * the connections listed in its partition, kept only if their user is a member now.
 */
export async function publishToChannel(
  runtime: Runtime,
  channelId: string,
  event: LiveEvent | (() => Promise<LiveEvent | undefined>),
  post?: Post,
  /** The channel when the caller holds it (just created: not worth a read). */
  known?: Channel,
): Promise<DeliveryCounts | undefined> {
  const live = liveFor(runtime);
  if (!live) return undefined;
  const none = { sent: 0, gone: 0, skipped: 0, failed: 0 };
  // Cached per instance (a channel's type never changes); the `posted` event reads it anyway.
  const channel = known ?? (await runtime.directory.channel(channelId));
  let targets: ConnectionTarget[];
  if (channel?.type === 'D') {
    const memberIds = directChannelMemberIds(channel.name);
    const listed = (await Promise.all(memberIds.map((userId) => live.connections.connectionsOfUser(userId)))).flat();
    targets = listed.filter((target) => receivesEventsOf(post, target.userId, true));
  } else {
    // Most channels have nobody connected: one Query, and the event (its reads) is never built.
    const listed = await live.connections.connectionsOfChannel(channelId);
    if (listed.length === 0) return none;
    const members = new Set(await runtime.entities.channelMemberIds(channelId, MAX_CHANNEL_MEMBERS));
    targets = listed.filter((target) => receivesEventsOf(post, target.userId, members.has(target.userId)));
  }
  if (targets.length === 0) return none;
  const built = typeof event === 'function' ? await event() : event;
  return built ? deliver(runtime, live, targets, built) : none;
}
