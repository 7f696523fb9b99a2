import { errors } from '../errors.js';
import { isValidId } from '../ids.js';
import { MAX_RESPONSE_POST_BYTES, MAX_THREAD_REPLIES } from '../limits.js';
import type { Post, PostList, User } from '../model.js';
import type { Runtime } from '../runtime.js';
import { postsForClientWithin } from './for-client.js';
import { channelForMember, isVisibleTo, postNotFound } from './visibility.js';

/**
 * `GET /api/v4/posts/{post_id}/thread`: the root and its replies as a `PostList`, newest first, as
 * Mattermost's `getPostThread`; `post_id` may be the root or any reply. The post must be one the
 * caller may read (404/403 as `GET /posts/{id}`); deleted replies are left out; at most
 * MAX_THREAD_REPLIES replies, the oldest.
 *
 * Posts-table requests (docs/performance.md): one Query of the root's partition, which holds the
 * root and its thread entries, each with a copy of its reply. Asked by a reply's id, the reply's
 * root is known without a read when this instance remembers the reply's coordinates (a post's root
 * never changes); otherwise the reply's own partition is read first: two. Replies whose entry holds
 * no copy (larger than MAX_THREAD_COPY_BYTES, or listed before copies were kept), and an asked
 * reply the thread does not list, are fetched by key: one BatchGetItem more.
 */
export async function getPostThread(runtime: Runtime, user: User, postId: string): Promise<PostList> {
  if (!isValidId(postId)) throw errors.invalidUrlParam('post_id');
  const knownRootId = runtime.posts.knownCoordinates(postId)?.rootId ?? '';
  let stored = await runtime.posts.threadOf(knownRootId || postId, MAX_THREAD_REPLIES);
  let post: Post | undefined;
  if (knownRootId === '') {
    post = stored.post;
    if (!isVisibleTo(post, user.id)) throw postNotFound();
    await channelForMember(runtime, user, post.channel_id);
    if (post.root_id !== '') stored = await runtime.posts.threadOf(post.root_id, MAX_THREAD_REPLIES);
  }
  const root = stored.post;
  const listed = new Map(stored.replies.map((entry) => [entry.id, entry.post]));
  const missing = stored.replies.filter((entry) => !entry.post).map((entry) => entry.id);
  // An asked reply the thread does not list (past the cap, or ephemeral) is fetched, not shown.
  const askedUnlisted = !post && !listed.has(postId);
  let askedFetched: Post | undefined;
  for (const fetched of await runtime.posts.getPosts(askedUnlisted ? [...missing, postId] : missing)) {
    if (listed.has(fetched.id)) listed.set(fetched.id, fetched);
    else if (fetched.id === postId) askedFetched = fetched;
  }
  if (!post) {
    // Asked by a remembered reply: the read rule is checked here, on the reply as stored.
    post = askedUnlisted ? askedFetched : listed.get(postId);
    if (!isVisibleTo(post, user.id)) throw postNotFound();
    await channelForMember(runtime, user, post.channel_id);
  }
  const threadPost = post;
  if (!isVisibleTo(root, user.id) || root.channel_id !== threadPost.channel_id) throw postNotFound();
  const rootPost = root;
  const replies = [...listed.values()].filter(
    (reply): reply is Post => isVisibleTo(reply, user.id) && reply.root_id === rootPost.id && reply.channel_id === rootPost.channel_id,
  );
  const thread: Post[] = [rootPost, ...replies].sort((a, b) => b.create_at - a.create_at || (a.id < b.id ? 1 : -1));
  // The root first, then the newest replies, as long as the answer stays below a Lambda's 6 MB.
  const budget = { bytesLeft: MAX_RESPONSE_POST_BYTES };
  const { shown } = postsForClientWithin([rootPost, ...thread.filter((member) => member !== rootPost)], runtime.config, budget);
  const order = thread.filter((member) => shown.has(member.id)).map((member) => member.id);
  return { order, posts: Object.fromEntries(shown), next_post_id: '', prev_post_id: '', has_next: false };
}
