/**
 * The posts table's stream turned into live events: a new post is `posted`, a replaced post
 * `post_edited` (or `post_deleted` once deleted), a reaction item written or removed
 * `reaction_added` / `reaction_removed`. Writes that only keep counters (a root's reply count, a
 * post's `has_reactions`) are marked `quiet_change` by the posts store and send nothing, as in
 * Mattermost. New ephemeral posts are skipped here: their writer publishes them at once.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import type { Runtime } from '../runtime.js';
import type { Post, Reaction } from '../model.js';
import { postFromStreamImage } from '../store/posts.js';
import { keys } from '../store/keys.js';
import { postDeletedEvent, postEditedEvent, postedEvent, reactionEvent } from './events.js';
import { publishToChannel, type DeliveryCounts } from './live.js';

/** Mattermost's mention keys that notify a whole channel. */
const CHANNEL_WIDE_MENTION = /(^|[^\w])@(channel|all|here)\b/i;
const USER_MENTION = /(?:^|[^\w@])@([a-z0-9][a-z0-9._-]*[a-z0-9_-]|[a-z0-9])/gi;

/** What the stream record becomes, published; undefined when it sends nothing. */
export async function publishStreamRecord(runtime: Runtime, record: DynamoDBRecord): Promise<DeliveryCounts | undefined> {
  const keyImage = record.dynamodb?.Keys as Record<string, AttributeValue> | undefined;
  const partition = keyImage?.PK?.S ?? '';
  const sortKey = keyImage?.SK?.S ?? '';
  const image = record.dynamodb?.NewImage as Record<string, AttributeValue> | undefined;
  if (!partition.startsWith('POST#')) return undefined;
  if (sortKey === keys.postSortKey()) {
    if (!image || record.eventName === 'REMOVE' || image.quiet_change?.BOOL === true) return undefined;
    const { post } = postFromStreamImage(image);
    if (!post) return undefined;
    if (record.eventName === 'INSERT') return post.ephemeral_for === undefined ? publishPosted(runtime, post) : undefined;
    const event = post.delete_at !== 0 ? postDeletedEvent(post, runtime.config) : postEditedEvent(post, runtime.config);
    return publishToChannel(runtime, post.channel_id, event, post);
  }
  const fromKey = keys.reactionFromSortKey(sortKey);
  if (!fromKey) return undefined;
  const postId = partition.slice('POST#'.length);
  if (record.eventName === 'REMOVE') {
    // A removed item's record has only its keys; the channel comes from the post.
    const post = await runtime.posts.getPost(postId);
    if (!post) return undefined;
    const nowMs = runtime.nowMs();
    const reaction: Reaction = { user_id: fromKey.userId, post_id: postId, emoji_name: fromKey.emojiName, create_at: 0, update_at: nowMs, delete_at: nowMs, remote_id: '', channel_id: post.channel_id };
    return publishToChannel(runtime, post.channel_id, reactionEvent('reaction_removed', reaction), post);
  }
  if (!image) return undefined;
  const item = unmarshall(image);
  const reaction: Reaction = {
    user_id: String(item.user_id),
    post_id: String(item.post_id),
    emoji_name: String(item.emoji_name),
    create_at: Number(item.create_at ?? 0),
    update_at: Number(item.update_at ?? item.create_at ?? 0),
    delete_at: 0,
    remote_id: '',
    channel_id: String(item.channel_id ?? ''),
  };
  return publishToChannel(runtime, reaction.channel_id, reactionEvent('reaction_added', reaction));
}

function publishPosted(runtime: Runtime, post: Post): Promise<DeliveryCounts | undefined> {
  return publishToChannel(
    runtime,
    post.channel_id,
    async () => {
      const channel = await runtime.directory.channel(post.channel_id);
      if (!channel) return undefined;
      const sender = await runtime.directory.user(post.user_id);
      const mentions = await mentionedMembers(runtime, post);
      return postedEvent(post, { channel, senderUsername: sender?.username ?? '', mentions }, runtime.config);
    },
    post,
  );
}

/** The channel members a post mentions by `@username`, or all of them (but the sender) for `@channel`, `@all`, `@here`. */
async function mentionedMembers(runtime: Runtime, post: Post): Promise<string[]> {
  if (!post.message.includes('@')) return [];
  if (CHANNEL_WIDE_MENTION.test(post.message)) {
    return (await runtime.entities.channelMemberIds(post.channel_id, 100_000)).filter((userId) => userId !== post.user_id);
  }
  const usernames = [...post.message.matchAll(USER_MENTION)].map((match) => match[1]!.replace(/[._-]+$/, '').toLowerCase());
  if (usernames.length === 0) return [];
  const users = await runtime.directory.usersByUsernames(usernames.slice(0, 100));
  const mentioned: string[] = [];
  for (const user of users.values()) {
    if (user.id !== post.user_id && (await runtime.directory.isChannelMember(post.channel_id, user.id))) mentioned.push(user.id);
  }
  return mentioned;
}
