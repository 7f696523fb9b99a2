import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway } from '../../infra/local/gateway.js';
import { freePort } from '../../infra/local/stack.js';
import { loadConfig } from '../../lib/config.js';
import { newId, newPostId } from '../../lib/ids.js';
import { buildPost } from '../../lib/posts/rules.js';
import { createRuntime, type Runtime } from '../../lib/runtime.js';
import { countRequests } from '../../lib/store/dynamo.js';
import { keys } from '../../lib/store/keys.js';
import { MAX_EPHEMERAL_BUNDLE_BYTES, MAX_THREAD_COPY_BYTES } from '../../lib/store/posts.js';
import { seedWorld, stackEnvironment, type World } from '../support/harness.js';

/**
 * Issue 9: every read route stays within two posts-table requests per page. The convention
 * (docs/performance.md): requests to the posts table are counted; the entity table (channel,
 * membership, token, user) is counted apart, since the per-instance Directory caches those reads
 * and a warm instance makes none. A "page" is a result that fits one DynamoDB page (1 MB) and one
 * BatchGetItem (100 keys), which the pages here do.
 */

interface CountedApi {
  url: string;
  runtime: Runtime;
  db: DynamoDBDocumentClient;
  /** Posts-table requests by command (`{ Query: 1, BatchGetItem: 1 }`), since the last `clear`. */
  posts: { clear(): void; byCommand(): Record<string, number>; entities(): Record<string, number> };
  close(): Promise<void>;
}

/** One instance: a runtime whose requests are counted per table, served on a loopback port. */
async function countedApi(): Promise<CountedApi> {
  const port = await freePort();
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' });
  // Long entity caches: the counted read must find what its warm-up read cached, however slow the machine.
  const config = loadConfig({ ...stackEnvironment(), ENTITY_CACHE_TTL_SECONDS: '3600', SITE_URL: `http://127.0.0.1:${port}` });
  const db = DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint: config.dynamodbEndpoint, region: config.region, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }),
    { marshallOptions: { removeUndefinedValues: true } },
  );
  const tableOf = (input: Record<string, unknown>): string => {
    if (typeof input.TableName === 'string') return input.TableName;
    if (input.RequestItems && typeof input.RequestItems === 'object') return Object.keys(input.RequestItems).join('+');
    const transacted = (input.TransactItems as Array<Record<string, { TableName?: string }>> | undefined) ?? [];
    return [...new Set(transacted.map((entry) => Object.values(entry)[0]?.TableName ?? ''))].join('+');
  };
  const all = countRequests(db, (commandName, input) => `${tableOf(input)} ${commandName.replace(/Command$/, '')}`);
  const runtime = createRuntime(config, new Logger({ serviceName: 'hookline-test', logLevel: 'SILENT' }), db);
  const gateway = await startGateway({ runtime, port });
  const ofTable = (table: string) => () =>
    Object.fromEntries([...all.entries()].filter(([label]) => label.startsWith(`${table} `)).map(([label, count]) => [label.split(' ')[1]!, count]));
  const posts = { clear: () => all.clear(), byCommand: ofTable(config.tables.posts), entities: ofTable(config.tables.entities) };
  return { url: gateway.url, runtime, db, posts, close: gateway.close };
}

let warm: CountedApi;
let world: World;
type Named = 'rootA' | 'rootB' | 'f1' | 'f2' | 'f3' | 'f4' | 'f5' | 'f6' | 'replyA1' | 'replyA2' | 'replyB1' | 'replyB2' | 'mine' | 'theirs' | 'sinceMs';
const ids = {} as Record<Named, string>;

const auth = (token = world.user('creator').token) => ({ authorization: `Bearer ${token}` });

async function get(api: CountedApi, path: string, token?: string): Promise<{ status: number; body: any }> {
  const response = await fetch(`${api.url}${path}`, { headers: auth(token) });
  return { status: response.status, body: await response.json() };
}

