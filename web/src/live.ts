import type { Client4 } from '@mattermost/client';
import type { Post, PostList } from '@mattermost/types/posts';
import type { OpenDialog } from './dialog.js';

/**
 * Live updates of a channel, behind one small interface. Today it polls
 * `GET /api/v4/channels/{id}/posts?since=`; the websocket (`posted`, `post_edited`,
 * `post_deleted`, `reaction_added`... events) will implement the same interface, and nothing else
 * in the app needs to change.
 */
export interface ChannelWatch {
  /** Looks again now, after the user did something that changes the channel. */
  refresh(): void;
  stop(): void;
}

export interface LiveSource {
  /**
   * Calls `onPosts` with every post of the channel created, edited, deleted (with `delete_at`)
   * or reacted to after `since` (ms, the server's clock), and keeps doing so until stopped.
   */
  watchChannel(channelId: string, since: number, onPosts: (list: PostList) => void, onError: (error: unknown) => void, readStartedAt?: number): ChannelWatch;
  /**
   * Dialogs integrations open for this user (the websocket's `open_dialog`); answers a function
   * that stops listening. Polling cannot see them, so the polling source has none.
   */
  onOpenDialog?(handler: (open: OpenDialog) => void): () => void;
  /**
   * Channels that may be new to the user: the websocket's `direct_added` (a direct channel created
   * with them) and the channel of every `posted` (a membership added while connected shows itself
   * by its first post). Answers a function that stops listening.
   */
  onChannelActivity?(handler: (channelId: string, event: 'direct_added' | 'posted') => void): () => void;
}

export function pollingSource(client: Client4, intervalMs = 2_000): LiveSource {
  return {
    watchChannel(channelId, since, onPosts, onError) {
      let stopped = false;
      let timer: ReturnType<typeof setTimeout> | undefined;
      let inFlight = false;
      let again = false;
      let cursor = since;
      const schedule = () => {
        if (stopped) return;
        clearTimeout(timer);
        // A hidden tab looks less often.
        timer = setTimeout(poll, document.hidden ? intervalMs * 5 : intervalMs);
      };
      const poll = async () => {
        if (stopped) return;
        if (inFlight) {
          again = true;
          return;
        }
        inFlight = true;
        try {
          const list = (await client.getPostsSince(channelId, cursor)) as PostList;
          if (stopped) return;
          for (const post of Object.values(list.posts ?? {})) cursor = Math.max(cursor, post.update_at, post.create_at, post.delete_at);
          if (list.order.length > 0) onPosts(list);
        } catch (error) {
          if (!stopped) onError(error);
        } finally {
          inFlight = false;
          if (again) {
            again = false;
            void poll();
          } else schedule();
        }
      };
      schedule();
      return {
        refresh: () => void poll(),
        stop: () => {
          stopped = true;
          clearTimeout(timer);
        },
      };
    },
  };
}

interface Watcher {
  channelId: string;
  cursor: number;
  onPosts(list: PostList): void;
  onError(error: unknown): void;
  /** Polling while the socket is down; undefined while it is up. */
  fallback?: ChannelWatch;
  /** Set when the watch may have missed events (registered or kept across a socket that was down). */
  stale: boolean;
  stopped: boolean;
}

/** The websocket's state, for the page to show and for tests to read (`data-live` on the workspace). */
export type LiveState = 'connecting' | 'open' | 'polling';

const listOf = (posts: Post[]): PostList => ({
  order: posts.map((post) => post.id),
  posts: Object.fromEntries(posts.map((post) => [post.id, post])),
  next_post_id: '',
  prev_post_id: '',
  first_inaccessible_post_time: 0,
});

const parse = <T>(value: unknown): T | undefined => {
  if (typeof value !== 'string') return undefined;
  try {
    return JSON.parse(value) as T;
  } catch {
    return undefined;
  }
};

/** How long the socket has to say hello before it counts as down. */
const HELLO_TIMEOUT_MS = 10_000;
/** Under API Gateway's 10-minute idle timeout. */
const PING_INTERVAL_MS = 4 * 60_000;

/** How far before the newest change seen a resync reads. */
const RESYNC_OVERLAP_MS = 10_000;

/** How long a just-received post event is kept, to hand to a watch that starts right after it. */
const RECENT_MS = 30_000;

