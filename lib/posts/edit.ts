/**
 * Editing and deleting posts through the REST API (`PUT /posts/{id}`, `PUT /posts/{id}/patch`,
 * `DELETE /posts/{id}`), as Mattermost's `UpdatePost`, `PatchPost` and `DeletePost` do for a user
 * acting on their own posts (others' posts need `edit_others_posts` / `delete_others_posts`, which
 * only system admins have, and Hookline does not model them yet: 403).
 *
 * An edit keeps what Mattermost keeps: the protected props (`from_webhook`, the overrides, the
 * webhook display name) come from the stored post whatever the request says, `edit_at` is set when
 * the message changes, and the write is a replacement of an existing item, never an INSERT, so the
 * posts stream never sends it to the outgoing-webhook dispatcher. Reads still go through
 * `postForClient`, which strips action integrations.
 */
import { AppError, errors } from '../errors.js';
import { isValidId } from '../ids.js';
import { MAX_THREAD_REPLIES } from '../limits.js';
import type { Post, User } from '../model.js';
import type { Runtime } from '../runtime.js';
import { isPlainObject } from '../http/go-json.js';
import { postForClient } from './for-client.js';
import { checkPostSize, checkPropsDepth, RESERVED_PROPS } from './rules.js';
import { postNotFound, readablePost } from './visibility.js';

/** A write that lost a race with another change is retried on a fresh read this many times. */
const MAX_EDIT_ATTEMPTS = 8;
/** The most a retry waits, with full jitter: writers that collided spread out instead of colliding again. */
const MAX_EDIT_BACKOFF_MS = 200;

/** Before attempt `attempt` (from 0) of a write that lost a race: nothing first, then a random wait growing to MAX_EDIT_BACKOFF_MS. */
function backoff(attempt: number): Promise<void> {
  if (attempt === 0) return Promise.resolve();
  return new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(MAX_EDIT_BACKOFF_MS, 10 * 2 ** attempt)));
}

/**
 * The post the caller may change: visible to them (404/403 as reads), stored, and theirs (403).
 * Read strongly consistent: an edit holds only if it read the latest content (`writeEdit`).
 */
async function ownPost(runtime: Runtime, user: User, postId: string): Promise<Post> {
  const { post } = await readablePost(runtime, user, postId, { consistent: true });
  // Ephemeral posts are not stored posts in Mattermost: there is nothing to edit or delete.
  if (post.ephemeral_for !== undefined) throw postNotFound();
  if (post.user_id !== user.id) throw errors.permissions();
  return post;
}

/** What an edit may change; absent fields are left as they are. */
interface PostChanges {
  message?: string;
  props?: Record<string, unknown>;
  is_pinned?: boolean;
}

const badBody = () => errors.invalidBodyParam('post');

function readChanges(body: unknown, wholePost: boolean): PostChanges {
  if (!isPlainObject(body)) throw badBody();
  const fields = body as Record<string, unknown>;
  const changes: PostChanges = {};
  if (fields.message !== undefined && fields.message !== null) {
    if (typeof fields.message !== 'string') throw badBody();
    changes.message = fields.message;
  } else if (wholePost) changes.message = '';
  if (fields.props !== undefined && fields.props !== null) {
    if (!isPlainObject(fields.props)) throw badBody();
    changes.props = fields.props as Record<string, unknown>;
  } else if (wholePost) changes.props = {};
  if (fields.is_pinned !== undefined && fields.is_pinned !== null) {
    if (typeof fields.is_pinned !== 'boolean') throw badBody();
    changes.is_pinned = fields.is_pinned;
  }
  return changes;
}

function applyChanges(post: Post, changes: PostChanges, nowMs: number): Post {
  let props = post.props;
  if (changes.props !== undefined) {
    props = { ...changes.props };
    for (const key of RESERVED_PROPS) {
      delete props[key];
      if (post.props[key] !== undefined) props[key] = post.props[key];
    }
  }
  const message = changes.message ?? post.message;
  checkPostSize(message, props);
  checkPropsDepth(props);
  return {
    ...post,
    message,
    props,
    is_pinned: changes.is_pinned ?? post.is_pinned,
    update_at: Math.max(nowMs, post.update_at + 1),
    edit_at: message !== post.message ? nowMs : post.edit_at,
  };
}

