import { gzipSync } from 'node:zlib';
import {
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  TransactWriteCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { Post, PostOrigin, Reaction } from '../model.js';
import { batchGetAll, conditionHeld, isConditionFailure, queryAll } from './dynamo.js';
import { indexes, keys, type Key } from './keys.js';
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
  // GSI1 (the channel's posts by creation) lists posts that are not deleted: a deleted post leaves
  // the channel's pages, as in Mattermost, and `since` reads learn of it from GSI2.
  if (post.delete_at === 0) {
    item.GSI1PK = channelKey;
    item.GSI1SK = order;
  }
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
 * A reply's thread entry holds a copy of the reply when its stored item is at most this size, so
 * that a thread is read whole with one Query of its root's partition. Every write that changes a
 * reply changes its copy in the same transaction. It holds a message of about 15 000 characters of
 * ASCII with small props (Mattermost allows 16 383). Above it the entry holds the id alone and the thread read fetches the reply
 * by key: a copy adds two write units per KB past the first (a transaction bills two per KB of each
 * item) to the reply's writes, and past this size a request saved on rare threads is not worth it.
 */
export const MAX_THREAD_COPY_BYTES = 16 * 1024;
/** Rounds of a reply's change with its thread entry (an entry that appears or goes, a conflicting transaction). */
const MAX_THREAD_ENTRY_ATTEMPTS = 5;

/** The attributes that place an item (its keys, its index entries, stream markers) rather than describe its post. */
const PLACEMENT_ATTRIBUTES = ['PK', 'SK', 'GSI1PK', 'GSI1SK', 'GSI2PK', 'GSI2SK', 'trigger_webhooks', 'quiet_change'];

/** A post item's attributes without those that place it: a copy kept in another item (a thread entry, a bundle). */
function withoutPlacement(item: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(item).filter(([name]) => !PLACEMENT_ATTRIBUTES.includes(name)));
}

/** An item's stored size as DynamoDB counts it (names and values), near enough for a threshold, with `stringBytes` measuring strings. */
function itemBytes(item: Record<string, unknown>, stringBytes: (text: string) => number): number {
  let bytes = 0;
  for (const [name, value] of Object.entries(item)) {
    bytes += name.length + 8;
    if (typeof value === 'string') bytes += stringBytes(value);
    else if (value instanceof Uint8Array) bytes += value.length;
    else bytes += 32;
  }
  return bytes;
}

/** An upper bound of an item's stored size: every string counted at 3 bytes a unit, names included. */
const itemBytesAtMost = (item: Record<string, unknown>) => itemBytes(item, maxUtf8Bytes);
/** An item's stored size with its strings in UTF-8. */
const itemBytesExactly = (item: Record<string, unknown>) => itemBytes(item, (text) => Buffer.byteLength(text, 'utf8'));

/**
 * A reply's entry in its root's partition (keys.threadReply), from the reply's stored item: what a
 * thread read lists, with a copy of the reply (`reply_copy`) unless it is larger than MAX_THREAD_COPY_BYTES.
 */
export function threadEntryItem(replyItem: Record<string, unknown>): Record<string, unknown> {
  const replyId = String(replyItem.id);
  const entry = { ...keys.threadReply(String(replyItem.root_id), Number(replyItem.create_at), replyId), kind: 'thread_reply', post_id: replyId };
  // Counted exactly only when the cheap bound says it may be too large (this runs on every reply write).
  if (itemBytesAtMost(replyItem) > MAX_THREAD_COPY_BYTES && itemBytesExactly(replyItem) > MAX_THREAD_COPY_BYTES) return entry;
  return { ...withoutPlacement(replyItem), ...entry, reply_copy: true };
}

/** A post's counters, which reactions and replies change on their own; edits leave them alone. */
const COUNTER_ATTRIBUTES = ['has_reactions', 'reply_count', 'last_reply_at'];
/** The attributes of a post item that one version has and another may not. */
const OPTIONAL_ATTRIBUTES = ['props_json', 'props_gz', 'GSI1PK', 'GSI1SK', 'GSI2PK', 'GSI2SK', 'origin_kind', 'origin_id'];

/**
 * `SET` each of `set`, each of `setIfAbsent` where the item has none, and `REMOVE` each of
 * `remove`, with placeholder names and values.
 */
function updateExpression(set: Record<string, unknown>, remove: string[] = [], setIfAbsent: Record<string, unknown> = {}) {
  const names = Object.keys(set);
  const absentNames = Object.keys(setIfAbsent);
  const assignments = [
    ...names.map((_, index) => `#s${index} = :s${index}`),
    ...absentNames.map((_, index) => `#i${index} = if_not_exists(#i${index}, :i${index})`),
  ];
  const clauses = [];
  if (assignments.length > 0) clauses.push(`SET ${assignments.join(', ')}`);
  if (remove.length > 0) clauses.push(`REMOVE ${remove.map((_, index) => `#r${index}`).join(', ')}`);
  const values = Object.fromEntries([
    ...names.map((name, index) => [`:s${index}`, set[name]]),
    ...absentNames.map((name, index) => [`:i${index}`, setIfAbsent[name]]),
  ]) as Record<string, unknown>;
  return {
    UpdateExpression: clauses.join(' '),
    ExpressionAttributeNames: Object.fromEntries([
      ...names.map((name, index) => [`#s${index}`, name]),
      ...absentNames.map((name, index) => [`#i${index}`, name]),
      ...remove.map((name, index) => [`#r${index}`, name]),
    ]),
    // DynamoDB refuses an empty map (an expression that only removes).
    ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: values } : {}),
  };
}

