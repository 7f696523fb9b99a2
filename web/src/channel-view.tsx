import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { Client4 } from '@mattermost/client';
import type { Channel } from '@mattermost/types/channels';
import type { Post as PostType, PostList } from '@mattermost/types/posts';
import type { Reaction } from '@mattermost/types/reactions';
import type { Team } from '@mattermost/types/teams';
import type { UserProfile } from '@mattermost/types/users';
import type { Command } from '@mattermost/types/integrations';
import { errorMessage } from './api.js';
import { safeUrl } from './markdown.js';
import type { LiveSource } from './live.js';
import { MessageBox } from './message-box.js';
import { Post, type PostContext } from './post.js';
import type { MenuSources } from './attachment.js';
import { ErrorAlert } from './error-alert.js';

export interface ChannelViewProps {
  client: Client4;
  live: LiveSource;
  channel: Channel;
  channelLabel: string;
  team: Team;
  me: UserProfile;
  profile(userId: string): UserProfile | undefined;
  needProfiles(userIds: string[]): void;
  loadCommands(): Promise<Command[]>;
  menus: MenuSources;
  /** The client trigger id of the user's last click or command: a dialog opened with it may show. */
  rememberTrigger(triggerId: string): void;
}

type PostMap = Map<string, PostType>;

/**
 * Newer versions win; a post deleted since is dropped. A reply seen for the first time (not an ephemeral one) counts on
 * its root, unless the same changes carry the root: the websocket, like Mattermost's, sends no
 * event for a root whose reply count changed, and clients count replies themselves.
 */
function merge(current: PostMap, list: PostList): PostMap {
  const next = new Map(current);
  const posts = list.posts ?? {};
  for (const post of Object.values(posts)) {
    const known = next.get(post.id);
    if (known && known.update_at > post.update_at) continue;
    if (post.delete_at > 0) next.delete(post.id);
    else next.set(post.id, post);
    const root = post.root_id ? next.get(post.root_id) : undefined;
    if (!known && post.delete_at === 0 && post.type !== 'system_ephemeral' && root && !posts[root.id]) next.set(root.id, { ...root, reply_count: (root.reply_count ?? 0) + 1 });
  }
  return next;
}

const PAGE_SIZE = 60;

const single = (post: PostType): PostList => ({ order: [post.id], posts: { [post.id]: post }, next_post_id: '', prev_post_id: '', first_inaccessible_post_time: 0 });

