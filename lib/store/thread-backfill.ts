/**
 * Brings replies stored by older releases up to what the posts store now derives from each reply
 * (run once after upgrading; see docs/operations.md):
 *
 * 1. `entries`: every reply gets its thread entry in its root's partition (keys.threadReply),
 *    which thread reads list, with a copy of the reply when it is small (threadEntryItem). Replies
 *    stored before the entries existed have none, so their threads showed only the root; entries
 *    written before the copies existed make thread reads fetch their replies, one request more.
 *    A copy of another `update_at` than the reply's is written again (a reply changed during the
 *    deploy by a release that kept no copies). A copy is written on condition that the reply's
 *    `update_at` is what the Scan read, so an edit meanwhile (which writes its own copy) is never
 *    overwritten by an older one.
 * 2. `counts`: every root with thread entries gets `reply_count` (its replies not deleted) and
 *    `last_reply_at` (its newest reply's time, never moved back) counted again. Replies stored
 *    before the counters existed never raised them.
 *
 * Each call does one page: a Scan of at most SCAN_PAGE_ITEMS items, and for each item found one
 * write (an entry) or one recount (a root's thread entries and replies read, strongly consistent). A
 * cursor names the next page, so an interrupted run goes on where it stopped. Running it again
 * writes nothing: an entry is put only where it is missing or differs, a root only where its
 * counters differ.
 * A root's counters are written on condition that its `update_at` is what the recount read, so a
 * reply written or deleted meanwhile makes it count again; the write is `quiet_change` (clients get
 * no event for it, as for the live counter updates) and leaves `update_at` alone.
 */
