import * as z from '../zod.js';
import { AppError, errors } from '../errors.js';
import { isValidId } from '../ids.js';
import type { Post, PostList, User } from '../model.js';
import { MAX_PAGE_OFFSET_POSTS, MAX_PER_PAGE, MAX_RESPONSE_POST_BYTES } from '../limits.js';
import type { Runtime } from '../runtime.js';
import {
  buildPost,
  checkChannelOpenForPosts,
  checkPostType,
  checkRootPost,
  invalidRootId,
  checkPostSize,
  RESERVED_PROPS,
} from './rules.js';
import { postForClient, postsForClientWithin } from './for-client.js';
import { channelForMember, isVisibleTo, postNotFound, readablePost } from './visibility.js';
import { RootPostMissingError } from '../store/posts.js';

/** The body of `POST /api/v4/posts`; unknown keys are ignored as Mattermost ignores them. */
export const createPostBodySchema = z.object({
  channel_id: z._default(z.optional(z.string()), ''),
  message: z._default(z.optional(z.string()), ''),
  root_id: z._default(z.optional(z.string()), ''),
  type: z._default(z.optional(z.string()), ''),
  props: z.nullish(z.record(z.string(), z.unknown())),
  file_ids: z.nullish(z.array(z.string())),
});

export type CreatePostBody = z.infer<typeof createPostBodySchema>;

/** `POST /api/v4/posts` as the authenticated user. */
export async function createUserPost(runtime: Runtime, user: User, body: CreatePostBody): Promise<Post> {
  if (!isValidId(body.channel_id)) {
    throw new AppError('model.post.is_valid.channel_id.app_error', 'Invalid channel id.', 400);
  }
  const channel = await channelForMember(runtime, user, body.channel_id);
  checkChannelOpenForPosts(channel);
  checkPostType(body.type);
  const props: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body.props ?? {})) if (!RESERVED_PROPS.includes(key)) props[key] = value;
  checkPostSize(body.message, props);
  if (body.root_id !== '') {
    if (!isValidId(body.root_id)) throw new AppError('model.post.is_valid.root_id.app_error', 'Invalid root id.', 400);
    checkRootPost(await runtime.posts.getPost(body.root_id), channel.id);
  }
  const post = buildPost(
    { userId: user.id, channelId: channel.id, rootId: body.root_id, message: body.message, type: body.type, props, origin: { kind: 'user', id: user.id } },
    runtime.nowMs(),
  );
  // User posts, and only they, may trigger outgoing webhooks (through the posts stream).
  await runtime.posts.createPosts([post], { triggerWebhooks: true }).catch((error: unknown) => {
    // The root was deleted between its check and the reply's write.
    throw error instanceof RootPostMissingError ? invalidRootId() : error;
  });
  runtime.metrics.postsCreated('user', 1);
  return postForClient(post, runtime.config);
}

/** `GET /api/v4/posts/{post_id}`. */
export async function getPostForUser(runtime: Runtime, user: User, postId: string): Promise<Post> {
  const { post } = await readablePost(runtime, user, postId);
  return postForClient(post, runtime.config);
}

export interface ChannelPostsQuery {
  page: number;
  perPage: number;
  sinceMs: number;
  before: string;
  after: string;
}

const DEFAULT_PER_PAGE = 60;

/**
 * Reads Mattermost's paging parameters: page from 0, per_page 60 by default and at most 200 (more
 * is read as 200, as Mattermost does). A page starting past MAX_PAGE_OFFSET_POSTS answers 400: a
 * read costs the posts it skips, so an unbounded `page` would read the whole channel.
 */
export function parseChannelPostsQuery(query: URLSearchParams): ChannelPostsQuery {
  const integer = (name: string, fallback: number) => {
    const raw = query.get(name);
    if (raw === null || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 0) throw errors.invalidUrlParam(name);
    return value;
  };
  const postId = (name: string) => {
    const raw = query.get(name) ?? '';
    if (raw !== '' && !isValidId(raw)) throw errors.invalidUrlParam(name);
    return raw;
  };
  const page = integer('page', 0);
  const perPage = Math.min(integer('per_page', DEFAULT_PER_PAGE), MAX_PER_PAGE);
  if (page * perPage > MAX_PAGE_OFFSET_POSTS) throw errors.invalidUrlParam('page');
  return {
    page,
    perPage,
    sinceMs: integer('since', 0),
    before: postId('before'),
    after: postId('after'),
  };
}