/** A read's answer and the posts-table requests it made, by command (`{ Query: 1, BatchGetItem: 1 }`). */
async function counted(api: CountedApi, path: string, token?: string) {
  // The first read warms the entity caches (user, channel, membership); only the second is counted.
  await get(api, path, token);
  api.posts.clear();
  const response = await get(api, path, token);
  const byCommand = api.posts.byCommand();
  const total = Object.values(byCommand).reduce((sum, count) => sum + count, 0);
  return { ...response, requests: byCommand, total };
}

/** A request made once, from a cold posts side: no entity-cache warm-up of its own. */
async function countedOnce(api: CountedApi, path: string, token?: string) {
  api.posts.clear();
  const response = await get(api, path, token);
  const byCommand = api.posts.byCommand();
  return { ...response, requests: byCommand, total: Object.values(byCommand).reduce((sum, count) => sum + count, 0) };
}

async function createPost(message: string, rootId = ''): Promise<string> {
  const response = await fetch(`${warm.url}/api/v4/posts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...auth() },
    body: JSON.stringify({ channel_id: world.channel('town-square').id, message, root_id: rootId }),
  });
  expect(response.status).toBe(201);
  return ((await response.json()) as { id: string }).id;
}

async function createEphemeral(message: string, readerId: string, rootId = ''): Promise<string> {
  const post = buildPost({ userId: world.user('creator').id, channelId: world.channel('town-square').id, rootId, message, type: 'system_ephemeral', props: {} }, Date.now());
  await warm.runtime.posts.createEphemeralPost(post, readerId, Math.floor(Date.now() / 1000) + 600);
  return post.id;
}

const channelPosts = (query: string) => `/api/v4/channels/${world.channel('town-square').id}/posts${query}`;

beforeAll(async () => {
  warm = await countedApi();
  world = await seedWorld(warm.runtime);
  // Oldest first. With per_page=3 the pages are: [replyB2, replyA2, f6], [f5, replyB1, f4],
  // [f3, replyA1, f2], [f1, rootB, rootA]: every reply's root is on another page.
  ids.rootA = await createPost('root A');
  ids.rootB = await createPost('root B');
  ids.f1 = await createPost('f1');
  ids.f2 = await createPost('f2');
  ids.replyA1 = await createPost('reply A1', ids.rootA);
  ids.f3 = await createPost('f3');
  ids.f4 = await createPost('f4');
  ids.replyB1 = await createPost('reply B1', ids.rootB);
  ids.f5 = await createPost('f5');
  ids.f6 = await createPost('f6');
  ids.sinceMs = String(Date.now());
  await new Promise((resolve) => setTimeout(resolve, 5));
  ids.replyA2 = await createPost('reply A2', ids.rootA);
  ids.replyB2 = await createPost('reply B2', ids.rootB);
  ids.mine = await createEphemeral('for the reader', world.user('creator').id);
  ids.theirs = await createEphemeral('for someone else', world.user('other').id);
  const reacted = await fetch(`${warm.url}/api/v4/reactions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...auth() },
    body: JSON.stringify({ user_id: world.user('creator').id, post_id: ids.replyA1, emoji_name: 'tada' }),
  });
  expect(reacted.status).toBe(200);
});
afterAll(() => warm.close());