export function ChannelView(props: ChannelViewProps) {
  const { client, live, channel, team, me } = props;
  const [posts, setPosts] = useState<PostMap>(new Map());
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | undefined>();
  const [liveError, setLiveError] = useState<string | undefined>();
  const [threadId, setThreadId] = useState<string | undefined>();
  const [older, setOlder] = useState<'none' | 'more' | 'loading'>('none');
  const [reactions, setReactions] = useState<Map<string, { at: number; list: Reaction[] }>>(new Map());
  const watch = useRef<{ refresh(): void } | undefined>(undefined);
  const listEnd = useRef<HTMLDivElement>(null);

  useEffect(() => {
    let cancelled = false;
    setPosts(new Map());
    setLoading(true);
    setError(undefined);
    setThreadId(undefined);
    let stop = () => {};
    const readStartedAt = performance.now();
    client.getPosts(channel.id, 0, PAGE_SIZE).then(
      (list) => {
        if (cancelled) return;
        const loaded = merge(new Map(), list as PostList);
        setPosts(loaded);
        setOlder(list.order.length >= PAGE_SIZE ? 'more' : 'none');
        setLoading(false);
        let since = 0;
        for (const post of loaded.values()) since = Math.max(since, post.update_at, post.create_at);
        const watcher = live.watchChannel(
          channel.id,
          since,
          (changes) => {
            setLiveError(undefined);
            setPosts((current) => merge(current, changes));
          },
          (failure) => setLiveError(`Live updates paused: ${errorMessage(failure)}`),
          readStartedAt,
        );
        watch.current = watcher;
        stop = () => watcher.stop();
      },
      (failure) => {
        if (cancelled) return;
        setError(errorMessage(failure));
        setLoading(false);
      },
    );
    return () => {
      cancelled = true;
      stop();
      watch.current = undefined;
    };
  }, [channel.id]);

  const ordered = useMemo(() => [...posts.values()].sort((a, b) => a.create_at - b.create_at || a.id.localeCompare(b.id)), [posts]);

  useEffect(() => {
    props.needProfiles([...new Set(ordered.map((post) => post.user_id))]);
    // Reactions are read for posts that have some, again when such a post changes.
    for (const post of ordered) {
      const has = (post as PostType & { has_reactions?: boolean }).has_reactions;
      const known = reactions.get(post.id);
      if (has && (!known || known.at < post.update_at)) {
        setReactions((current) => new Map(current).set(post.id, { at: post.update_at, list: known?.list ?? [] }));
        client.getReactionsForPost(post.id).then(
          (list) => setReactions((current) => new Map(current).set(post.id, { at: post.update_at, list: list ?? [] })),
          () => undefined,
        );
      } else if (!has && known && known.list.length > 0) {
        setReactions((current) => new Map(current).set(post.id, { at: post.update_at, list: [] }));
      }
    }
  }, [ordered]);

  // Follow the newest post, as a chat does.
  const newest = ordered[ordered.length - 1]?.id;
  useEffect(() => {
    listEnd.current?.scrollIntoView?.({ block: 'end' });
  }, [newest, loading]);

  const loadOlder = async () => {
    const oldest = ordered[0];
    if (!oldest) return;
    setOlder('loading');
    try {
      const list = (await client.getPostsBefore(channel.id, oldest.id, 0, PAGE_SIZE)) as PostList;
      setPosts((current) => merge(current, list));
      setOlder(list.order.length >= PAGE_SIZE ? 'more' : 'none');
    } catch (failure) {
      setError(errorMessage(failure));
      setOlder('more');
    }
  };

  const applyPost = (post: PostType) => setPosts((current) => merge(current, single(post)));
  const refresh = () => watch.current?.refresh();

  const context: PostContext = {
    me,
    profile: props.profile,
    reactions: (post) => reactions.get(post.id)?.list ?? [],
    toggleReaction: async (post, emoji) => {
      const mine = (reactions.get(post.id)?.list ?? []).some((reaction) => reaction.user_id === me.id && reaction.emoji_name === emoji);
      try {
        if (mine) await client.removeReaction(me.id, post.id, emoji);
        else await client.addReaction(me.id, post.id, emoji);
      } catch (failure) {
        throw new Error(errorMessage(failure));
      }
      const list = await client.getReactionsForPost(post.id);
      setReactions((current) => new Map(current).set(post.id, { at: Number.MAX_SAFE_INTEGER, list: list ?? [] }));
      refresh();
    },
    runAction: async (post, actionId, selected) => {
      try {
        const answer = await client.doPostActionWithCookie(post.id, actionId, '', selected ?? '');
        if (answer?.trigger_id) props.rememberTrigger(answer.trigger_id);
      } catch (failure) {
        throw new Error(errorMessage(failure));
      }
      // The integration's update is stored by now; show it at once rather than at the next poll.
      client.getPost(post.id).then(applyPost, () => undefined);
      refresh();
    },
    openThread: (rootId) => setThreadId(rootId),
    menus: props.menus,
  };

  const send = (rootId: string) => async (message: string) => {
    try {
      applyPost(await client.createPost({ channel_id: channel.id, message, root_id: rootId } as PostType));
    } catch (failure) {
      throw new Error(errorMessage(failure));
    }
    refresh();
  };
  const runCommand = (rootId: string) => async (command: string) => {
    let response: { goto_location?: string; trigger_id?: string };
    try {
      response = await client.executeCommand(command, { channel_id: channel.id, team_id: team.id, root_id: rootId });
    } catch (failure) {
      throw new Error(errorMessage(failure));
    }
    if (response.trigger_id) props.rememberTrigger(response.trigger_id);
    // An integration may send the user somewhere: an http(s) URL opens in a new tab.
    const goto = safeUrl(response.goto_location);
    if (goto) window.open(goto, '_blank', 'noopener,noreferrer');
    // An ephemeral answer is stored for this user and arrives with the channel's changes.
    refresh();
  };

  const label = props.channelLabel;
  return (
    <div class={`channel${threadId ? ' channel--with-thread' : ''}`}>
      <section class="channel__main" aria-labelledby="channel-title">
        <header class="channel__header">
          <h2 id="channel-title">{label}</h2>
        </header>
        <div class="channel__posts" id="messages" tabIndex={-1}>
          {loading ? (
            <p class="loading" role="status">
              Loading messages…
            </p>
          ) : null}
          <ErrorAlert message={error} />
          {older !== 'none' ? (
            <button type="button" class="link channel__older" onClick={loadOlder} disabled={older === 'loading'} aria-busy={older === 'loading'}>
              {older === 'loading' ? 'Loading older messages…' : 'Load older messages'}
            </button>
          ) : null}
          {!loading && !error && ordered.length === 0 ? <p class="empty">No messages yet. Say hello!</p> : null}
          <div role="log" aria-live="polite" aria-relevant="additions" aria-label={`Messages in ${label}`}>
            {ordered.map((post) => (
              <Post key={post.id} post={post} context={context} />
            ))}
          </div>
          <div ref={listEnd} />
        </div>
        {liveError ? (
          <p class="error error--live" role="status">
            {liveError}
          </p>
        ) : null}
        <MessageBox label={`Write to ${label}`} placeholder={`Write to ${label}`} loadCommands={props.loadCommands} send={send('')} runCommand={runCommand('')} autoFocus />
      </section>
      {threadId ? (
        <ThreadView
          key={threadId}
          client={client}
          rootId={threadId}
          posts={ordered}
          context={context}
          merge={(list) => setPosts((current) => merge(current, list))}
          close={() => setThreadId(undefined)}
          loadCommands={props.loadCommands}
          send={send(threadId)}
          runCommand={runCommand(threadId)}
        />
      ) : null}
    </div>
  );
}