import { GetCommand, ScanCommand, TransactWriteCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { batchGetAll, conditionHeld, queryAll } from './dynamo.js';
import { keys } from './keys.js';
import { threadEntryItem } from './posts.js';

/** Items one Scan page evaluates (DynamoDB's `Limit`): the bound on one page's work. */
export const SCAN_PAGE_ITEMS = 100;
/** Recounts of one root that may lose to concurrent replies before the run gives up. */
const MAX_RECOUNT_ATTEMPTS = 5;

export type BackfillPhase = 'entries' | 'counts';

export interface BackfillPage {
  phase: BackfillPhase;
  /** Thread entries written (`entries`) or roots whose counters were corrected (`counts`). */
  changed: number;
  /** Where the next page starts; undefined once both phases are done. */
  next: string | undefined;
}

interface Position {
  phase: BackfillPhase;
  startKey?: { PK: string; SK: string };
}

/** The cursor of a position: base64url JSON, opaque to the operator. */
function cursorOf(position: Position): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

/** The position a cursor names; throws on one this module did not make. */
export function parseBackfillCursor(cursor: string): Position {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const position = parsed as Partial<Position> | undefined;
  const key = position?.startKey;
  const validKey = key === undefined || (typeof key === 'object' && key !== null && typeof key.PK === 'string' && typeof key.SK === 'string');
  if (!position || (position.phase !== 'entries' && position.phase !== 'counts') || !validKey) throw new Error(`not a cursor of this backfill: ${cursor}`);
  return { phase: position.phase, ...(key ? { startKey: { PK: key.PK, SK: key.SK } } : {}) };
}

export class ThreadBackfill {
  /** Roots recounted by this instance: a root's entries spread over pages are recounted once. */
  private readonly recounted = new Set<string>();

  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  /** One page from `cursor` (the start when undefined). */
  async page(cursor?: string): Promise<BackfillPage> {
    const position = cursor === undefined ? { phase: 'entries' as const } : parseBackfillCursor(cursor);
    const entries = position.phase === 'entries';
    const page = await this.db.send(
      new ScanCommand({
        TableName: this.table,
        Limit: SCAN_PAGE_ITEMS,
        ExclusiveStartKey: position.startKey,
        // Phase 1: reply items (ephemeral replies have no thread entry); phase 2: thread entries.
        FilterExpression: entries ? 'SK = :post AND root_id <> :none AND attribute_not_exists(ephemeral_for)' : 'kind = :entry',
        ExpressionAttributeValues: entries ? { ':post': keys.postSortKey(), ':none': '' } : { ':entry': 'thread_reply' },
      }),
    );
    let changed = 0;
    for (const item of page.Items ?? []) {
      if (entries) changed += (await this.writeEntry(item)) ? 1 : 0;
      else changed += (await this.recount(String(item.PK).slice(keys.post('').PK.length))) ? 1 : 0;
    }
    const startKey = page.LastEvaluatedKey as Position['startKey'];
    const next: Position | undefined = startKey ? { phase: position.phase, startKey } : entries ? { phase: 'counts' } : undefined;
    return { phase: position.phase, changed, next: next && cursorOf(next) };
  }

  /** Both phases from `cursor` to the end; `onPage` hears of each page (to print its cursor). */
  async run(cursor?: string, onPage: (page: BackfillPage) => void = () => {}): Promise<Record<BackfillPhase, number>> {
    const totals = { entries: 0, counts: 0 };
    let next = cursor;
    do {
      const page = await this.page(next);
      totals[page.phase] += page.changed;
      onPage(page);
      next = page.next;
    } while (next !== undefined);
    return totals;
  }

  /** Puts a reply's thread entry where there is none, or where its copy is missing, unwanted or of another version; true when it did. */
  private async writeEntry(reply: Record<string, unknown>): Promise<boolean> {
    const entry = threadEntryItem(reply);
    const written = this.db.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            ConditionCheck: {
              TableName: this.table,
              Key: keys.post(String(reply.id)),
              ConditionExpression: 'update_at = :seen',
              ExpressionAttributeValues: { ':seen': reply.update_at },
            },
          },
          {
            Put: {
              TableName: this.table,
              Item: entry,
              // Where the entry lacks the copy it should hold, holds one it should not (the reply
              // grew), or holds one of another version (changed by a release that kept no copies,
              // during the deploy); `update_at` is what every change of a reply sets.
              ConditionExpression:
                entry.reply_copy === true ? 'attribute_not_exists(reply_copy) OR update_at <> :seen' : 'attribute_not_exists(PK) OR attribute_exists(reply_copy)',
              ...(entry.reply_copy === true ? { ExpressionAttributeValues: { ':seen': reply.update_at } } : {}),
            },
          },
        ],
      }),
    );
    return conditionHeld(written);
  }

  /** Counts a root's replies again and stores the counters where they differ; true when it did. */
  private async recount(rootId: string): Promise<boolean> {
    if (this.recounted.has(rootId)) return false;
    this.recounted.add(rootId);
    for (let attempt = 0; attempt < MAX_RECOUNT_ATTEMPTS; attempt++) {
      const root = (await this.db.send(new GetCommand({ TableName: this.table, Key: keys.post(rootId), ConsistentRead: true }))).Item;
      // A deleted root took its replies with it; a missing one has nothing to count.
      if (!root || Number(root.delete_at ?? 0) !== 0) return false;
      // Strongly consistent, like the root's read: a reply written before that read is counted.
      const entries = await queryAll(this.db, {
        TableName: this.table,
        KeyConditionExpression: 'PK = :root AND begins_with(SK, :prefix)',
        ExpressionAttributeValues: { ':root': keys.post(rootId).PK, ':prefix': keys.threadRepliesPrefix() },
        ConsistentRead: true,
      });
      const replyKeys = entries.map((entry) => keys.post(String(entry.post_id)));
      const replies = (await batchGetAll(this.db, this.table, replyKeys, { consistent: true })).filter((reply) => reply.root_id === rootId);
      const replyCount = replies.filter((reply) => Number(reply.delete_at ?? 0) === 0).length;
      const lastReplyAt = Math.max(Number(root.last_reply_at ?? 0), ...replies.map((reply) => Number(reply.create_at)));
      if (root.reply_count === replyCount && root.last_reply_at === lastReplyAt) return false;
      const written = this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.post(rootId),
          UpdateExpression: 'SET reply_count = :count, last_reply_at = :last, quiet_change = :quiet',
          ConditionExpression: 'attribute_exists(PK) AND update_at = :seen',
          ExpressionAttributeValues: { ':count': replyCount, ':last': lastReplyAt, ':quiet': true, ':seen': root.update_at },
        }),
      );
      if (await conditionHeld(written)) return true;
    }
    throw new Error(`the replies of post ${rootId} kept changing: gave up recounting after ${MAX_RECOUNT_ATTEMPTS} attempts`);
  }
}
