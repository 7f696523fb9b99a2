import { gzipSync } from 'node:zlib';
import {
  BatchGetCommand,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { Post, PostOrigin, Reaction } from '../model.js';
import { isConditionFailure, queryAll } from './dynamo.js';
import { indexes, keys } from './keys.js';
import { markUnreadable, readStoredObject } from './stored-json.js';

/**
 * Props are stored as JSON text, not as a DynamoDB map: props may hold numbers beyond DynamoDB's
 * range and keys DynamoDB refuses (the empty string). Mattermost allows 800 000 runes of props,
 * more than DynamoDB's 400 KB item, so large props are stored gzipped.
 */
const COMPRESS_PROPS_ABOVE_BYTES = 32 * 1024;
/** Leaves room below DynamoDB's 400 KB item limit for the other attributes and the key names. */
export const MAX_STORED_POST_BYTES = 380 * 1024;

/** A post of these ids is stored already (a retried delivery finds its earlier attempt's reply). */
export class PostExistsError extends Error {
  constructor() {
    super('a post with this id exists already');
    this.name = 'PostExistsError';
  }
}

/** The root of a reply was gone when the reply was written (deleted in between). */
export class RootPostMissingError extends Error {
  constructor() {
    super('the root post of the reply does not exist');
    this.name = 'RootPostMissingError';
  }
}

/**
 * A failed create, told apart by which write's condition failed: the new posts' (they exist) or a
 * root's (it is gone). The transaction lists the posts first.
 */
function classifyCreateFailure(error: unknown, postCount: number): unknown {
  if (!(error instanceof Error)) return error;
  if (error.name === 'ConditionalCheckFailedException') return new PostExistsError();
  if (error.name !== 'TransactionCanceledException') return error;
  const reasons = (error as Error & { CancellationReasons?: Array<{ Code?: string }> }).CancellationReasons ?? [];
  const failed = (from: number, to?: number) => reasons.slice(from, to).some((reason) => reason.Code === 'ConditionalCheckFailed');
  if (failed(0, postCount)) return new PostExistsError();
  if (failed(postCount)) return new RootPostMissingError();
  return error;
}

export class PostTooLargeError extends Error {
  constructor(readonly sizeBytes: number) {
    super(`post needs ${sizeBytes} bytes of storage, more than ${MAX_STORED_POST_BYTES}`);
    this.name = 'PostTooLargeError';
  }
}

/** A UTF-16 string needs at most 3 bytes per unit in UTF-8: a cheap bound before counting bytes. */
const maxUtf8Bytes = (text: string) => text.length * 3;

function toItem(post: Post): Record<string, unknown> {
  const propsJson = JSON.stringify(post.props);
  // Only props that may exceed the threshold are measured exactly (this runs on every write).
  const compress = maxUtf8Bytes(propsJson) > COMPRESS_PROPS_ABOVE_BYTES && Buffer.byteLength(propsJson, 'utf8') > COMPRESS_PROPS_ABOVE_BYTES;
  const compressed = compress ? gzipSync(propsJson) : undefined;
  const order = keys.postOrder(post.create_at, post.id);
  const channelKey = keys.postsOfChannel(post.channel_id);
  const { PK, SK } = keys.post(post.id);
  const item: Record<string, unknown> = {
    PK,
    SK,
    GSI1PK: channelKey,
    GSI1SK: order,
    id: post.id,
    create_at: post.create_at,
    update_at: post.update_at,
    edit_at: post.edit_at,
    delete_at: post.delete_at,
    is_pinned: post.is_pinned,
    has_reactions: post.has_reactions,
    user_id: post.user_id,
    channel_id: post.channel_id,
    root_id: post.root_id,
    original_id: post.original_id,
    message: post.message,
    type: post.type,
    hashtags: post.hashtags,
    pending_post_id: post.pending_post_id,
    reply_count: post.reply_count,
    last_reply_at: post.last_reply_at,
    metadata_json: JSON.stringify(post.metadata),
  };
  if (compressed) item.props_gz = compressed;
  else item.props_json = propsJson;
  if (post.origin) {
    item.origin_kind = post.origin.kind;
    item.origin_id = post.origin.id;
  }
  // GSI2 (changes by update time) is sparse: a new post enters only GSI1, so it costs two write
  // units, not three; `since` reads take new posts from GSI1 and changed ones from GSI2.
  if (post.update_at !== post.create_at || post.delete_at !== 0) {
    item.GSI2PK = channelKey;
    item.GSI2SK = keys.postOrder(post.update_at, post.id);
  }
  const worstCaseBytes = maxUtf8Bytes(post.message) + (compressed ? compressed.length : maxUtf8Bytes(propsJson)) + 1024;
  if (worstCaseBytes > MAX_STORED_POST_BYTES) {
    const sizeBytes = Buffer.byteLength(post.message, 'utf8') + (compressed ? compressed.length : Buffer.byteLength(propsJson, 'utf8')) + 1024;
    if (sizeBytes > MAX_STORED_POST_BYTES) throw new PostTooLargeError(sizeBytes);
  }
  return item;
}

/**
 * An ephemeral post's item: in its reader's own partition of GSI1 (the newest page reads it there),
 * and in the channel's GSI2 so that `since` reads find it, filtered to its reader, with a TTL.
 */
function ephemeralItem(post: Post, readerId: string, expiresAtSeconds: number | undefined): Record<string, unknown> {
  return {
    ...toItem(post),
    GSI1PK: keys.ephemeralPostsOf(post.channel_id, readerId),
    GSI2PK: keys.postsOfChannel(post.channel_id),
    GSI2SK: keys.postOrder(post.update_at, post.id),
    ephemeral_for: readerId,
    expires_at: expiresAtSeconds,
  };
}

/** A DynamoDB stream image of a post item back to the post; the id alone when the rest cannot be read. */
export function postFromStreamImage(image: Record<string, AttributeValue>): { postId: string; post?: Post; error?: unknown } {
  const postId = image.id?.S ?? '';
  try {
    return { postId, post: postFromItem(unmarshall(image)) };
  } catch (error) {
    return { postId, error };
  }
}

/**
 * A stored post item back to the post. Props or metadata that cannot be read (JSON that does not
 * parse, gzip that does not inflate, nesting deeper than reads allow) are read as `{}` and logged,
 * so one bad item never fails a read of its channel. Such a post is marked (`unreadableReason`),
 * and the outgoing-webhook dispatch refuses it, so the posts stream parks it until it is mended.
 */
export function postFromItem(item: Record<string, unknown>): Post {
  const problems: string[] = [];
  return markUnreadable({
    id: String(item.id),
    create_at: Number(item.create_at),
    update_at: Number(item.update_at),
    edit_at: Number(item.edit_at ?? 0),
    delete_at: Number(item.delete_at ?? 0),
    is_pinned: Boolean(item.is_pinned),
    has_reactions: Boolean(item.has_reactions),
    user_id: String(item.user_id),
    channel_id: String(item.channel_id),
    root_id: String(item.root_id ?? ''),
    original_id: String(item.original_id ?? ''),
    message: String(item.message ?? ''),
    type: String(item.type ?? ''),
    props: readStoredObject(item, 'props', problems),
    hashtags: String(item.hashtags ?? ''),
    pending_post_id: String(item.pending_post_id ?? ''),
    reply_count: Number(item.reply_count ?? 0),
    last_reply_at: Number(item.last_reply_at ?? 0),
    metadata: readStoredObject(item, 'metadata', problems) as Post['metadata'],
    ...(typeof item.ephemeral_for === 'string' ? { ephemeral_for: item.ephemeral_for } : {}),
    ...(typeof item.origin_kind === 'string' && typeof item.origin_id === 'string'
      ? { origin: { kind: item.origin_kind as PostOrigin['kind'], id: item.origin_id } }
      : {}),
  }, problems);
}

export interface ChannelPage {
  /** Newest first. */
  posts: Post[];
  /** The post just newer than the page, if any. */
  newerPostId: string;
  /** The post just older than the page, if any. */
  olderPostId: string;
}

/** Mattermost caps `since` reads at 1000 posts. */
const MAX_SINCE_POSTS = 1000;

export class PostStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  /**
   * Stores new posts: one PutItem for one root post; all or none in a transaction for several
   * (splits) or for replies. A reply's root gets its `reply_count` raised, its `last_reply_at` and
   * `update_at` set (and so enters the channel's changes, GSI2) in the same transaction as the
   * reply, so the count never parts from the replies whatever path creates them; each reply is
   * also listed in its root's partition (keys.threadReply) for thread reads.
   * `triggerWebhooks` marks posts whose stream record must reach the outgoing-webhook dispatcher.
   * Writes that only keep counters set `quiet_change`, which tells the live events' stream consumer
   * that clients need no event; a replacing Put drops it (lib/live/stream.ts).
   */
  async createPosts(posts: Post[], options: { triggerWebhooks?: boolean } = {}): Promise<void> {
    const items = posts.map((post) => {
      const item = toItem(post);
      if (options.triggerWebhooks) item.trigger_webhooks = true;
      return item;
    });
    const roots = new Map<string, { channelId: string; replies: number; lastReplyAt: number }>();
    for (const post of posts) {
      if (post.root_id === '') continue;
      const root = roots.get(post.root_id) ?? { channelId: post.channel_id, replies: 0, lastReplyAt: 0 };
      root.replies += 1;
      root.lastReplyAt = Math.max(root.lastReplyAt, post.create_at);
      roots.set(post.root_id, root);
    }
    try {
      await this.writePostItems(posts, items, roots);
    } catch (error) {
      throw classifyCreateFailure(error, items.length);
    }
  }

  private async writePostItems(
    posts: Post[],
    items: Record<string, unknown>[],
    roots: Map<string, { channelId: string; replies: number; lastReplyAt: number }>,
  ): Promise<void> {
    if (items.length === 1 && roots.size === 0) {
      await this.db.send(
        new PutCommand({ TableName: this.table, Item: items[0], ConditionExpression: 'attribute_not_exists(PK)' }),
      );
      return;
    }
    await this.db.send(
      new TransactWriteCommand({
        TransactItems: [
          ...items.map((Item) => ({
            Put: { TableName: this.table, Item, ConditionExpression: 'attribute_not_exists(PK)' },
          })),
          ...posts
            .filter((post) => post.root_id !== '')
            .map((post) => ({
              Put: {
                TableName: this.table,
                Item: { ...keys.threadReply(post.root_id, post.create_at, post.id), kind: 'thread_reply', post_id: post.id },
              },
            })),
          ...[...roots].map(([rootId, root]) => ({
            Update: {
              TableName: this.table,
              Key: keys.post(rootId),
              UpdateExpression:
                'SET reply_count = if_not_exists(reply_count, :zero) + :replies, last_reply_at = :last, update_at = :last, GSI2PK = :channel, GSI2SK = :order, quiet_change = :quiet',
              ConditionExpression: 'attribute_exists(PK)',
              ExpressionAttributeValues: {
                ':zero': 0,
                ':replies': root.replies,
                ':last': root.lastReplyAt,
                ':channel': keys.postsOfChannel(root.channelId),
                ':order': keys.postOrder(root.lastReplyAt, rootId),
                ':quiet': true,
              },
            },
          })),
        ],
      }),
    );
  }

  /**
   * Stores a post only `userId` may see (a slash command's ephemeral answer). It sits outside the
   * channel's pages, never triggers webhooks, and expires by itself (TTL).
   */
  async createEphemeralPost(post: Post, userId: string, expiresAtSeconds: number): Promise<void> {
    const item = ephemeralItem(post, userId, expiresAtSeconds);
    await this.db.send(new PutCommand({ TableName: this.table, Item: item, ConditionExpression: 'attribute_not_exists(PK)' }));
  }

  /** The unexpired ephemeral posts of a channel for one user, newest first. */
  async ephemeralPostsFor(channelId: string, userId: string, nowMs: number, limit = 100): Promise<Post[]> {
    const items = await queryAll(
      this.db,
      {
        TableName: this.table,
        IndexName: indexes.byParent,
        KeyConditionExpression: 'GSI1PK = :partition',
        ExpressionAttributeValues: { ':partition': keys.ephemeralPostsOf(channelId, userId) },
        ScanIndexForward: false,
      },
      limit,
    );
    // TTL deletes lazily, so expired items can still be read for a while.
    return items.filter((item) => Number(item.expires_at ?? Infinity) * 1000 > nowMs).map(postFromItem);
  }

  /**
   * Replaces a stored post with its updated version, where it is indexed: a channel's pages, or,
   * for an ephemeral post, its user's partition (with a fresh expiry, `ephemeralExpiresAtSeconds`).
   */
  async updatePost(post: Post, ephemeralExpiresAtSeconds?: number): Promise<void> {
    const audience = post.ephemeral_for;
    const item = audience === undefined ? toItem(post) : ephemeralItem(post, audience, ephemeralExpiresAtSeconds);
    await this.db.send(new PutCommand({ TableName: this.table, Item: item, ConditionExpression: 'attribute_exists(PK)' }));
  }

  /**
   * Replaces a post with its edited version if nobody changed it since it was read (`update_at`
   * unchanged; a reply raising its root's count changes it too). False when someone did: the
   * caller reads again and retries. `replyOf` also lowers a root's `reply_count` in the same
   * transaction (a reply being deleted).
   */
  async replacePostIfUnchanged(post: Post, seenUpdateAt: number, replyOf?: { rootId: string }): Promise<boolean> {
    const put = {
      TableName: this.table,
      Item: toItem(post),
      ConditionExpression: 'attribute_exists(PK) AND update_at = :seen',
      ExpressionAttributeValues: { ':seen': seenUpdateAt },
    };
    try {
      if (!replyOf) {
        await this.db.send(new PutCommand(put));
        return true;
      }
      await this.db.send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: put },
            {
              Update: {
                TableName: this.table,
                Key: keys.post(replyOf.rootId),
                UpdateExpression: 'SET reply_count = reply_count - :one, update_at = :now, GSI2PK = :channel, GSI2SK = :order, quiet_change = :quiet',
                ConditionExpression: 'attribute_exists(PK)',
                ExpressionAttributeValues: {
                  ':one': 1,
                  ':now': post.update_at,
                  ':channel': keys.postsOfChannel(post.channel_id),
                  ':order': keys.postOrder(post.update_at, replyOf.rootId),
                  ':quiet': true,
                },
              },
            },
          ],
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /** A post's reactions, at most `limit`, by user then emoji. */
  async reactionsOf(postId: string, limit: number): Promise<Reaction[]> {
    const items = await queryAll(
      this.db,
      {
        TableName: this.table,
        KeyConditionExpression: 'PK = :post AND begins_with(SK, :prefix)',
        ExpressionAttributeValues: { ':post': keys.post(postId).PK, ':prefix': keys.reactionsPrefix() },
      },
      limit,
    );
    return items.map((item) => ({
      user_id: String(item.user_id),
      post_id: String(item.post_id),
      emoji_name: String(item.emoji_name),
      create_at: Number(item.create_at),
      update_at: Number(item.update_at ?? item.create_at),
      delete_at: 0,
      remote_id: '',
      channel_id: String(item.channel_id ?? ''),
    }));
  }

  /**
   * Stores a reaction (again: a repeat replaces it) and marks its post `has_reactions`, with a new
   * `update_at` so the change shows in `since` reads, in one transaction; false if the post is gone.
   */
  async addReaction(reaction: Reaction): Promise<boolean> {
    try {
      await this.db.send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName: this.table, Item: { ...keys.reaction(reaction.post_id, reaction.user_id, reaction.emoji_name), kind: 'reaction', ...reaction } } },
            this.reactionsChanged(reaction.post_id, reaction.channel_id, true, reaction.create_at),
          ],
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /** Removes a reaction; the post keeps `has_reactions` while others remain (`othersRemain`). */
  async removeReaction(postId: string, channelId: string, userId: string, emojiName: string, othersRemain: boolean, nowMs: number): Promise<void> {
    try {
      await this.db.send(
        new TransactWriteCommand({
          TransactItems: [
            { Delete: { TableName: this.table, Key: keys.reaction(postId, userId, emojiName) } },
            this.reactionsChanged(postId, channelId, othersRemain, nowMs),
          ],
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  private reactionsChanged(postId: string, channelId: string, hasReactions: boolean, nowMs: number) {
    return {
      Update: {
        TableName: this.table,
        Key: keys.post(postId),
        UpdateExpression: 'SET has_reactions = :has, update_at = :now, GSI2PK = :channel, GSI2SK = :order, quiet_change = :quiet',
        ConditionExpression: 'attribute_exists(PK) AND delete_at = :zero',
        ExpressionAttributeValues: {
          ':has': hasReactions,
          ':now': nowMs,
          ':zero': 0,
          ':channel': keys.postsOfChannel(channelId),
          ':order': keys.postOrder(nowMs, postId),
          ':quiet': true,
        },
      },
    };
  }

  /**
   * Soft-deletes posts of one channel that are not deleted yet (a deleted root's replies): one
   * UpdateItem each, entering the channel's changes (GSI2) so `since` reads see them go.
   */
  async softDeletePosts(postIds: string[], channelId: string, nowMs: number): Promise<void> {
    for (const postId of postIds) {
      try {
        await this.db.send(
          new UpdateCommand({
            TableName: this.table,
            Key: keys.post(postId),
            UpdateExpression: 'SET delete_at = :now, update_at = :now, GSI2PK = :channel, GSI2SK = :order REMOVE quiet_change',
            ConditionExpression: 'attribute_exists(PK) AND delete_at = :zero',
            ExpressionAttributeValues: { ':now': nowMs, ':zero': 0, ':channel': keys.postsOfChannel(channelId), ':order': keys.postOrder(nowMs, postId) },
          }),
        );
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
    }
  }

  /** The ids of a root's replies, oldest first, at most `limit`. */
  async replyIdsOf(rootId: string, limit: number): Promise<string[]> {
    const items = await queryAll(
      this.db,
      {
        TableName: this.table,
        KeyConditionExpression: 'PK = :root AND begins_with(SK, :prefix)',
        ExpressionAttributeValues: { ':root': keys.post(rootId).PK, ':prefix': keys.threadRepliesPrefix() },
      },
      limit,
    );
    return items.map((item) => String(item.post_id));
  }

  async getPost(postId: string): Promise<Post | undefined> {
    const result = await this.db.send(new GetCommand({ TableName: this.table, Key: keys.post(postId) }));
    return result.Item ? postFromItem(result.Item) : undefined;
  }

  async getPosts(postIds: string[]): Promise<Post[]> {
    const unique = [...new Set(postIds)];
    const found: Post[] = [];
    for (let start = 0; start < unique.length; start += 100) {
      let request: Record<string, { Keys: Record<string, unknown>[] }> | undefined = {
        [this.table]: { Keys: unique.slice(start, start + 100).map((id) => ({ ...keys.post(id) })) },
      };
      while (request && Object.keys(request).length > 0) {
        const result = await this.db.send(new BatchGetCommand({ RequestItems: request }));
        for (const item of result.Responses?.[this.table] ?? []) found.push(postFromItem(item));
        request = result.UnprocessedKeys as typeof request;
      }
    }
    return found;
  }

  private async queryChannel(
    channelId: string,
    options: { newestFirst: boolean; limit: number; boundary?: { operator: '<' | '>'; sortKey: string } },
  ): Promise<Post[]> {
    const items = await queryAll(
      this.db,
      {
        TableName: this.table,
        IndexName: indexes.byParent,
        KeyConditionExpression: options.boundary
          ? `GSI1PK = :channel AND GSI1SK ${options.boundary.operator} :boundary`
          : 'GSI1PK = :channel',
        ExpressionAttributeValues: {
          ':channel': keys.postsOfChannel(channelId),
          ...(options.boundary ? { ':boundary': options.boundary.sortKey } : {}),
        },
        ScanIndexForward: !options.newestFirst,
      },
      options.limit,
    );
    return items.map(postFromItem);
  }

  /** Page `page` of `perPage` posts, newest first, optionally only posts older or newer than a post. */
  async pageOfChannel(
    channelId: string,
    page: number,
    perPage: number,
    relativeTo?: { post: Post; direction: 'before' | 'after' },
  ): Promise<ChannelPage> {
    const skip = page * perPage;
    if (relativeTo?.direction === 'after') {
      // Oldest first from the anchor, then flipped so the page reads newest first.
      const ascending = await this.queryChannel(channelId, {
        newestFirst: false,
        limit: skip + perPage + 1,
        boundary: { operator: '>', sortKey: keys.postOrder(relativeTo.post.create_at, relativeTo.post.id) },
      });
      const slice = ascending.slice(skip, skip + perPage);
      return {
        posts: slice.reverse(),
        newerPostId: ascending[skip + perPage]?.id ?? '',
        olderPostId: skip === 0 ? relativeTo.post.id : (ascending[skip - 1]?.id ?? ''),
      };
    }
    const descending = await this.queryChannel(channelId, {
      newestFirst: true,
      limit: skip + perPage + 1,
      ...(relativeTo
        ? { boundary: { operator: '<' as const, sortKey: keys.postOrder(relativeTo.post.create_at, relativeTo.post.id) } }
        : {}),
    });
    return {
      posts: descending.slice(skip, skip + perPage),
      newerPostId: skip === 0 ? (relativeTo?.post.id ?? '') : (descending[skip - 1]?.id ?? ''),
      olderPostId: descending[skip + perPage]?.id ?? '',
    };
  }

  /**
   * Mattermost's `since`: posts of the channel created or changed after `sinceMs`, with the reader's
   * own ephemeral posts, newest first, at most 1000. Two queries: new posts from GSI1 (by creation),
   * changed posts and ephemeral ones from the sparse GSI2 (by update), others' ephemeral posts
   * filtered out there.
   */
  async changedSince(channelId: string, sinceMs: number, readerId: string, nowMs: number): Promise<Post[]> {
    // '~' sorts after every id character, so posts at exactly `sinceMs` are excluded.
    const after = keys.postOrder(sinceMs, '~');
    const [created, changed] = await Promise.all([
      queryAll(
        this.db,
        {
          TableName: this.table,
          IndexName: indexes.byParent,
          KeyConditionExpression: 'GSI1PK = :channel AND GSI1SK > :since',
          ExpressionAttributeValues: { ':channel': keys.postsOfChannel(channelId), ':since': after },
        },
        MAX_SINCE_POSTS,
      ),
      queryAll(
        this.db,
        {
          TableName: this.table,
          IndexName: indexes.byUpdate,
          KeyConditionExpression: 'GSI2PK = :channel AND GSI2SK > :since',
          FilterExpression: 'attribute_not_exists(ephemeral_for) OR ephemeral_for = :reader',
          ExpressionAttributeValues: { ':channel': keys.postsOfChannel(channelId), ':since': after, ':reader': readerId },
        },
        MAX_SINCE_POSTS,
      ),
    ]);
    const byId = new Map<string, Post>();
    for (const item of [...created, ...changed]) {
      // TTL deletes lazily, so an expired ephemeral post can still be read for a while.
      if (Number(item.expires_at ?? Infinity) * 1000 <= nowMs) continue;
      const post = postFromItem(item);
      const known = byId.get(post.id);
      if (!known || post.update_at > known.update_at) byId.set(post.id, post);
    }
    return [...byId.values()].sort((a, b) => b.create_at - a.create_at || (a.id < b.id ? 1 : -1)).slice(0, MAX_SINCE_POSTS);
  }

}
