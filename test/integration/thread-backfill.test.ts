import { execFile } from 'node:child_process';
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { documentClient, queryAll } from '../../lib/store/dynamo.js';
import { keys } from '../../lib/store/keys.js';
import { postFromItem } from '../../lib/store/posts.js';
import { ThreadBackfill } from '../../lib/store/thread-backfill.js';
import { client4 } from '../support/client4.js';
import { seedWorld, stackEnvironment, startApiOnOwnStage, type Api, type World } from '../support/harness.js';

/**
 * The thread backfill (lib/store/thread-backfill.ts, infra/scripts/backfill-thread-entries.ts)
 * against DynamoDB Local: threads stored as older releases left them (replies without thread
 * entries, roots without reply counters or with some replies uncounted) read whole once it has
 * run, and a second run changes nothing.
 */
let api: Api;
let world: World;
let db: DynamoDBDocumentClient;
let table: string;

let stage: string;

// Tables of its own: the backfill scans the whole posts table, which other files write to at once.
beforeAll(async () => {
  ({ api, stage } = await startApiOnOwnStage('backfill'));
  world = await seedWorld(api.runtime);
  db = documentClient({ endpoint: api.runtime.config.dynamodbEndpoint, region: api.runtime.config.region });
  table = api.runtime.config.tables.posts;
});
afterAll(() => api?.close());

const reader = () => client4(api.url, world.user('other').token);

async function createPost(message: string, rootId = '', user = 'creator'): Promise<{ id: string; create_at: number }> {
  const response = await api.postJson('/api/v4/posts', { channel_id: world.channel('town-square').id, message, root_id: rootId }, { authorization: `Bearer ${world.user(user).token}` });
  expect(response.status, response.text).toBe(201);
  return response.json();
}

const storedItem = async (key: { PK: string; SK: string }) => (await db.send(new GetCommand({ TableName: table, Key: key, ConsistentRead: true }))).Item;

/** A root's partition: its item and its thread entries, as stored. */
async function partitionOf(rootId: string) {
  return queryAll(db, { TableName: table, KeyConditionExpression: 'PK = :root', ExpressionAttributeValues: { ':root': keys.post(rootId).PK }, ConsistentRead: true });
}

/**
 * Leaves a thread as an older release stored it: no thread entries, and the root's counters as
 * given, or never set (the release before the counters).
 */
async function storeAsOlderRelease(rootId: string, counters?: { reply_count: number; last_reply_at: number }) {
  for (const entry of await partitionOf(rootId)) {
    if (String(entry.SK).startsWith(keys.threadRepliesPrefix())) await db.send(new DeleteCommand({ TableName: table, Key: { PK: entry.PK, SK: entry.SK } }));
  }
  await db.send(
    new UpdateCommand({
      TableName: table,
      Key: keys.post(rootId),
      ...(counters
        ? { UpdateExpression: 'SET reply_count = :count, last_reply_at = :last', ExpressionAttributeValues: { ':count': counters.reply_count, ':last': counters.last_reply_at } }
        : { UpdateExpression: 'REMOVE reply_count, last_reply_at' }),
    }),
  );
}

