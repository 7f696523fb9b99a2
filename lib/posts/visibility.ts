/**
 * The one rule for what a user may see of a stored post: a post that is not deleted, in a channel
 * the user belongs to, and, when ephemeral, meant for that user. Reads, clicks and command threads
 * all go through it, so no path shows what another refuses.
 */
import { AppError, errors } from '../errors.js';
import { isValidId } from '../ids.js';
import type { Channel, Post, User } from '../model.js';
import type { Runtime } from '../runtime.js';

export const postNotFound = () => new AppError('app.post.get.app_error', 'Unable to get the post.', 404);

/** The part of the rule that needs no read: not deleted, and not someone else's ephemeral post. */
export function isVisibleTo(post: Post | undefined, userId: string): post is Post {
  return post !== undefined && post.delete_at === 0 && (post.ephemeral_for === undefined || post.ephemeral_for === userId);
}

/** The channel, if the user may read and post in it. Unknown channels answer 403 as in Mattermost. */
export async function channelForMember(runtime: Runtime, user: User, channelId: string): Promise<Channel> {
  const channel = await runtime.directory.channel(channelId);
  if (!channel || !(await runtime.directory.isChannelMember(channel.id, user.id))) throw errors.permissions();
  return channel;
}

/** A post the user may see, with its channel: 404 for a post they may not know of, 403 outside its channel. */
export async function readablePost(runtime: Runtime, user: User, postId: string, options: { consistent?: boolean } = {}): Promise<{ post: Post; channel: Channel }> {
  if (!isValidId(postId)) throw errors.invalidUrlParam('post_id');
  const post = await runtime.posts.getPost(postId, options);
  if (!isVisibleTo(post, user.id)) throw postNotFound();
  return { post, channel: await channelForMember(runtime, user, post.channel_id) };
}

/**
 * Whether a user receives a live event about a post of a channel: members only, and of an
 * ephemeral post only its user. Deleted posts still reach members (the event says they are gone).
 */
export function receivesEventsOf(post: Pick<Post, 'ephemeral_for'> | undefined, userId: string, isMember: boolean): boolean {
  return isMember && (post?.ephemeral_for === undefined || post.ephemeral_for === userId);
}