function ThreadView(props: {
  client: Client4;
  rootId: string;
  posts: PostType[];
  context: PostContext;
  merge(list: PostList): void;
  close(): void;
  loadCommands(): Promise<Command[]>;
  send(message: string): Promise<void>;
  runCommand(command: string): Promise<void>;
}) {
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | undefined>();
  const panel = useRef<HTMLElement>(null);
  useEffect(() => {
    panel.current?.focus();
    props.client.getPostThread(props.rootId).then(
      (list) => {
        props.merge(list as PostList);
        setLoading(false);
      },
      (failure) => {
        setError(errorMessage(failure));
        setLoading(false);
      },
    );
  }, [props.rootId]);
  const thread = props.posts.filter((post) => post.id === props.rootId || post.root_id === props.rootId);
  return (
    <aside
      class="thread"
      aria-labelledby="thread-title"
      ref={panel}
      tabIndex={-1}
      onKeyDown={(event) => {
        if (event.key === 'Escape') props.close();
      }}
    >
      <header class="thread__header">
        <h2 id="thread-title">Thread</h2>
        <button type="button" class="btn btn--default" onClick={props.close} aria-label="Close the thread">
          Close
        </button>
      </header>
      <div class="thread__posts">
        {loading ? (
          <p class="loading" role="status">
            Loading the thread…
          </p>
        ) : null}
        <ErrorAlert message={error} />
        {thread.map((post) => (
          <Post key={post.id} post={post} context={props.context} inThread />
        ))}
      </div>
      <MessageBox label="Reply in the thread" placeholder="Reply…" loadCommands={props.loadCommands} send={props.send} runCommand={props.runCommand} />
    </aside>
  );
}
