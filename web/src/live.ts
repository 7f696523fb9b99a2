import type { Client4 } from '@mattermost/client';
import type { PostList } from '@mattermost/types/posts';
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
  watchChannel(channelId: string, since: number, onPosts: (list: PostList) => void, onError: (error: unknown) => void): ChannelWatch;
  /**
   * Dialogs integrations open for this user (the websocket's `open_dialog`); answers a function
   * that stops listening. Polling cannot see them, so the polling source has none.
   */
  onOpenDialog?(handler: (open: OpenDialog) => void): () => void;
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