/**
 * `GET /api/v4/channels/{channel_id}/posts`: a `PostList`, newest first. `since` wins over `after`,
 * which wins over `before`, as in Mattermost. The root posts of replies on the page are included in
 * `posts` (not in `order`) so a client can show the threads.
 */
export async function getChannelPosts(
  runtime: Runtime,
  user: User,
  channelId: string,
  query: ChannelPostsQuery,
): Promise<PostList> {
  if (!isValidId(channelId)) throw errors.invalidUrlParam('channel_id');
  await channelForMember(runtime, user, channelId);
  let page: Post[];
  let nextPostId = '';
  let prevPostId = '';
  if (query.sinceMs > 0) {
    // The reader's own ephemeral posts come with the changes.
    page = await runtime.posts.changedSince(channelId, query.sinceMs, user.id, runtime.nowMs());
  } else {
    const anchorId = query.after || query.before;
    let relativeTo: { post: Post; direction: 'before' | 'after' } | undefined;
    if (anchorId) {
      const anchor = await runtime.posts.getPost(anchorId);
      if (!isVisibleTo(anchor, user.id) || anchor.channel_id !== channelId) throw postNotFound();
      relativeTo = { post: anchor, direction: query.after ? 'after' : 'before' };
    }
    const result = await runtime.posts.pageOfChannel(channelId, query.page, query.perPage, relativeTo);
    page = result.posts;
    nextPostId = result.newerPostId;
    prevPostId = result.olderPostId;
  }
  // The reader's own ephemeral posts (slash-command answers) join the newest page.
  const newest = query.sinceMs === 0 && query.page === 0 && !query.after && !query.before;
  if (newest) {
    const oldestShown = page.length === query.perPage ? (page[page.length - 1]?.create_at ?? 0) : 0;
    const ephemeral = (await runtime.posts.ephemeralPostsFor(channelId, user.id, runtime.nowMs())).filter(
      (post) => post.create_at > oldestShown,
    );
    page = [...page, ...ephemeral].sort((a, b) => b.create_at - a.create_at || (a.id < b.id ? 1 : -1));
  }
  // A Lambda answers at most 6 MB: a page of large posts is cut to MAX_RESPONSE_POST_BYTES, keeping
  // the posts nearest the page's anchor, and the cut end becomes the next page's anchor.
  const budget = { bytesLeft: MAX_RESPONSE_POST_BYTES };
  // Newest first, except after an anchor, where the posts nearest it are the oldest.
  const byNearness = query.after && query.sinceMs === 0 ? [...page].reverse() : page;
  const { shown, kept } = postsForClientWithin(byNearness, runtime.config, budget);
  if (kept < page.length) {
    const firstCut = byNearness[kept]!;
    if (query.after && query.sinceMs === 0) nextPostId = firstCut.id;
    else prevPostId = firstCut.id;
    page = page.filter((post) => shown.has(post.id));
  }
  const missingRoots = page.map((post) => post.root_id).filter((rootId) => rootId !== '' && !shown.has(rootId));
  // A root shows only if the reader could read it: in this channel, and theirs if ephemeral.
  const roots = (await runtime.posts.getPosts(missingRoots)).filter((root) => isVisibleTo(root, user.id) && root.channel_id === channelId);
  for (const [id, root] of postsForClientWithin(roots, runtime.config, budget).shown) shown.set(id, root);
  const posts: Record<string, Post> = Object.fromEntries(shown);
  return {
    order: page.map((post) => post.id),
    posts,
    next_post_id: nextPostId,
    prev_post_id: prevPostId,
    has_next: nextPostId !== '',
  };
}
