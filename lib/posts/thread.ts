import { MAX_RESPONSE_POST_BYTES, MAX_THREAD_REPLIES } from '../limits.js';
import type { Post, PostList, User } from '../model.js';
import type { Runtime } from '../runtime.js';
import { postsForClientWithin } from './for-client.js';
import { isVisibleTo, postNotFound, readablePost } from './visibility.js';

/**
 * `GET /api/v4/posts/{post_id}/thread`: the root and its replies as a `PostList`, newest first, as
 * Mattermost's `getPostThread`; `post_id` may be the root or any reply. The post must be one the
 * caller may read (404/403 as `GET /posts/{id}`); deleted replies are left out; at most
 * MAX_THREAD_REPLIES replies, the oldest.
 */
export async function getPostThread(runtime: Runtime, user: User, postId: string): Promise<PostList> {
  const { post } = await readablePost(runtime, user, postId);
  const root = post.root_id === '' ? post : await runtime.posts.getPost(post.root_id);
  if (!isVisibleTo(root, user.id) || root.channel_id !== post.channel_id) throw postNotFound();
  const replyIds = await runtime.posts.replyIdsOf(root.id, MAX_THREAD_REPLIES);
  const replies = (await runtime.posts.getPosts(replyIds)).filter(
    (reply) => isVisibleTo(reply, user.id) && reply.root_id === root.id && reply.channel_id === root.channel_id,
  );
  const thread: Post[] = [root, ...replies].sort((a, b) => b.create_at - a.create_at || (a.id < b.id ? 1 : -1));
  // The root first, then the newest replies, as long as the answer stays below a Lambda's 6 MB.
  const budget = { bytesLeft: MAX_RESPONSE_POST_BYTES };
  const { shown } = postsForClientWithin([root, ...thread.filter((member) => member !== root)], runtime.config, budget);
  const order = thread.filter((member) => shown.has(member.id)).map((member) => member.id);
  return { order, posts: Object.fromEntries(shown), next_post_id: '', prev_post_id: '', has_next: false };
}