const editConflict = () =>
  new AppError('app.post.update.app_error', 'Unable to update the post: it kept changing; try again.', 409);

/**
 * Reads a stored post, changes it and writes the change (`PostStore.writeEdit`); on a fresh read
 * again while a later change wins the race. Undefined when `read` finds no post to change (gone,
 * deleted); 409 after MAX_EDIT_ATTEMPTS lost races.
 */
export async function editWithRetry(runtime: Runtime, read: () => Promise<Post | undefined>, change: (post: Post) => Post): Promise<Post | undefined> {
  for (let attempt = 0; attempt < MAX_EDIT_ATTEMPTS; attempt++) {
    await backoff(attempt);
    const post = await read();
    if (!post) return undefined;
    const updated = change(post);
    if (await runtime.posts.writeEdit(updated)) return updated;
  }
  throw editConflict();
}

async function editOwnPost(runtime: Runtime, user: User, postId: string, changes: PostChanges): Promise<Post> {
  // ownPost answers 404 or 403 itself, so a read that returns is a post to change.
  const updated = await editWithRetry(runtime, () => ownPost(runtime, user, postId), (post) => applyChanges(post, changes, runtime.nowMs()));
  return postForClient(updated!, runtime.config);
}

/** `PUT /api/v4/posts/{post_id}`: the whole post; its `id` must be the path's (Mattermost's 400 `id`). */
export async function updatePost(runtime: Runtime, user: User, postId: string, body: unknown): Promise<Post> {
  if (!isValidId(postId)) throw errors.invalidUrlParam('post_id');
  const changes = readChanges(body, true);
  if ((body as Record<string, unknown>).id !== postId) throw errors.invalidBodyParam('id');
  return editOwnPost(runtime, user, postId, changes);
}

/** `PUT /api/v4/posts/{post_id}/patch`: only the fields given. */
export async function patchPost(runtime: Runtime, user: User, postId: string, body: unknown): Promise<Post> {
  if (!isValidId(postId)) throw errors.invalidUrlParam('post_id');
  return editOwnPost(runtime, user, postId, readChanges(body, false));
}

/**
 * `DELETE /api/v4/posts/{post_id}`: a soft delete (`delete_at` and `update_at` set, `deleteBy` in
 * the props, as Mattermost), after which the post reads as 404. Deleting a reply lowers its root's
 * `reply_count` in the same transaction; deleting a root deletes its replies (at most
 * MAX_THREAD_REPLIES of them, those listed in its thread).
 */
export async function deletePost(runtime: Runtime, user: User, postId: string): Promise<{ status: 'OK' }> {
  if (!isValidId(postId)) throw errors.invalidUrlParam('post_id');
  for (let attempt = 0; attempt < MAX_EDIT_ATTEMPTS; attempt++) {
    await backoff(attempt);
    const post = await ownPost(runtime, user, postId);
    const nowMs = Math.max(runtime.nowMs(), post.update_at + 1);
    const deleted: Post = { ...post, delete_at: nowMs, update_at: nowMs, props: { ...post.props, deleteBy: user.id } };
    // A root takes its replies with it, as in Mattermost: they go first, so that a failure
    // halfway leaves the root in place and the delete can be repeated.
    if (post.root_id === '') {
      const replies = await runtime.posts.repliesOf(post.id, MAX_THREAD_REPLIES);
      await runtime.posts.softDeleteReplies(post.id, replies, post.channel_id, nowMs);
    }
    const root = post.root_id === '' ? undefined : await runtime.posts.getPost(post.root_id);
    const replyOf = root && root.reply_count > 0 ? { rootId: root.id } : undefined;
    if (await runtime.posts.writeEdit(deleted, replyOf)) return { status: 'OK' };
  }
  throw editConflict();
}