/**
 * Live updates over Mattermost's websocket (`GET /api/v4/websocket`): one socket per tab,
 * authenticated with the `authentication_challenge` action (the token never goes into the URL),
 * `hello` at seq 0 then events numbered from 1. A gap in the numbers or a close reconnects, and
 * each watch reads what it missed with `?since=` once the new `hello` arrives. While the socket
 * cannot connect, watches fall back to polling; they stop polling when it is back.
 */
export function websocketSource(client: Client4, options: { url?: string; token: string; pollMs?: number; onState?(state: LiveState): void }): LiveSource & { close(): void } {
  const polling = pollingSource(client, options.pollMs);
  const url = options.url ?? `${window.location.origin.replace(/^http/, 'ws')}/api/v4/websocket`;
  const watchers = new Set<Watcher>();
  const dialogHandlers = new Set<(open: OpenDialog) => void>();
  const channelHandlers = new Set<(channelId: string, event: 'direct_added' | 'posted') => void>();
  const recent: Array<{ at: number; post: Post }> = [];
  let socket: WebSocket | undefined;
  let open = false;
  let expectedSeq = 0;
  let failures = 0;
  let closed = false;
  let retry: ReturnType<typeof setTimeout> | undefined;
  let helloTimer: ReturnType<typeof setTimeout> | undefined;
  let pingTimer: ReturnType<typeof setInterval> | undefined;
  let actionSeq = 0;
  /** When the current socket said hello (`performance.now()`). */
  let helloAt = Number.POSITIVE_INFINITY;
  const sendAction = (ws: WebSocket, action: string, data?: Record<string, unknown>) => ws.send(JSON.stringify({ action, seq: ++actionSeq, ...(data ? { data } : {}) }));

  const setState = (state: LiveState) => options.onState?.(state);

  const deliver = (watcher: Watcher, posts: Post[]) => {
    if (watcher.stopped || posts.length === 0) return;
    for (const post of posts) watcher.cursor = Math.max(watcher.cursor, post.update_at, post.create_at, post.delete_at);
    watcher.onPosts(listOf(posts));
  };

  const startFallback = (watcher: Watcher) => {
    watcher.fallback ??= polling.watchChannel(watcher.channelId, watcher.cursor, (list) => deliver(watcher, Object.values(list.posts)), watcher.onError);
  };

  const resync = (watcher: Watcher) => {
    watcher.fallback?.stop();
    watcher.fallback = undefined;
    if (!watcher.stale) return;
    watcher.stale = false;
    // A little before the newest change seen: what was written around then may have been pushed
    // while the socket was down (merging a post twice is harmless).
    client.getPostsSince(watcher.channelId, Math.max(0, watcher.cursor - RESYNC_OVERLAP_MS)).then(
      (list) => deliver(watcher, Object.values((list as PostList).posts ?? {})),
      (error) => !watcher.stopped && watcher.onError(error),
    );
  };

  const postEvent = (post: Post) => {
    const now = Date.now();
    recent.push({ at: now, post });
    while (recent.length > 0 && recent[0]!.at < now - RECENT_MS) recent.shift();
    for (const watcher of watchers) if (watcher.channelId === post.channel_id) deliver(watcher, [post]);
  };

  const onMessage = (raw: string) => {
    const message = parse<{ event?: string; seq?: number; data?: Record<string, unknown>; broadcast?: { channel_id?: unknown }; status?: string; seq_reply?: number }>(raw);
    if (!message) return;
    if (message.seq_reply !== undefined) {
      // A refused challenge: the token no longer works. Poll (which shows the API's refusal).
      if (message.status === 'FAIL' && message.seq_reply === 1) giveUp();
      return;
    }
    if (!message.event) return;
    if (message.event === 'hello') {
      clearTimeout(helloTimer);
      helloAt = performance.now();
      expectedSeq = 1;
      open = true;
      failures = 0;
      setState('open');
      for (const watcher of watchers) resync(watcher);
      return;
    }
    if (message.seq !== expectedSeq) {
      // Missed or reordered events: start again and read what was missed.
      socket?.close(4001, 'seq gap');
      return;
    }
    expectedSeq += 1;
    const data = message.data ?? {};
    const channelId = message.broadcast?.channel_id;
    if ((message.event === 'direct_added' || message.event === 'posted') && typeof channelId === 'string' && channelId !== '') {
      for (const handler of channelHandlers) handler(channelId, message.event);
    }
    switch (message.event) {
      case 'posted':
      case 'post_edited':
      case 'ephemeral_message': {
        const post = parse<Post>(data.post);
        if (post) postEvent(post);
        break;
      }
      case 'post_deleted': {
        const post = parse<Post>(data.post);
        if (post) {
          const deleteAt = post.delete_at || Date.now();
          postEvent({ ...post, delete_at: deleteAt, update_at: Math.max(post.update_at, deleteAt) });
        }
        break;
      }
      case 'reaction_added':
      case 'reaction_removed': {
        // The event names the post; the post (with its has_reactions and update_at) is read again.
        const reaction = parse<{ post_id: string; channel_id?: string }>(data.reaction);
        if (reaction && [...watchers].some((watcher) => !reaction.channel_id || watcher.channelId === reaction.channel_id))
          client.getPost(reaction.post_id).then((post) => postEvent(post), () => undefined);
        break;
      }
      case 'open_dialog': {
        const dialog = parse<OpenDialog>(data.dialog);
        if (dialog) for (const handler of dialogHandlers) handler(dialog);
        break;
      }
      default:
        break;
    }
  };

  const giveUp = () => {
    socket?.close();
  };

  const connect = () => {
    if (closed) return;
    clearTimeout(retry);
    setState(failures > 0 ? 'polling' : 'connecting');
    let ws: WebSocket;
    try {
      ws = new WebSocket(url);
    } catch {
      return scheduleReconnect();
    }
    socket = ws;
    actionSeq = 0;
    // A socket that says no hello in time (a proxy holding the upgrade) counts as down.
    clearTimeout(helloTimer);
    helloTimer = setTimeout(() => ws.close(), HELLO_TIMEOUT_MS);
    ws.onopen = () => {
      sendAction(ws, 'authentication_challenge', { token: options.token });
      // API Gateway closes a WebSocket idle for 10 minutes: a ping now and then keeps it.
      clearInterval(pingTimer);
      pingTimer = setInterval(() => ws.readyState === WebSocket.OPEN && sendAction(ws, 'ping'), PING_INTERVAL_MS);
    };
    ws.onmessage = (event) => typeof event.data === 'string' && onMessage(event.data);
    ws.onclose = () => {
      if (socket !== ws) return;
      clearTimeout(helloTimer);
      clearInterval(pingTimer);
      socket = undefined;
      open = false;
      scheduleReconnect();
    };
  };

  const scheduleReconnect = () => {
    if (closed) return;
    failures += 1;
    // Until the socket is back, every watch polls and is read again on the next hello.
    for (const watcher of watchers) {
      watcher.stale = true;
      startFallback(watcher);
    }
    setState('polling');
    retry = setTimeout(connect, Math.min(30_000, 500 * 2 ** Math.min(failures, 6)));
  };

  connect();

  return {
    watchChannel(channelId, since, onPosts, onError, readStartedAt = 0) {
      // A socket that said hello after the channel's first read was sent may have missed what was
      // posted in between (its channels are registered at hello): read it once more.
      const watcher: Watcher = { channelId, cursor: since, onPosts, onError, stale: !open || helloAt > readStartedAt, stopped: false };
      if (open && watcher.stale) resync(watcher);
      watchers.add(watcher);
      // Events that arrived between the channel's first read and now.
      deliver(
        watcher,
        recent.filter((entry) => entry.post.channel_id === channelId && Math.max(entry.post.update_at, entry.post.create_at, entry.post.delete_at) > since).map((entry) => entry.post),
      );
      if (!open && failures > 0) startFallback(watcher);
      return {
        // With the socket up, changes arrive by themselves; without it, the fallback looks now.
        refresh: () => watcher.fallback?.refresh(),
        stop: () => {
          watcher.stopped = true;
          watcher.fallback?.stop();
          watchers.delete(watcher);
        },
      };
    },
    onOpenDialog(handler) {
      dialogHandlers.add(handler);
      return () => dialogHandlers.delete(handler);
    },
    onChannelActivity(handler) {
      channelHandlers.add(handler);
      return () => channelHandlers.delete(handler);
    },
    close() {
      closed = true;
      clearTimeout(retry);
      clearTimeout(helloTimer);
      clearInterval(pingTimer);
      const ws = socket;
      socket = undefined;
      ws?.close();
      for (const watcher of watchers) watcher.fallback?.stop();
    },
  };
}
