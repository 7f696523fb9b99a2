/**
 * Reactions: `POST /api/v4/reactions`, `DELETE /api/v4/users/{user_id}/posts/{post_id}/reactions/{emoji_name}`,
 * `GET /api/v4/posts/{post_id}/reactions`, as Mattermost's, for members of the post's channel,
 * each user adding and removing their own (others' need `remove_others_reactions`: system admins,
 * not modelled yet, so 403).
 */
import { AppError, errors } from '../errors.js';
import { isValidId } from '../ids.js';
import { MAX_REACTIONS_READ, MAX_UNIQUE_EMOJIS_PER_POST } from '../limits.js';
import type { Post, Reaction, User } from '../model.js';
import type { Runtime } from '../runtime.js';
import { isPlainObject } from '../http/go-json.js';
import { checkChannelOpenForPosts } from './rules.js';
import { postNotFound, readablePost } from './visibility.js';

/** Mattermost's emoji name rule (`model.IsValidEmojiName` through `Reaction.IsValid`): 1 to 64 of `a-zA-Z0-9-+_`. */
export function isValidEmojiName(name: string): boolean {
  return name.length >= 1 && name.length <= 64 && /^[a-zA-Z0-9\-+_]+$/.test(name);
}

const invalidReaction = () => new AppError('api.reaction.save_reaction.invalid.app_error', 'Reaction is not valid.', 400);

/** The post a reaction may go on: readable by the caller, stored (not ephemeral). */
async function reactablePost(runtime: Runtime, user: User, postId: string): Promise<Post> {
  const { post, channel } = await readablePost(runtime, user, postId);
  if (post.ephemeral_for !== undefined) throw postNotFound();
  checkChannelOpenForPosts(channel);
  return post;
}

/** `POST /api/v4/reactions` with `{user_id, post_id, emoji_name}`: 200 with the reaction; a repeat is the same reaction. */
export async function saveReaction(runtime: Runtime, user: User, body: unknown): Promise<Reaction> {
  if (!isPlainObject(body)) throw errors.invalidBodyParam('reaction');
  const { user_id: userId, post_id: postId, emoji_name: emojiName } = body as Record<string, unknown>;
  if (typeof userId !== 'string' || typeof postId !== 'string' || typeof emojiName !== 'string') throw invalidReaction();
  if (!isValidId(userId) || !isValidId(postId) || !isValidEmojiName(emojiName)) throw invalidReaction();
  if (userId !== user.id) {
    throw new AppError('api.reaction.save_reaction.user_id.app_error', 'You cannot save reaction for the other user.', 403);
  }
  const post = await reactablePost(runtime, user, postId);
  const existing = await runtime.posts.reactionsOf(post.id, MAX_REACTIONS_READ);
  const emojis = new Set(existing.map((reaction) => reaction.emoji_name));
  if (!emojis.has(emojiName) && emojis.size >= MAX_UNIQUE_EMOJIS_PER_POST) {
    throw new AppError('app.reaction.save.save.too_many_reactions', 'Reaction limit has been reached for this post.', 400);
  }
  const nowMs = runtime.nowMs();
  const reaction: Reaction = {
    user_id: user.id,
    post_id: post.id,
    emoji_name: emojiName,
    create_at: nowMs,
    update_at: nowMs,
    delete_at: 0,
    remote_id: '',
    channel_id: post.channel_id,
  };
  if (!(await runtime.posts.addReaction(reaction, post))) throw postNotFound();
  return reaction;
}

/** `DELETE /api/v4/users/{user_id}/posts/{post_id}/reactions/{emoji_name}`: `{"status":"OK"}`, also when there was none. */
export async function deleteReaction(runtime: Runtime, user: User, userIdParam: string, postId: string, emojiName: string): Promise<{ status: 'OK' }> {
  const userId = userIdParam === 'me' ? user.id : userIdParam;
  if (!isValidId(userId)) throw errors.invalidUrlParam('user_id');
  if (!isValidId(postId)) throw errors.invalidUrlParam('post_id');
  if (!isValidEmojiName(emojiName)) throw errors.invalidUrlParam('emoji_name');
  const post = await reactablePost(runtime, user, postId);
  if (userId !== user.id) throw errors.permissions();
  // Whether another reaction remains needs two at most: this one and any other.
  const others = (await runtime.posts.reactionsOf(post.id, 2)).filter(
    (reaction) => !(reaction.user_id === userId && reaction.emoji_name === emojiName),
  );
  await runtime.posts.removeReaction(post, userId, emojiName, others.length > 0, runtime.nowMs());
  return { status: 'OK' };
}

/** `GET /api/v4/posts/{post_id}/reactions`: the post's reactions, oldest first (`[]` when none). */
export async function getReactions(runtime: Runtime, user: User, postId: string): Promise<Reaction[]> {
  const { post } = await readablePost(runtime, user, postId);
  const reactions = await runtime.posts.reactionsOf(post.id, MAX_REACTIONS_READ);
  return reactions.sort((a, b) => a.create_at - b.create_at);
}