/** Why DynamoDB cancelled one write of a transaction; `Item` in DynamoDB's own attribute-value form. */
interface CancellationReason {
  Code?: string;
  Item?: Record<string, AttributeValue>;
}

/** A write of a reply's thread entry within a transaction, and the entry's key. */
interface ThreadEntryWrite {
  key: Key;
  write: Record<string, unknown>;
}

/** A reply listed in its root's thread: its post when the entry holds a copy, else its id alone. */
export interface ThreadEntry {
  id: string;
  createAt: number;
  post?: Post;
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

/**
 * The reader's ephemeral posts of a channel are also kept together in one item (the bundle,
 * `keys.ephemeralBundle`), so that the newest page reads them by key in the same BatchGetItem as
 * its thread roots instead of querying for them (two posts-table requests, not three). The bundle
 * is bounded so that writing it stays cheap (a transaction bills two write units per KB) and
 * reading it costs at most a few read units; ephemeral posts it cannot hold keep it marked
 * incomplete until they expire, and readers then query the ephemeral partition as before.
 */
export const MAX_EPHEMERAL_BUNDLE_BYTES = 64 * 1024;
export const MAX_EPHEMERAL_BUNDLE_POSTS = 100;
/** Concurrent writers of one bundle (one user's answers in one channel) retry this often. */
const MAX_BUNDLE_WRITE_ATTEMPTS = 8;

interface Bundle {
  entries: Record<string, Record<string, unknown>>;
  /** Until then (seconds) an ephemeral post the bundle could not hold is unexpired: read the partition. */
  incompleteUntilSeconds: number;
}

/**
 * The bundle with `entry` put in (replacing an entry of the same post), expired entries dropped,
 * and the newest entries kept within the bounds; what does not fit marks the bundle incomplete.
 */
function nextBundle(current: Bundle, postId: string, entry: Record<string, unknown>, nowSeconds: number): Bundle {
  const candidates = Object.entries(current.entries)
    .filter(([id, kept]) => id !== postId && Number(kept.expires_at ?? 0) > nowSeconds)
    .concat([[postId, entry]])
    .sort(([, a], [, b]) => Number(b.create_at) - Number(a.create_at));
  const entries: Record<string, Record<string, unknown>> = {};
  let incompleteUntilSeconds = current.incompleteUntilSeconds > nowSeconds ? current.incompleteUntilSeconds : 0;
  let bytes = 0;
  let count = 0;
  for (const [id, candidate] of candidates) {
    const size = itemBytesAtMost(candidate);
    if (count < MAX_EPHEMERAL_BUNDLE_POSTS && bytes + size <= MAX_EPHEMERAL_BUNDLE_BYTES) {
      entries[id] = candidate;
      bytes += size;
      count++;
    } else {
      incompleteUntilSeconds = Math.max(incompleteUntilSeconds, Number(candidate.expires_at ?? 0));
    }
  }
  return { entries, incompleteUntilSeconds };
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
    ...(typeof item.content_version === 'number' ? { content_version: item.content_version } : {}),
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

/**
 * Where a post sits in its channel's pages and threads. None of it changes once the post is
 * written (edits, reactions and deletes keep a post's channel, creation time, root and audience),
 * so an instance may remember it for as long as it likes without ever being wrong.
 */
export interface PostCoordinates {
  channelId: string;
  createAtMs: number;
  rootId: string;
  ephemeralFor: string | undefined;
}

/** Coordinates remembered per instance: about 200 bytes each, so at most a few MB. */
export const MAX_REMEMBERED_POST_COORDINATES = 20_000;

/** A bounded map, least recently used first out. */
class CoordinatesCache {
  private readonly entries = new Map<string, PostCoordinates>();

  get(postId: string): PostCoordinates | undefined {
    const found = this.entries.get(postId);
    if (found) {
      this.entries.delete(postId);
      this.entries.set(postId, found);
    }
    return found;
  }

  remember(post: Post): void {
    if (this.entries.has(post.id)) return;
    if (this.entries.size >= MAX_REMEMBERED_POST_COORDINATES) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(post.id, { channelId: post.channel_id, createAtMs: post.create_at, rootId: post.root_id, ephemeralFor: post.ephemeral_for });
  }
}

/** A page's anchor: a post read just now, or one whose coordinates are known, checked by the page's query. */
export type PageAnchor = { id: string; create_at: number; verify: boolean };

/** A transaction of a post and its bundle failed only on the bundle's condition: another writer won, retry. */
function lostBundleRace(error: unknown): boolean {
  if (!(error instanceof Error) || error.name !== 'TransactionCanceledException') return false;
  const reasons = (error as Error & { CancellationReasons?: Array<{ Code?: string }> }).CancellationReasons ?? [];
  return reasons[0]?.Code !== 'ConditionalCheckFailed' && ['ConditionalCheckFailed', 'TransactionConflict'].includes(reasons[1]?.Code ?? '');
}

function readBundle(item: Record<string, unknown> | undefined): Bundle {
  return {
    entries: (item?.entries ?? {}) as Bundle['entries'],
    incompleteUntilSeconds: Number(item?.incomplete_until ?? 0),
  };
}

export class PostStore {
  private readonly coordinates = new CoordinatesCache();

  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  /** The coordinates of a post this instance has read or written, if it remembers them. */
  knownCoordinates(postId: string): PostCoordinates | undefined {
    return this.coordinates.get(postId);
  }

  /** A stored post item back to the post, its coordinates remembered. */
  private read(item: Record<string, unknown>): Post {
    const post = postFromItem(item);
    this.coordinates.remember(post);
    return post;
  }

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
          ...items
            .filter((item) => item.root_id !== '')
            .map((item) => ({
              Put: { TableName: this.table, Item: threadEntryItem(item) },
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
   * channel's pages, never triggers webhooks, and expires by itself (TTL). It is written with its
   * copy in the reader's bundle, in one transaction, so the two never disagree.
   */
  async createEphemeralPost(post: Post, userId: string, expiresAtSeconds: number): Promise<void> {
    await this.writeEphemeral(ephemeralItem(post, userId, expiresAtSeconds), 'attribute_not_exists(PK)');
    // An ephemeral reply does not change its root (no reply_count): list the root with the changes.
    await this.listRootAmongChanges(post, post.update_at);
  }

  /**
   * Puts an ephemeral post's item in its reader's bundle, and, unless `postCondition` is undefined
   * (a backfill of the bundle alone), writes the item itself in the same transaction. The bundle is
   * read, changed and written back on condition that its version is unchanged, so concurrent
   * writers never lose each other's posts: the loser reads again and retries.
   */
  private async writeEphemeral(item: Record<string, unknown>, postCondition: string | undefined): Promise<void> {
    const bundleKey = keys.ephemeralBundle(String(item.channel_id), String(item.ephemeral_for));
    const entry = withoutPlacement(item);
    for (let attempt = 0; attempt < MAX_BUNDLE_WRITE_ATTEMPTS; attempt++) {
      const stored = (await this.db.send(new GetCommand({ TableName: this.table, Key: bundleKey, ConsistentRead: true }))).Item;
      // A backfill never replaces an entry: one in the bundle was written with its post since the
      // upgrade, and is newer than the item the backfill's scan read a moment ago.
      if (postCondition === undefined && readBundle(stored).entries[String(item.id)] !== undefined) return;
      const nowSeconds = Math.floor(Date.now() / 1000);
      const next = nextBundle(readBundle(stored), String(item.id), entry, nowSeconds);
      const seenVersion = Number(stored?.version ?? 0);
      const bundlePut = {
        TableName: this.table,
        Item: {
          ...bundleKey,
          kind: 'ephemeral_bundle',
          entries: next.entries,
          incomplete_until: next.incompleteUntilSeconds,
          version: seenVersion + 1,
          // The bundle outlives every post it holds, and its incomplete mark.
          expires_at: Math.max(next.incompleteUntilSeconds, ...Object.values(next.entries).map((kept) => Number(kept.expires_at ?? 0))),
        },
        ConditionExpression: stored ? 'version = :seen' : 'attribute_not_exists(PK)',
        ...(stored ? { ExpressionAttributeValues: { ':seen': seenVersion } } : {}),
      };
      try {
        if (postCondition === undefined) await this.db.send(new PutCommand(bundlePut));
        else {
          await this.db.send(
            new TransactWriteCommand({
              TransactItems: [{ Put: { TableName: this.table, Item: item, ConditionExpression: postCondition } }, { Put: bundlePut }],
            }),
          );
        }
        return;
      } catch (error) {
        const raced = postCondition === undefined ? isConditionFailure(error) : lostBundleRace(error);
        if (!raced) throw error;
      }
    }
    throw new Error(`the ephemeral posts of one user in channel ${String(item.channel_id)} kept changing: gave up after ${MAX_BUNDLE_WRITE_ATTEMPTS} attempts`);
  }

  /**
   * Copies the unexpired ephemeral posts stored before bundles existed into their readers'
   * bundles (a one-off Scan of the posts table, run once after upgrading; see docs/operations.md);
   * posts already in their bundle are left alone.
   * Ephemeral posts live at most EPHEMERAL_POST_TTL_MINUTES, so skipping it only hides those posts
   * from the newest page until they expire. Returns how many posts it copied.
   */
  async backfillEphemeralBundles(nowMs: number): Promise<number> {
    let copied = 0;
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new ScanCommand({
          TableName: this.table,
          FilterExpression: 'attribute_exists(ephemeral_for) AND expires_at > :now',
          ExpressionAttributeValues: { ':now': Math.floor(nowMs / 1000) },
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) {
        if (item.SK !== keys.post(String(item.id)).SK) continue;
        await this.writeEphemeral(item, undefined);
        copied++;
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return copied;
  }

  /**
   * The unexpired ephemeral posts of a channel for one user, newest first, queried from their
   * partition: the fallback when the bundle is marked incomplete.
   */
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
    return items.filter((item) => Number(item.expires_at ?? Infinity) * 1000 > nowMs).map((item) => this.read(item));
  }

  /**
   * Replaces an ephemeral post with its updated version (an action's update of an answer), in its
   * user's partition and bundle, with a fresh expiry; stored posts change through `writeEdit`.
   */
  async updateEphemeralPost(post: Post & { ephemeral_for: string }, expiresAtSeconds: number): Promise<void> {
    await this.writeEphemeral(ephemeralItem(post, post.ephemeral_for, expiresAtSeconds), 'attribute_exists(PK)');
    await this.listRootAmongChanges(post, post.update_at);
  }

  /**
   * Lists a changed reply's root among its channel's changes (GSI2) at the reply's change time,
   * without changing the root (its `update_at` stays, so readers tell it from a changed post), so
   * that a `since` read finds the root in the query that finds the reply: two requests, not three.
   * A new reply needs none (it changes its root); edits, reactions and ephemeral replies do, at one
   * UpdateItem each. It only moves the root later in GSI2, so a concurrent change of the root
   * itself keeps its place, and never creates a root that is gone. Best effort: a read that lacks a
   * root fetches it, so a failure here costs a later read a request, never a wrong answer, and the
   * change it follows, already written, is not reported as failed.
   */
  private async listRootAmongChanges(reply: Pick<Post, 'root_id' | 'channel_id'>, changedAtMs: number): Promise<void> {
    if (reply.root_id === '') return;
    const order = keys.postOrder(changedAtMs, reply.root_id);
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.post(reply.root_id),
          UpdateExpression: 'SET GSI2PK = :channel, GSI2SK = :order, quiet_change = :quiet',
          ConditionExpression: 'attribute_exists(PK) AND (attribute_not_exists(GSI2SK) OR GSI2SK < :order)',
          ExpressionAttributeValues: { ':channel': keys.postsOfChannel(reply.channel_id), ':order': order, ':quiet': true },
        }),
      );
    } catch {
      // Listed later already, or gone; or a failed write that only costs a read its shortcut.
    }
  }

  /**
   * Writes an edited or deleted version of a stored post over the stored one, as one UpdateItem of
   * everything but its counters (`has_reactions`, `reply_count`, `last_reply_at`): reactions and
   * replies change those on their own, so an edit neither undoes them nor conflicts with them (a
   * reply's thread entry gets the same change, in the same transaction). It is refused (false: the
   * caller reads again and retries) when the post is gone or deleted (a post never comes back from
   * a delete), when its content changed since the edit's read (`content_version`, which only these
   * writes change: no edit overwrites another it did not see), or when it has a later `update_at`
   * (an edit never moves `update_at` back). `replyOf` also lowers a root's `reply_count` in the
   * same transaction (a reply being deleted).
   */
  async writeEdit(post: Post, replyOf?: { rootId: string }): Promise<boolean> {
    const item = toItem(post);
    const content: Record<string, unknown> = Object.fromEntries(Object.entries(item).filter(([name]) => !['PK', 'SK', ...COUNTER_ATTRIBUTES].includes(name)));
    // The version this edit read, and the one it writes (the copy gets it too, to stay equal).
    const seenVersion = post.content_version;
    content.content_version = (seenVersion ?? 0) + 1;
    // What this version lacks goes: the other form of props, index entries of a deleted post.
    const absent = OPTIONAL_ATTRIBUTES.filter((name) => !(name in item));
    const expression = updateExpression(content, [...absent, 'quiet_change', 'trigger_webhooks']);
    const edit = {
      Update: {
        TableName: this.table,
        Key: keys.post(post.id),
        ...expression,
        ConditionExpression: `attribute_exists(PK) AND delete_at = :zero AND update_at < :version AND ${
          seenVersion === undefined ? 'attribute_not_exists(content_version)' : 'content_version = :seen'
        }`,
        ExpressionAttributeValues: {
          ...expression.ExpressionAttributeValues,
          ':zero': 0,
          ':version': post.update_at,
          ...(seenVersion === undefined ? {} : { ':seen': seenVersion }),
        },
      },
    };
    const rootCount = replyOf
      ? [
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
        ]
      : [];
    // A reply's copy gets the same change, and its counters stay. An entry that held the id alone
    // (its reply was larger, or it predates the copies) becomes a copy: a reply has no replies, and
    // reactions keep `has_reactions` on every entry, so only an entry that never saw one takes the
    // read's. A reply grown past MAX_THREAD_COPY_BYTES leaves its id alone, its counters kept.
    const copied = withoutPlacement(content);
    const entryChange =
      post.root_id === ''
        ? undefined
        : threadEntryItem(item).reply_copy === true
          ? this.threadEntryChange(post, { ...copied, reply_copy: true }, absent.filter((name) => !PLACEMENT_ATTRIBUTES.includes(name)), {
              has_reactions: post.has_reactions,
              reply_count: 0,
              last_reply_at: 0,
            })
          : this.threadEntryChange(post, {}, ['reply_copy', ...Object.keys(copied), ...absent.filter((name) => !PLACEMENT_ATTRIBUTES.includes(name))]);
    if (!(await this.transactWithThreadEntry([edit, ...rootCount], entryChange))) return false;
    // A delete lowered the root's count, which lists the root among the changes already.
    if (!replyOf) await this.listRootAmongChanges(post, post.update_at);
    return true;
  }

  /** A post's reactions, at most `limit`, by user then emoji. */
  async reactionsOf(postId: string, limit: number, options: { consistent?: boolean } = {}): Promise<Reaction[]> {
    const items = await queryAll(
      this.db,
      {
        TableName: this.table,
        KeyConditionExpression: 'PK = :post AND begins_with(SK, :prefix)',
        ExpressionAttributeValues: { ':post': keys.post(postId).PK, ':prefix': keys.reactionsPrefix() },
        ...(options.consistent ? { ConsistentRead: true } : {}),
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
   * `post` tells a reply: its thread entry's copy changes in the same transaction, and its root is
   * listed among the changes (`listRootAmongChanges`).
   */
  async addReaction(reaction: Reaction, post: Pick<Post, 'root_id' | 'create_at'>): Promise<boolean> {
    const target = { ...post, id: reaction.post_id, channel_id: reaction.channel_id };
    const reactionItem = { ...keys.reaction(reaction.post_id, reaction.user_id, reaction.emoji_name), kind: 'reaction', ...reaction };
    const stampMs = await this.stampedReactionChange(target, reaction.create_at, (atMs) => ({
      writes: [{ Put: { TableName: this.table, Item: reactionItem } }, this.reactionsChanged(reaction.post_id, reaction.channel_id, true, atMs)],
      entryChange: this.threadEntryChange(target, { has_reactions: true, update_at: atMs }),
    }));
    if (stampMs === undefined) return false;
    await this.listRootAmongChanges(target, stampMs);
    return true;
  }

  /** Removes a reaction; the post keeps `has_reactions` while others remain (`othersRemain`); `post` as for `addReaction`. */
  async removeReaction(
    post: Pick<Post, 'id' | 'channel_id' | 'root_id' | 'create_at'>,
    userId: string,
    emojiName: string,
    othersRemain: boolean,
    nowMs: number,
  ): Promise<void> {
    const stampMs = await this.stampedReactionChange(post, nowMs, (atMs) => ({
      writes: [{ Delete: { TableName: this.table, Key: keys.reaction(post.id, userId, emojiName) } }, this.reactionsChanged(post.id, post.channel_id, othersRemain, atMs)],
      entryChange: this.threadEntryChange(post, { has_reactions: othersRemain, update_at: atMs }),
    }));
    if (stampMs === undefined) return;
    try {
      await this.reconcileHasReactions(post);
    } catch {
      // Best effort: the removal is done. A flag left wrong is set right by the post's next reaction.
    }
    await this.listRootAmongChanges(post, stampMs);
  }

  /**
   * A reaction's transaction (`build`: the reaction's write, then the post's, `reactionsChanged`),
   * with the post's `update_at` stamped `nowMs`, on condition that the stored one is earlier. When a
   * change stamped later is there already (another reaction that took its time first and committed
   * first, an edit stamped a millisecond ahead), it goes again stamped just after that one, so
   * `update_at` never moves back: `since` readers rely on it. Answers the stamp written, or
   * undefined when the post is gone or deleted.
   */
  private async stampedReactionChange(
    post: Pick<Post, 'id' | 'root_id' | 'create_at'>,
    nowMs: number,
    build: (atMs: number) => { writes: Array<Record<string, unknown>>; entryChange: ThreadEntryWrite | undefined },
  ): Promise<number | undefined> {
    let atMs = nowMs;
    for (let attempt = 1; attempt <= MAX_THREAD_ENTRY_ATTEMPTS; attempt++) {
      const { writes, entryChange } = build(atMs);
      let stored: Record<string, AttributeValue> | undefined;
      if (await this.transactWithThreadEntry(writes, entryChange, (reasons) => (stored = reasons[1]?.Item))) return atMs;
      const storedUpdateAt = Number(stored?.update_at?.N ?? Number.NaN);
      // Gone, or deleted: nothing to react to.
      if (!stored || Number(stored.delete_at?.N ?? 0) !== 0 || !Number.isFinite(storedUpdateAt)) return undefined;
      atMs = Math.max(atMs, storedUpdateAt) + 1;
    }
    throw new Error(`the post ${post.id} kept changing: gave up stamping its reaction after ${MAX_THREAD_ENTRY_ATTEMPTS} attempts`);
  }

  /**
   * Sets `has_reactions` to what the post's reactions are, after a removal: a removal decides the
   * flag from the reactions it read before its transaction, so two removals at once can leave it
   * set with none left, and a removal racing an addition can clear it with one left. Read after the
   * removal (strongly consistent): the flag, its `reactions_version`, then the reactions. The fix is
   * written only if no reaction changed since (`reactions_version`): a later addition set the flag
   * right itself, and a later removal reconciles on its own. Additions need none: the flag is right
   * when they commit. It leaves `update_at` alone (`quiet_change`: the reaction's own event told clients).
   */
  private async reconcileHasReactions(post: Pick<Post, 'id' | 'root_id' | 'create_at'>): Promise<void> {
    const stored = (
      await this.db.send(
        new GetCommand({ TableName: this.table, Key: keys.post(post.id), ConsistentRead: true, ProjectionExpression: 'has_reactions, reactions_version, delete_at' }),
      )
    ).Item;
    if (!stored || Number(stored.delete_at ?? 0) !== 0) return;
    const actual = (await this.reactionsOf(post.id, 1, { consistent: true })).length > 0;
    if (Boolean(stored.has_reactions) === actual) return;
    const version = stored.reactions_version;
    await this.transactWithThreadEntry(
      [
        {
          Update: {
            TableName: this.table,
            Key: keys.post(post.id),
            UpdateExpression: 'SET has_reactions = :actual, quiet_change = :quiet',
            ConditionExpression: `delete_at = :zero AND ${version === undefined ? 'attribute_not_exists(reactions_version)' : 'reactions_version = :version'}`,
            ExpressionAttributeValues: { ':actual': actual, ':quiet': true, ':zero': 0, ...(version === undefined ? {} : { ':version': version }) },
          },
        },
      ],
      this.threadEntryChange(post, { has_reactions: actual }),
    );
  }

  private reactionsChanged(postId: string, channelId: string, hasReactions: boolean, nowMs: number) {
    return {
      Update: {
        TableName: this.table,
        Key: keys.post(postId),
        // reactions_version counts reaction changes, for `reconcileHasReactions`.
        UpdateExpression: 'SET has_reactions = :has, update_at = :now, GSI2PK = :channel, GSI2SK = :order, quiet_change = :quiet ADD reactions_version :one',
        // Never moves update_at back (`stampedReactionChange` reads the stored one from the failure).
        ConditionExpression: 'attribute_exists(PK) AND delete_at = :zero AND update_at < :now',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        ExpressionAttributeValues: {
          ':has': hasReactions,
          ':now': nowMs,
          ':zero': 0,
          ':channel': keys.postsOfChannel(channelId),
          ':order': keys.postOrder(nowMs, postId),
          ':quiet': true,
          ':one': 1,
        },
      },
    };
  }

  /**
   * The write that applies to a reply's thread entry what an UpdateItem applies to the reply's item
   * (the same attributes, the same values), so the copy stays equal to the item; undefined for a root.
   */
  private threadEntryChange(
    post: Pick<Post, 'id' | 'root_id' | 'create_at'>,
    set: Record<string, unknown>,
    remove: string[] = [],
    setIfAbsent: Record<string, unknown> = {},
  ): ThreadEntryWrite | undefined {
    if (post.root_id === '') return undefined;
    const key = keys.threadReply(post.root_id, post.create_at, post.id);
    return {
      key,
      write: {
        Update: {
          TableName: this.table,
          Key: key,
          ...updateExpression(set, remove, setIfAbsent),
          // Never creates an entry: one that is missing (a reply older than thread entries) stays so.
          ConditionExpression: 'attribute_exists(PK)',
        },
      },
    };
  }

  /**
   * Writes `writes` and, in the same transaction, `entryChange` (a reply's thread entry). When only
   * the entry's condition fails (a reply stored before thread entries, never backfilled), writes the
   * rest on condition that the entry is still missing, so an entry written meanwhile (with a copy of
   * the reply as it was) is never left behind: then it goes round again with the entry. A conflict
   * with another transaction on the same items is tried again too. False when a condition of
   * `writes` failed; `onWritesFailed` then hears DynamoDB's reasons, one per write (with the item
   * where the write asked for it).
   */
  private async transactWithThreadEntry(
    writes: Array<Record<string, unknown>>,
    entryChange: ThreadEntryWrite | undefined,
    onWritesFailed: (reasons: CancellationReason[]) => void = () => {},
  ): Promise<boolean> {
    // One write alone is no transaction (which would bill it twice): a root's edit.
    const only = !entryChange && writes.length === 1 ? (writes[0] as { Update?: UpdateCommandInput }).Update : undefined;
    if (only) return conditionHeld(this.db.send(new UpdateCommand(only)));
    const send = (items: Array<Record<string, unknown>>) => this.db.send(new TransactWriteCommand({ TransactItems: items as never }));
    const entryMissing = entryChange && { ConditionCheck: { TableName: this.table, Key: entryChange.key, ConditionExpression: 'attribute_not_exists(PK)' } };
    let withEntry = entryChange !== undefined;
    for (let attempt = 1; ; attempt++) {
      try {
        await send(withEntry ? [...writes, entryChange!.write] : entryMissing ? [...writes, entryMissing] : writes);
        return true;
      } catch (error) {
        const reasons = (error as Error & { CancellationReasons?: CancellationReason[] }).CancellationReasons ?? [];
        const conflicted = reasons.some((reason) => reason.Code === 'TransactionConflict');
        if (attempt >= MAX_THREAD_ENTRY_ATTEMPTS || (!conflicted && !isConditionFailure(error))) throw error;
        if (reasons.slice(0, writes.length).some((reason) => reason.Code === 'ConditionalCheckFailed')) {
          onWritesFailed(reasons.slice(0, writes.length));
          return false;
        }
        // The entry's condition failed: it is missing (with it), or there now (without it).
        if (!conflicted) withEntry = !withEntry;
        else await new Promise((resolve) => setTimeout(resolve, 10 * attempt));
      }
    }
  }

  /**
   * Soft-deletes the replies of a deleted root that are not deleted yet: per reply, its item (which
   * enters the channel's changes, GSI2, so `since` reads see it go) and its thread entry's copy.
   */
  async softDeleteReplies(rootId: string, replies: Array<Pick<ThreadEntry, 'id' | 'createAt'>>, channelId: string, nowMs: number): Promise<void> {
    for (const reply of replies) {
      // A reply deleted already keeps its first delete.
      await this.transactWithThreadEntry(
        [
          {
            Update: {
              TableName: this.table,
              Key: keys.post(reply.id),
              UpdateExpression: 'SET delete_at = :now, update_at = :now, GSI2PK = :channel, GSI2SK = :order REMOVE quiet_change, GSI1PK, GSI1SK',
              ConditionExpression: 'attribute_exists(PK) AND delete_at = :zero',
              ExpressionAttributeValues: { ':now': nowMs, ':zero': 0, ':channel': keys.postsOfChannel(channelId), ':order': keys.postOrder(nowMs, reply.id) },
            },
          },
        ],
        this.threadEntryChange({ id: reply.id, root_id: rootId, create_at: reply.createAt }, { delete_at: nowMs, update_at: nowMs }),
      );
    }
  }

  /** The replies listed in a root's thread, oldest first, at most `limit`: ids and creation times only. */
  async repliesOf(rootId: string, limit: number): Promise<Array<Pick<ThreadEntry, 'id' | 'createAt'>>> {
    const items = await queryAll(
      this.db,
      {
        TableName: this.table,
        KeyConditionExpression: 'PK = :root AND begins_with(SK, :prefix)',
        ProjectionExpression: 'SK, post_id',
        ExpressionAttributeValues: { ':root': keys.post(rootId).PK, ':prefix': keys.threadRepliesPrefix() },
      },
      limit,
    );
    return items.map((item) => ({ id: String(item.post_id), createAt: keys.threadReplyCreateAt(String(item.SK)) }));
  }

  /**
   * A post with, if it is a root, its thread's entries (oldest first, at most `limit`): one Query
   * of the post's partition, whose item (`#POST`) sorts before its reactions and its thread
   * entries (`REPLY#`); reactions are filtered out. Entries holding a copy come with their reply
   * (`post`); the others (a reply larger than MAX_THREAD_COPY_BYTES, or one listed before copies
   * were kept) with their id alone. More requests only past 1 MB of partition.
   */
  async threadOf(postId: string, limit: number): Promise<{ post: Post | undefined; replies: ThreadEntry[] }> {
    let post: Post | undefined;
    const replies: ThreadEntry[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'PK = :post AND SK BETWEEN :item AND :lastReply',
          FilterExpression: 'attribute_not_exists(kind) OR kind = :reply',
          ExpressionAttributeValues: {
            ':post': keys.post(postId).PK,
            ':item': keys.post(postId).SK,
            ':lastReply': `${keys.threadRepliesPrefix()}~`,
            ':reply': 'thread_reply',
          },
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) {
        if (item.SK === keys.post(postId).SK) post = this.read(item);
        else if (replies.length < limit) {
          const id = String(item.post_id);
          const createAt = keys.threadReplyCreateAt(String(item.SK));
          replies.push(item.reply_copy === true ? { id, createAt, post: this.read(item) } : { id, createAt });
        }
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey && replies.length < limit);
    return { post, replies };
  }

  /** A post by id; `consistent` for a read-modify-write that must see the latest version. */
  async getPost(postId: string, options: { consistent?: boolean } = {}): Promise<Post | undefined> {
    const result = await this.db.send(new GetCommand({ TableName: this.table, Key: keys.post(postId), ...(options.consistent ? { ConsistentRead: true } : {}) }));
    return result.Item ? this.read(result.Item) : undefined;
  }

  async getPosts(postIds: string[]): Promise<Post[]> {
    return (await this.getItems(postIds.map((id) => keys.post(id)))).map((item) => this.read(item));
  }

  /**
   * Posts by id and the reader's ephemeral posts of a channel, in one BatchGetItem (while under
   * its 100 keys): the ephemeral ones come from the reader's bundle. `ephemeral` is undefined when
   * the bundle is marked incomplete; the caller then queries them with `ephemeralPostsFor`.
   */
  async getPostsWithEphemeral(
    postIds: string[],
    ephemeralOf: { channelId: string; userId: string; nowMs: number },
  ): Promise<{ posts: Post[]; ephemeral: Post[] | undefined }> {
    const bundleKey = keys.ephemeralBundle(ephemeralOf.channelId, ephemeralOf.userId);
    const items = await this.getItems([bundleKey, ...postIds.map((id) => keys.post(id))]);
    const bundle = items.find((item) => item.PK === bundleKey.PK && item.SK === bundleKey.SK);
    const posts = items.filter((item) => item !== bundle).map((item) => this.read(item));
    const { entries, incompleteUntilSeconds } = readBundle(bundle);
    if (incompleteUntilSeconds * 1000 > ephemeralOf.nowMs) return { posts, ephemeral: undefined };
    const ephemeral = Object.values(entries)
      // TTL deletes lazily and entries expire one by one, so each is checked.
      .filter((entry) => Number(entry.expires_at ?? Infinity) * 1000 > ephemeralOf.nowMs)
      .map((entry) => this.read(entry))
      .sort((a, b) => b.create_at - a.create_at || (a.id < b.id ? 1 : -1));
    return { posts, ephemeral };
  }

  /** Items by key, unique, 100 keys per BatchGetItem (DynamoDB's cap), unprocessed keys asked again. */
  private getItems(itemKeys: Key[]): Promise<Record<string, unknown>[]> {
    return batchGetAll(this.db, this.table, itemKeys);
  }

  private async queryChannel(
    channelId: string,
    options: { newestFirst: boolean; limit: number; boundary?: { operator: '<' | '>' | '<=' | '>='; sortKey: string } },
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
    // Posts deleted before deletes left GSI1 are still listed there: a page skips them.
    return items.map((item) => this.read(item)).filter((post) => post.delete_at === 0);
  }

  /**
   * Page `page` of `perPage` posts, newest first, optionally only posts older or newer than an
   * anchor post. An anchor to `verify` (known only by its remembered coordinates) is read by the
   * page's own query, which then includes it: undefined when it is not a visible post of the
   * channel (gone, deleted), so the caller answers 404 as for an anchor read by GetItem.
   */
  async pageOfChannel(
    channelId: string,
    page: number,
    perPage: number,
    relativeTo?: { anchor: PageAnchor; direction: 'before' | 'after' },
  ): Promise<ChannelPage | undefined> {
    const skip = page * perPage;
    const anchor = relativeTo?.anchor;
    const verify = anchor?.verify === true;
    const anchorKey = anchor ? keys.postOrder(anchor.create_at, anchor.id) : '';
    const withoutAnchor = (posts: Post[]): Post[] | undefined => {
      if (!verify) return posts;
      const [first, ...rest] = posts;
      return first?.id === anchor!.id && first.delete_at === 0 ? rest : undefined;
    };
    if (relativeTo?.direction === 'after') {
      // Oldest first from the anchor, then flipped so the page reads newest first.
      const ascending = withoutAnchor(
        await this.queryChannel(channelId, {
          newestFirst: false,
          limit: skip + perPage + 1 + (verify ? 1 : 0),
          boundary: { operator: verify ? '>=' : '>', sortKey: anchorKey },
        }),
      );
      if (!ascending) return undefined;
      const slice = ascending.slice(skip, skip + perPage);
      return {
        posts: slice.reverse(),
        newerPostId: ascending[skip + perPage]?.id ?? '',
        olderPostId: skip === 0 ? relativeTo.anchor.id : (ascending[skip - 1]?.id ?? ''),
      };
    }
    const descending = withoutAnchor(
      await this.queryChannel(channelId, {
        newestFirst: true,
        limit: skip + perPage + 1 + (verify ? 1 : 0),
        ...(anchor ? { boundary: { operator: verify ? ('<=' as const) : ('<' as const), sortKey: anchorKey } } : {}),
      }),
    );
    if (!descending) return undefined;
    return {
      posts: descending.slice(skip, skip + perPage),
      newerPostId: skip === 0 ? (anchor?.id ?? '') : (descending[skip - 1]?.id ?? ''),
      olderPostId: descending[skip + perPage]?.id ?? '',
    };
  }

  /**
   * Mattermost's `since`: posts of the channel created or changed after `sinceMs`, with the reader's
   * own ephemeral posts, newest first, at most 1000. Two queries: new posts from GSI1 (by creation),
   * changed posts and ephemeral ones from the sparse GSI2 (by update), others' ephemeral posts
   * filtered out there. GSI2 also lists the roots of replies changed since without a change of
   * their own (`listRootAmongChanges`): they come apart, as `roots`, for the page's threads.
   */
  async changedSince(channelId: string, sinceMs: number, readerId: string, nowMs: number): Promise<{ posts: Post[]; roots: Post[] }> {
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
      const post = this.read(item);
      const known = byId.get(post.id);
      if (!known || post.update_at > known.update_at) byId.set(post.id, post);
    }
    const isChange = (post: Post) => post.create_at > sinceMs || post.update_at > sinceMs;
    const all = [...byId.values()];
    return {
      posts: all.filter(isChange).sort((a, b) => b.create_at - a.create_at || (a.id < b.id ? 1 : -1)).slice(0, MAX_SINCE_POSTS),
      roots: all.filter((post) => !isChange(post)),
    };
  }

}