describe('channel pages', () => {
  it('the newest page: the page query and one BatchGetItem of its missing roots and the reader\'s ephemeral posts', async () => {
    const { status, body, requests, total } = await counted(warm, channelPosts('?per_page=3'));
    expect(status).toBe(200);
    expect(body.order).toEqual([ids.mine, ids.replyB2, ids.replyA2, ids.f6]);
    expect(Object.keys(body.posts).sort()).toEqual([ids.mine, ids.replyB2, ids.replyA2, ids.f6, ids.rootA, ids.rootB].sort());
    expect(body.posts[ids.theirs]).toBeUndefined();
    expect(requests).toEqual({ Query: 1, BatchGetItem: 1 });
    expect(total).toBeLessThanOrEqual(2);
  });

  it('page N: the page query and one BatchGetItem of its roots', async () => {
    const { body, requests } = await counted(warm, channelPosts('?page=1&per_page=3'));
    expect(body.order).toEqual([ids.f5, ids.replyB1, ids.f4]);
    expect(body.posts[ids.rootB]).toMatchObject({ id: ids.rootB, reply_count: 2 });
    expect(requests).toEqual({ Query: 1, BatchGetItem: 1 });
  });

  it('before and after an anchor this instance has read: no GetItem of the anchor', async () => {
    const before = await counted(warm, channelPosts(`?before=${ids.f4}&per_page=3`));
    expect(before.body.order).toEqual([ids.f3, ids.replyA1, ids.f2]);
    expect(before.body.posts[ids.rootA]).toBeDefined();
    expect(before.body).toMatchObject({ next_post_id: ids.f4, prev_post_id: ids.f1 });
    expect(before.requests).toEqual({ Query: 1, BatchGetItem: 1 });

    const after = await counted(warm, channelPosts(`?after=${ids.f2}&per_page=3`));
    expect(after.body.order).toEqual([ids.f4, ids.f3, ids.replyA1]);
    expect(after.body.posts[ids.rootA]).toBeDefined();
    expect(after.body).toMatchObject({ next_post_id: ids.replyB1, prev_post_id: ids.f2 });
    expect(after.requests).toEqual({ Query: 1, BatchGetItem: 1 });
  });

  it('since: two queries, the roots of new replies among the changes', async () => {
    const { body, requests, total } = await counted(warm, channelPosts(`?since=${ids.sinceMs}`));
    expect(body.order).toEqual(expect.arrayContaining([ids.mine, ids.replyB2, ids.replyA2, ids.rootA, ids.rootB]));
    expect(body.order).not.toContain(ids.theirs);
    expect(requests).toEqual({ Query: 2 });
    expect(total).toBeLessThanOrEqual(2);
  });

  it('a cold instance pages from an anchor it has never read: the id carries the anchor\'s creation time, two requests', async () => {
    const cold = await countedApi();
    try {
      const before = await countedOnce(cold, channelPosts(`?before=${ids.f4}&per_page=3`));
      expect(before.body.order).toEqual([ids.f3, ids.replyA1, ids.f2]);
      expect(before.body.posts[ids.rootA]).toMatchObject({ id: ids.rootA, reply_count: 2 });
      expect(before.body).toMatchObject({ next_post_id: ids.f4, prev_post_id: ids.f1 });
      expect(before.requests).toEqual({ Query: 1, BatchGetItem: 1 });
      const unknown = await countedOnce(cold, channelPosts(`?after=${ids.f5}&per_page=2`));
      expect(unknown.body.order).toEqual([ids.replyA2, ids.f6]);
      expect(Object.keys(unknown.body.posts).sort()).toEqual([ids.replyA2, ids.f6, ids.rootA].sort());
      expect(unknown.body).toMatchObject({ next_post_id: ids.replyB2, prev_post_id: ids.f5 });
      expect(unknown.requests).toEqual({ Query: 1, BatchGetItem: 1 });
      const rootless = await countedOnce(cold, channelPosts(`?before=${ids.f1}&per_page=3`));
      expect(rootless.body.order).toEqual([ids.rootB, ids.rootA]);
      expect(rootless.requests).toEqual({ Query: 1 });
      // The same pages as an instance that has read the anchors answers.
      for (const query of [`?before=${ids.f4}&per_page=3`, `?after=${ids.f5}&per_page=2`]) {
        expect((await countedOnce(cold, channelPosts(query))).body).toEqual((await counted(warm, channelPosts(query))).body);
      }
    } finally {
      await cold.close();
    }
  });

  it('an anchor known by its coordinates is still checked: deleted, or of another channel, it answers 404', async () => {
    const doomed = await createPost('to be deleted');
    await get(warm, channelPosts(`?per_page=1`));
    expect(warm.runtime.posts.knownCoordinates(doomed)).toBeDefined();
    const deleted = await fetch(`${warm.url}/api/v4/posts/${doomed}`, { method: 'DELETE', headers: auth() });
    expect(deleted.status).toBe(200);
    for (const query of [`?before=${doomed}`, `?after=${doomed}`]) {
      const response = await countedOnce(warm, channelPosts(query));
      expect(response.status).toBe(404);
      expect(response.body.id).toBe('app.post.get.app_error');
      expect(response.requests).toEqual({ Query: 1 });
    }
    const elsewhere = await fetch(`${warm.url}/api/v4/posts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...auth() },
      body: JSON.stringify({ channel_id: world.channel('off-topic').id, message: 'elsewhere' }),
    });
    const elsewhereId = ((await elsewhere.json()) as { id: string }).id;
    await get(warm, `/api/v4/posts/${elsewhereId}`);
    const foreign = await countedOnce(warm, channelPosts(`?before=${elsewhereId}`));
    expect(foreign.status).toBe(404);
    expect(foreign.total).toBe(0);
  });
});

/** A post through `POST /api/v4/posts` in a world's town-square, as its creator. */
async function postIn(inWorld: World, message: string, rootId = ''): Promise<string> {
  const response = await fetch(`${warm.url}/api/v4/posts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...auth(inWorld.user('creator').token) },
    body: JSON.stringify({ channel_id: inWorld.channel('town-square').id, message, root_id: rootId }),
  });
  expect(response.status).toBe(201);
  return ((await response.json()) as { id: string }).id;
}

/** A post stored with the id given, as a deployment before time-carrying ids stored it. */
async function storedWithId(inWorld: World, message: string, id: string): Promise<string> {
  await new Promise((resolve) => setTimeout(resolve, 3));
  const post = buildPost({ userId: inWorld.user('creator').id, channelId: inWorld.channel('town-square').id, rootId: '', message, type: '', props: {} }, Date.now(), id);
  await warm.runtime.posts.createPosts([post]);
  await new Promise((resolve) => setTimeout(resolve, 3));
  return post.id;
}

describe('anchors whose id carries no time, or not theirs: read first, as before', () => {
  let own: World;
  const posts = {} as Record<'root' | 'legacy' | 'reply' | 'mistimed' | 'newest', string>;
  const pagesOf = (query: string) => `/api/v4/channels/${own.channel('town-square').id}/posts${query}`;

  beforeAll(async () => {
    own = await seedWorld(warm.runtime);
    // Newest first: newest, mistimed, reply, legacy, root.
    posts.root = await postIn(own, 'root');
    posts.legacy = await storedWithId(own, 'a random id, as before', newId());
    posts.reply = await postIn(own, 'reply', posts.root);
    // An id that passes the check but carries another time than the post's.
    posts.mistimed = await storedWithId(own, 'an id of another time', newPostId(Date.now() - 5_000));
    posts.newest = await postIn(own, 'newest');
  });

  it('an anchor with a random id (made before): a GetItem first, the same page as ever', async () => {
    const cold = await countedApi();
    try {
      const { status, body, requests } = await countedOnce(cold, pagesOf(`?after=${posts.legacy}&per_page=1`), own.user('creator').token);
      expect(status).toBe(200);
      expect(body.order).toEqual([posts.reply]);
      expect(Object.keys(body.posts).sort()).toEqual([posts.reply, posts.root].sort());
      expect(body).toMatchObject({ prev_post_id: posts.legacy, next_post_id: posts.mistimed });
      expect(requests).toEqual({ GetItem: 1, Query: 1, BatchGetItem: 1 });
    } finally {
      await cold.close();
    }
  });

  it('an anchor whose id carries another time: the query misses it, then the anchor is read, the same page as ever', async () => {
    const cold = await countedApi();
    try {
      const { status, body, requests } = await countedOnce(cold, pagesOf(`?before=${posts.mistimed}&per_page=1`), own.user('creator').token);
      expect(status).toBe(200);
      expect(body.order).toEqual([posts.reply]);
      expect(Object.keys(body.posts).sort()).toEqual([posts.reply, posts.root].sort());
      expect(body).toMatchObject({ next_post_id: posts.mistimed, prev_post_id: posts.legacy });
      expect(requests).toEqual({ Query: 2, GetItem: 1, BatchGetItem: 1 });
    } finally {
      await cold.close();
    }
  });

  it('an anchor of another channel, or deleted, still answers 404 when its id carries its time', async () => {
    const doomed = await postIn(own, 'to be deleted');
    expect((await fetch(`${warm.url}/api/v4/posts/${doomed}`, { method: 'DELETE', headers: auth(own.user('creator').token) })).status).toBe(200);
    for (const anchor of [ids.f4, doomed]) {
      for (const query of [`?before=${anchor}`, `?after=${anchor}`]) {
        // A fresh instance each time: the first answer teaches an instance the anchor's coordinates.
        const cold = await countedApi();
        try {
          const response = await countedOnce(cold, pagesOf(query), own.user('creator').token);
          expect({ anchor, query, status: response.status, id: response.body.id }).toEqual({ anchor, query, status: 404, id: 'app.post.get.app_error' });
          expect(response.requests).toEqual({ Query: 1, GetItem: 1 });
        } finally {
          await cold.close();
        }
      }
    }
  });
});

describe('since: the roots of replies that changed while their root did not', () => {
  let own: World;
  const posts = {} as Record<'edited' | 'editedRoot' | 'reacted' | 'reactedRoot' | 'oldRoot' | 'answer' | 'untouched', string>;
  const rootUpdateAt: Record<string, number> = {};
  let sinceMs = 0;
  const sinceOf = () => `/api/v4/channels/${own.channel('town-square').id}/posts?since=${sinceMs}`;
  const token = () => own.user('creator').token;

  beforeAll(async () => {
    own = await seedWorld(warm.runtime);
    posts.editedRoot = await postIn(own, 'root of an edited reply');
    posts.edited = await postIn(own, 'to be edited', posts.editedRoot);
    posts.reactedRoot = await postIn(own, 'root of a reacted reply');
    posts.reacted = await postIn(own, 'to be reacted to', posts.reactedRoot);
    posts.oldRoot = await postIn(own, 'an old post whose button is clicked');
    posts.untouched = await postIn(own, 'no change');
    for (const rootId of [posts.editedRoot, posts.reactedRoot, posts.oldRoot]) rootUpdateAt[rootId] = (await get(warm, `/api/v4/posts/${rootId}`, token())).body.update_at;
    await new Promise((resolve) => setTimeout(resolve, 5));
    sinceMs = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 5));
    const edited = await fetch(`${warm.url}/api/v4/posts/${posts.edited}/patch`, { method: 'PUT', headers: { 'content-type': 'application/json', ...auth(token()) }, body: JSON.stringify({ message: 'edited' }) });
    expect(edited.status).toBe(200);
    const reacted = await fetch(`${warm.url}/api/v4/reactions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...auth(token()) },
      body: JSON.stringify({ user_id: own.user('creator').id, post_id: posts.reacted, emoji_name: 'tada' }),
    });
    expect(reacted.status).toBe(200);
    // An action's ephemeral answer is a reply to the clicked post, which does not change.
    const answer = buildPost({ userId: own.user('creator').id, channelId: own.channel('town-square').id, rootId: posts.oldRoot, message: 'done', type: 'system_ephemeral', props: {} }, Date.now());
    await warm.runtime.posts.createEphemeralPost(answer, own.user('creator').id, Math.floor(Date.now() / 1000) + 600);
    posts.answer = answer.id;
  });

  const expectChanges = (body: any) => {
    // As Mattermost: the changed posts in `order`, their unchanged roots in `posts` only, as they are.
    expect(body.order).toEqual([posts.answer, posts.reacted, posts.edited]);
    expect(Object.keys(body.posts).sort()).toEqual([posts.answer, posts.reacted, posts.edited, posts.editedRoot, posts.reactedRoot, posts.oldRoot].sort());
    expect(body.posts[posts.edited]).toMatchObject({ message: 'edited' });
    expect(body.posts[posts.reacted]).toMatchObject({ has_reactions: true });
    for (const rootId of [posts.editedRoot, posts.reactedRoot, posts.oldRoot]) expect(body.posts[rootId]).toMatchObject({ id: rootId, update_at: rootUpdateAt[rootId] });
  };

  it('the roots come with the changes query: two requests', async () => {
    const { status, body, requests } = await counted(warm, sinceOf(), token());
    expect(status).toBe(200);
    expectChanges(body);
    expect(requests).toEqual({ Query: 2 });
  });

  it('roots not listed among the changes (a listing that failed, or changes made before) are fetched: the same answer, a third request', async () => {
    const table = warm.runtime.config.tables.posts;
    const { body: listed } = await counted(warm, sinceOf(), token());
    for (const rootId of [posts.editedRoot, posts.reactedRoot, posts.oldRoot]) {
      await warm.db.send(new UpdateCommand({ TableName: table, Key: keys.post(rootId), UpdateExpression: 'REMOVE GSI2PK, GSI2SK' }));
    }
    const { body, requests } = await counted(warm, sinceOf(), token());
    expectChanges(body);
    expect(body).toEqual(listed);
    expect(requests).toEqual({ Query: 2, BatchGetItem: 1 });
  });

  it('a listing never moves a root that changed later back, and never creates a root that is gone', async () => {
    const table = warm.runtime.config.tables.posts;
    const rootKey = keys.post(posts.reactedRoot);
    const edited = await fetch(`${warm.url}/api/v4/posts/${posts.reactedRoot}/patch`, { method: 'PUT', headers: { 'content-type': 'application/json', ...auth(token()) }, body: JSON.stringify({ message: 'root edited' }) });
    expect(edited.status).toBe(200);
    const before = (await warm.db.send(new GetCommand({ TableName: table, Key: rootKey }))).Item!;
    // A change of the reply stamped earlier than the root's own (another instance's clock).
    const reacted = (await warm.runtime.posts.getPost(posts.reacted))!;
    await warm.runtime.posts.removeReaction(reacted, own.user('creator').id, 'none', true, Number(before.update_at) - 1_000);
    const after = (await warm.db.send(new GetCommand({ TableName: table, Key: rootKey }))).Item!;
    expect(after.GSI2SK).toBe(before.GSI2SK);
    const gone = newId();
    await warm.runtime.posts.removeReaction({ ...reacted, root_id: gone }, own.user('creator').id, 'none', true, Date.now());
    expect((await warm.db.send(new GetCommand({ TableName: table, Key: keys.post(gone) }))).Item).toBeUndefined();
  });
});

describe('ephemeral posts on the newest page', () => {
  it('an ephemeral reply whose root is neither on the page nor a root of its replies: the one case of a third request', async () => {
    const reader = world.user('other');
    // An action's ephemeral answer is a reply to the clicked post, which may be old.
    const reply = await createEphemeral('an action\'s answer to an old post', reader.id, ids.f1);
    const { body, requests } = await counted(warm, channelPosts('?per_page=3'), reader.token);
    expect(body.order).toContain(reply);
    expect(body.order).toContain(ids.theirs);
    expect(body.posts[ids.f1]).toMatchObject({ id: ids.f1 });
    expect(body.posts[ids.mine]).toBeUndefined();
    expect(requests).toEqual({ Query: 1, BatchGetItem: 2 });
  });

  it('a bundle that cannot hold a large ephemeral post is marked incomplete: the page queries them, and shows them all', async () => {
    const reader = world.user('other');
    const large = await createEphemeral('x'.repeat(MAX_EPHEMERAL_BUNDLE_BYTES), reader.id);
    const { body, requests } = await counted(warm, channelPosts('?per_page=3'), reader.token);
    expect(body.order[0]).toBe(large);
    expect(body.order).toContain(ids.theirs);
    // The fallback query, and the root of the reader's ephemeral reply of the test before.
    expect(requests).toEqual({ Query: 2, BatchGetItem: 2 });
  });

  it('ephemeral posts stored before bundles existed show again once the bundles are backfilled', async () => {
    const reader = world.user('creator');
    const bundle = keys.ephemeralBundle(world.channel('town-square').id, reader.id);
    const table = warm.runtime.config.tables.posts;
    // As a deployment before bundles left it: the post, no bundle.
    await warm.db.send(new DeleteCommand({ TableName: table, Key: bundle }));
    expect((await get(warm, channelPosts('?per_page=3'))).body.order).not.toContain(ids.mine);
    expect(await warm.runtime.posts.backfillEphemeralBundles(Date.now())).toBeGreaterThan(0);
    expect((await warm.db.send(new GetCommand({ TableName: table, Key: bundle }))).Item).toBeDefined();
    expect((await get(warm, channelPosts('?per_page=3'))).body.order).toContain(ids.mine);
  });

  it('concurrent ephemeral posts of one reader all land in the bundle', async () => {
    const reader = world.user('creator');
    const written = await Promise.all(Array.from({ length: 6 }, (_, index) => createEphemeral(`answer ${index}`, reader.id)));
    const { body, requests } = await counted(warm, channelPosts('?per_page=3'));
    expect(body.order).toEqual(expect.arrayContaining([...written, ids.mine]));
    expect(requests).toEqual({ Query: 1, BatchGetItem: 1 });
  });
});

describe('posts and threads', () => {
  it('a single post: one GetItem', async () => {
    const { body, requests } = await counted(warm, `/api/v4/posts/${ids.replyA1}`);
    expect(body.id).toBe(ids.replyA1);
    expect(requests).toEqual({ GetItem: 1 });
  });

  it('a thread by its root: one Query of the root\'s partition, whose entries hold the replies, even on a cold instance', async () => {
    const cold = await countedApi();
    try {
      const { body, requests } = await countedOnce(cold, `/api/v4/posts/${ids.rootA}/thread`);
      expect(body.order).toEqual([ids.replyA2, ids.replyA1, ids.rootA]);
      // The copies are the replies as stored: replyA1 carries its reaction.
      expect(body.posts[ids.replyA1]).toMatchObject({ message: 'reply A1', has_reactions: true, root_id: ids.rootA });
      expect(requests).toEqual({ Query: 1 });
      // Asked by a reply the instance now remembers, its root is known without a read.
      const byReply = await countedOnce(cold, `/api/v4/posts/${ids.replyA1}/thread`);
      expect(byReply.body.order).toEqual([ids.replyA2, ids.replyA1, ids.rootA]);
      expect(byReply.requests).toEqual({ Query: 1 });
    } finally {
      await cold.close();
    }
  });

  it('a thread by a reply an instance has not read (a permalink): its partition first, two requests', async () => {
    const cold = await countedApi();
    try {
      const { body, requests } = await countedOnce(cold, `/api/v4/posts/${ids.replyB1}/thread`);
      expect(body.order).toEqual([ids.replyB2, ids.replyB1, ids.rootB]);
      expect(requests).toEqual({ Query: 2 });
      const warmAgain = await counted(cold, `/api/v4/posts/${ids.replyB1}/thread`);
      expect(warmAgain.requests).toEqual({ Query: 1 });
    } finally {
      await cold.close();
    }
  });

  it('replies whose entry holds no copy (too large, or listed before copies were kept) are fetched by key: one BatchGetItem more', async () => {
    const offTopic = world.channel('off-topic').id;
    const post = async (message: string, rootId = '') => {
      const response = await fetch(`${warm.url}/api/v4/posts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...auth() },
        body: JSON.stringify({ channel_id: offTopic, message, root_id: rootId }),
      });
      expect(response.status).toBe(201);
      return (await response.json()) as { id: string; create_at: number };
    };
    const root = await post('a root with a large reply');
    // 3 bytes a character in UTF-8: past MAX_THREAD_COPY_BYTES, within Mattermost's 16 383 characters.
    const large = await post('€'.repeat(Math.ceil(MAX_THREAD_COPY_BYTES / 3) + 500), root.id);
    const older = await post('listed before copies', root.id);
    const small = await post('a small reply', root.id);
    const table = warm.runtime.config.tables.posts;
    const entryOf = async (reply: { id: string; create_at: number }) =>
      (await warm.db.send(new GetCommand({ TableName: table, Key: keys.threadReply(root.id, reply.create_at, reply.id) }))).Item!;
    expect((await entryOf(large)).reply_copy).toBeUndefined();
    expect((await entryOf(small)).reply_copy).toBe(true);
    // An entry as releases before the copies wrote it: keys, kind and the reply's id.
    await warm.db.send(new PutCommand({ TableName: table, Item: { ...keys.threadReply(root.id, older.create_at, older.id), kind: 'thread_reply', post_id: older.id } }));
    const cold = await countedApi();
    try {
      const { body, requests } = await countedOnce(cold, `/api/v4/posts/${small.id}/thread`);
      expect(body.order).toEqual([small.id, older.id, large.id, root.id]);
      expect(body.posts[large.id].message).toHaveLength(Math.ceil(MAX_THREAD_COPY_BYTES / 3) + 500);
      expect(body.posts[older.id].message).toBe('listed before copies');
      expect(requests).toEqual({ Query: 2, BatchGetItem: 1 });
    } finally {
      await cold.close();
    }
  });

  it('a post\'s reactions: its GetItem and one Query', async () => {
    const { body, requests, total } = await counted(warm, `/api/v4/posts/${ids.replyA1}/reactions`);
    expect(body).toEqual([expect.objectContaining({ post_id: ids.replyA1, emoji_name: 'tada' })]);
    expect(requests).toEqual({ GetItem: 1, Query: 1 });
    expect(total).toBeLessThanOrEqual(2);
  });
});