/** `npx tsx infra/scripts/backfill-thread-entries.ts --stage <the test stack's>`, against DynamoDB Local. */
function runScript(): Promise<string> {
  const environment = stackEnvironment();
  return new Promise((resolve, reject) =>
    execFile(
      'npx',
      ['tsx', 'infra/scripts/backfill-thread-entries.ts', '--stage', stage],
      { env: { ...process.env, AWS_ENDPOINT_URL_DYNAMODB: environment.DYNAMODB_ENDPOINT, AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' } },
      (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stdout}\n${stderr}`)) : resolve(stdout)),
    ),
  );
}

describe('the thread backfill', () => {
  it('lists older replies in their threads and counts them again, goes on from a cursor, and changes nothing when run again', async () => {
    // Before thread entries and counters: three replies, one of them deleted since.
    const uncounted = await createPost('root from before the counters');
    const a1 = await createPost('a1', uncounted.id, 'other');
    const a2 = await createPost('a2', uncounted.id);
    const a3 = await createPost('a3', uncounted.id);
    await client4(api.url, world.user('creator').token).deletePost(a2.id);
    await storeAsOlderRelease(uncounted.id);
    // Between the counters and the entries: the first reply counted, the second not yet.
    const partly = await createPost('root from between the releases');
    const b1 = await createPost('b1', partly.id);
    const b2 = await createPost('b2', partly.id, 'other');
    await storeAsOlderRelease(partly.id, { reply_count: 1, last_reply_at: b1.create_at });
    // A thread of this release, which the backfill must leave as it is.
    const current = await createPost('root of this release');
    await createPost('c1', current.id);
    const currentBefore = await partitionOf(current.id);
    const updateAtBefore = (await storedItem(keys.post(uncounted.id)))!.update_at;

    expect((await reader().getPostThread(uncounted.id)).order).toEqual([uncounted.id]);
    expect((await reader().getPostThread(b2.id)).order).toEqual([partly.id]);

    // One page, then the rest from its cursor by another instance, as after an interrupted run.
    const first = await new ThreadBackfill(db, table).page();
    expect(first.phase).toBe('entries');
    expect(first.next).toBeDefined();
    const rest = await new ThreadBackfill(db, table).run(first.next);
    expect(first.changed + rest.entries).toBeGreaterThanOrEqual(5);
    expect(rest.counts).toBeGreaterThanOrEqual(2);

    const threadA = await reader().getPostThread(uncounted.id);
    expect(threadA.order).toEqual([a3.id, a1.id, uncounted.id]);
    expect(threadA.posts[uncounted.id]).toMatchObject({ reply_count: 2, last_reply_at: a3.create_at });
    expect((await reader().getPostThread(a1.id)).order).toEqual(threadA.order);
    const threadB = await reader().getPostThread(partly.id);
    expect(threadB.order).toEqual([b2.id, b1.id, partly.id]);
    expect(threadB.posts[partly.id]).toMatchObject({ reply_count: 2, last_reply_at: b2.create_at });
    // Counters only: the root keeps its update_at, and its write is marked for no live event.
    expect((await storedItem(keys.post(uncounted.id)))!).toMatchObject({ update_at: updateAtBefore, quiet_change: true });
    expect(await partitionOf(current.id)).toEqual(currentBefore);

    // Again, as the operator runs it: nothing left to write.
    const storedBefore = [await partitionOf(uncounted.id), await partitionOf(partly.id)];
    const output = await runScript();
    expect(output).toMatch(/entries: \d+ thread entries written; to go on from here: --from \S+\n/);
    expect(output).toMatch(/done \(.+\): 0 thread entries written, 0 roots' reply counts corrected\n$/);
    expect([await partitionOf(uncounted.id), await partitionOf(partly.id)]).toEqual(storedBefore);
  });

  it('gives entries written before the copies a copy of their reply, never an older one than the reply is', async () => {
    const root = await createPost('root from before the copies');
    const kept = await createPost('kept as it is', root.id);
    const edited = await createPost('edited meanwhile', root.id);
    const entryKey = (reply: { id: string; create_at: number }) => keys.threadReply(root.id, reply.create_at, reply.id);
    // Entries as the release before the copies wrote them: keys, kind and the reply's id.
    for (const reply of [kept, edited]) {
      await db.send(new PutCommand({ TableName: table, Item: { ...entryKey(reply), kind: 'thread_reply', post_id: reply.id } }));
    }
    // What a Scan read of `edited` before an edit reached it.
    const scanned = (await storedItem(keys.post(edited.id)))!;
    await client4(api.url, world.user('creator').token).patchPost({ id: edited.id, message: 'edited, and its copy with it' });
    await db.send(new PutCommand({ TableName: table, Item: { ...entryKey(edited), kind: 'thread_reply', post_id: edited.id } }));
    const backfill = new ThreadBackfill(db, table) as unknown as { writeEntry(reply: Record<string, unknown>): Promise<boolean> };
    expect(await backfill.writeEntry(scanned)).toBe(false);
    expect((await storedItem(entryKey(edited)))!.reply_copy).toBeUndefined();

    await new ThreadBackfill(db, table).run();
    for (const reply of [kept, edited]) {
      const entry = (await storedItem(entryKey(reply)))!;
      expect(entry.reply_copy).toBe(true);
      expect(postFromItem(entry)).toEqual(postFromItem((await storedItem(keys.post(reply.id)))!));
    }
    expect((await storedItem(entryKey(edited)))!.message).toBe('edited, and its copy with it');
    // Copied already: a second run leaves them.
    const before = await partitionOf(root.id);
    await new ThreadBackfill(db, table).run();
    expect(await partitionOf(root.id)).toEqual(before);
  });

  it('refuses a cursor it did not make', async () => {
    await expect(new ThreadBackfill(db, table).page('bm90IGEgY3Vyc29y')).rejects.toThrow('not a cursor of this backfill: bm90IGEgY3Vyc29y');
    await expect(new ThreadBackfill(db, table).page(Buffer.from('{"phase":"later"}').toString('base64url'))).rejects.toThrow('not a cursor of this backfill');
  });
});
