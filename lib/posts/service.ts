import * as z from '../zod.js';
import { AppError, errors } from '../errors.js';
import { isValidId, postIdTimeMs } from '../ids.js';
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
import { RootPostMissingError, type PageAnchor } from '../store/posts.js';

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
 *
 * Two posts-table requests (docs/performance.md lists the few cases of a third): the page's query,
 * then one BatchGetItem of the roots the page lacks together with, on the newest page, the
 * reader's ephemeral posts (their bundle). An anchor (`before`, `after`) needs no GetItem of its
 * own when this instance remembers its coordinates or its id carries its creation time: the page's
 * query includes it and checks it is still there and not deleted.
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
  // Roots the page lacks, fetched before the page is cut to the response budget: a root whose
  // replies are cut is fetched for nothing, but the cut is rare and a later fetch costs a request.
  const fetched = new Map<string, Post>();
  if (query.sinceMs > 0) {
    // The reader's own ephemeral posts come with the changes, and so do the roots of changed replies.
    const changes = await runtime.posts.changedSince(channelId, query.sinceMs, user.id, runtime.nowMs());
    page = changes.posts;
    for (const root of changes.roots) fetched.set(root.id, root);
  } else {
    const anchorId = query.after || query.before;
    const direction = query.after ? 'after' : 'before';
    const anchor = anchorId ? await pageAnchor(runtime, user, channelId, anchorId) : undefined;
    let result = await runtime.posts.pageOfChannel(channelId, query.page, query.perPage, anchor && { anchor, direction });
    if (!result && anchor?.timeFromId) {
      // The id's time was not the anchor's (an id not made by newPostId that passed its check), or
      // the anchor is not a visible post of this channel: read it, as for an id that carries no time.
      const readAnchor = await storedPageAnchor(runtime, user, channelId, anchorId);
      result = await runtime.posts.pageOfChannel(channelId, query.page, query.perPage, { anchor: readAnchor, direction });
    }
    if (!result) throw postNotFound();
    page = result.posts;
    nextPostId = result.newerPostId;
    prevPostId = result.olderPostId;
  }
  const rootIdsOf = (posts: Post[]) => posts.map((post) => post.root_id).filter((rootId) => rootId !== '');
  const onPage = new Set(page.map((post) => post.id));
  // The reader's own ephemeral posts (slash-command answers) join the newest page.
  const newest = query.sinceMs === 0 && query.page === 0 && !query.after && !query.before;
  if (newest) {
    const nowMs = runtime.nowMs();
    const { posts: roots, ephemeral: bundled } = await runtime.posts.getPostsWithEphemeral(
      rootIdsOf(page).filter((rootId) => !onPage.has(rootId)),
      { channelId, userId: user.id, nowMs },
    );
    for (const root of roots) fetched.set(root.id, root);
    // The bundle is marked incomplete while it could not hold every unexpired ephemeral post.
    const ephemeral = bundled ?? (await runtime.posts.ephemeralPostsFor(channelId, user.id, nowMs));
    const oldestShown = page.length === query.perPage ? (page[page.length - 1]?.create_at ?? 0) : 0;
    page = [...page, ...ephemeral.filter((post) => post.create_at > oldestShown)].sort(
      (a, b) => b.create_at - a.create_at || (a.id < b.id ? 1 : -1),
    );
  } else {
    const lacking = rootIdsOf(page).filter((rootId) => !onPage.has(rootId) && !fetched.has(rootId));
    for (const root of await runtime.posts.getPosts(lacking)) fetched.set(root.id, root);
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
  const missingRoots = [...new Set(rootIdsOf(page).filter((rootId) => !shown.has(rootId)))];
  // Only the roots of the reader's ephemeral replies (an action's answer in a thread) whose root is
  // neither on the page nor the root of another reply there still need a request of their own.
  const unfetched = missingRoots.filter((rootId) => !fetched.has(rootId));
  for (const root of unfetched.length > 0 ? await runtime.posts.getPosts(unfetched) : []) fetched.set(root.id, root);
  // A root shows only if the reader could read it: in this channel, and theirs if ephemeral.
  const roots = missingRoots
    .map((rootId) => fetched.get(rootId))
    .filter((root): root is Post => isVisibleTo(root, user.id) && root.channel_id === channelId);
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

/**
 * A page's anchor, 404 unless the reader may see it in this channel, read without a request when
 * possible. A post's channel, creation time and audience never change, so remembered coordinates
 * answer the channel and audience checks, and the page's query checks the rest (still there, not
 * deleted). Otherwise the id's own creation time (`postIdTimeMs`) starts the page's query, which
 * checks the anchor is there: `timeFromId` tells the caller to read the anchor when it is not.
 * Only ids that carry no time cost a GetItem first.
 */
async function pageAnchor(runtime: Runtime, user: User, channelId: string, anchorId: string): Promise<PageAnchor & { timeFromId?: true }> {
  const known = runtime.posts.knownCoordinates(anchorId);
  // An ephemeral anchor is not in the channel's index, so the page's query cannot check it.
  if (known && known.ephemeralFor === undefined) {
    if (known.channelId !== channelId) throw postNotFound();
    return { id: anchorId, create_at: known.createAtMs, verify: true };
  }
  const createAtMs = known ? undefined : postIdTimeMs(anchorId, runtime.nowMs() + MAX_CLOCK_AHEAD_MS);
  if (createAtMs !== undefined) return { id: anchorId, create_at: createAtMs, verify: true, timeFromId: true };
  return storedPageAnchor(runtime, user, channelId, anchorId);
}

/** Instances' clocks differ a little: a post made by one a bit ahead is still read by its id's time. */
const MAX_CLOCK_AHEAD_MS = 60_000;

/** A page's anchor read by GetItem: 404 unless the reader may see it in this channel. */
async function storedPageAnchor(runtime: Runtime, user: User, channelId: string, anchorId: string): Promise<PageAnchor> {
  const anchor = await runtime.posts.getPost(anchorId);
  if (!isVisibleTo(anchor, user.id) || anchor.channel_id !== channelId) throw postNotFound();
  return { id: anchor.id, create_at: anchor.create_at, verify: false };
}