describe('channel, team and user reads (entities table; the Directory\'s cached reads warm)', () => {
  /** Entity-table requests of a read made twice, the second counted (the caches warmed by the first). */
  async function entityRequests(path: string, token?: string) {
    await get(warm, path, token);
    warm.posts.clear();
    const response = await get(warm, path, token);
    const requests = warm.posts.entities();
    return { ...response, requests, total: Object.values(requests).reduce((sum, count) => sum + count, 0) };
  }

  it('each stays within two requests', async () => {
    const outsider = world.user('outsider').token;
    const cases: Array<[string, string | undefined, Record<string, number>]> = [
      // A public channel read by a team member who has not joined it: both memberships in one BatchGetItem.
      [`/api/v4/channels/${world.channel('town-square').id}`, outsider, { GetItem: 1, BatchGetItem: 1 }],
      [`/api/v4/teams/${world.team.id}/channels/name/town-square`, outsider, { GetItem: 1, BatchGetItem: 1 }],
      [`/api/v4/teams/name/${world.team.name}/channels/name/town-square`, outsider, { GetItem: 1, BatchGetItem: 1 }],
      [`/api/v4/users/me/teams/${world.team.id}/channels`, undefined, { Query: 1, BatchGetItem: 1 }],
      [`/api/v4/teams/${world.team.id}`, undefined, { GetItem: 1 }],
      [`/api/v4/teams/name/${world.team.name}`, undefined, { GetItem: 1, BatchGetItem: 1 }],
      [`/api/v4/users/me/teams`, undefined, { Query: 1, BatchGetItem: 1 }],
      [`/api/v4/users/${world.user('other').id}`, undefined, {}],
      [`/api/v4/users/username/${world.user('other').username}`, undefined, {}],
    ];
    for (const [path, token, expected] of cases) {
      const { status, requests, total } = await entityRequests(path, token);
      expect({ path, status, requests }).toEqual({ path, status: 200, requests: expected });
      expect(total).toBeLessThanOrEqual(2);
    }
  });

  it('still refuses what the caller may not read', async () => {
    const outsider = world.user('outsider').token;
    expect((await get(warm, `/api/v4/channels/${world.channel('private').id}`, outsider)).status).toBe(403);
    expect((await get(warm, `/api/v4/teams/${world.team.id}/channels/name/private`, outsider)).body.id).toBe('app.channel.get_by_name.missing.app_error');
    const stranger = await seedWorld(warm.runtime);
    const foreignToken = stranger.user('creator').token;
    expect((await get(warm, `/api/v4/teams/name/${world.team.name}`, foreignToken)).status).toBe(403);
    expect((await get(warm, `/api/v4/users/me/teams/${world.team.id}/channels`, foreignToken)).status).toBe(403);
    expect((await get(warm, `/api/v4/teams/name/${world.team.name}/channels/name/town-square`, foreignToken)).status).toBe(404);
  });
});
