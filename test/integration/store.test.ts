import { describe, expect, it } from 'vitest';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { newId } from '../../lib/ids.js';
import { buildPost } from '../../lib/posts/rules.js';
import { countRequests, meterCapacity } from '../../lib/store/dynamo.js';
import { PostStore } from '../../lib/store/posts.js';
import { itemsFor } from '../../lib/store/entities.js';
import { directChannelName, keys, SECRET_PREFIX } from '../../lib/store/keys.js';
import { seedWorld, stackEnvironment, testRuntime } from '../support/harness.js';

/** The stores against the real DynamoDB Local. */
describe('EntityStore', () => {
  it('creates one direct channel per pair even when requests race', async () => {
    const runtime = testRuntime();
    const [a, b] = [newId(), newId()];
    const channels = await Promise.all(Array.from({ length: 5 }, async () => (await runtime.entities.openDirectChannel(a, b, Date.now())).channel));
    expect(new Set(channels.map((channel) => channel.id)).size).toBe(1);
    const stored = await runtime.entities.getChannelByName('', directChannelName(b, a));
    expect(stored).toMatchObject({ id: channels[0]!.id, type: 'D', team_id: '' });
    expect(await runtime.entities.isChannelMember(stored!.id, a)).toBe(true);
    expect(await runtime.entities.isChannelMember(stored!.id, b)).toBe(true);
  });

  it('refuses a create-only write over an existing item, writing nothing of that transaction', async () => {
    const runtime = testRuntime();
    const world = await seedWorld(runtime);
    const team = await runtime.entities.getTeam(world.team.id);
    const newcomer = newId();
    await expect(
      runtime.entities.transactWrite([
        itemsFor.teamMember(world.team.id, newcomer),
        ...itemsFor.team(team!).map((write) => ({ ...write, createOnly: true })),
      ]),
    ).rejects.toMatchObject({ name: 'TransactionCanceledException' });
    expect(await runtime.entities.isTeamMember(world.team.id, newcomer)).toBe(false);
  });

  it('keeps integration tokens and signing secrets out of the integration items, in unindexed SECRET# partitions', async () => {
    const runtime = testRuntime();
    const world = await seedWorld(runtime, (names) => ({
      outgoing_webhooks: [{ team: names.team, creator: names.creator, trigger_words: ['x'], callback_urls: ['https://example.com/x'] }],
      commands: [{ team: names.team, trigger: 'x', url: 'https://example.com/x', creator: names.creator }],
    }));
    const [hook] = world.summary.outgoing_webhooks;
    const [command] = world.summary.commands;
    for (const [kind, entity, entityKey] of [
      ['OUTHOOK', hook!, keys.outgoingWebhook(hook!.id)],
      ['COMMAND', command!, keys.command(command!.id)],
    ] as const) {
      const stored = await runtime.entities.getRaw(entityKey);
      expect(stored).toBeDefined();
      expect(JSON.stringify(stored)).not.toContain(entity.token);
      expect(JSON.stringify(stored)).not.toContain(entity.signing_secret);
      const secrets = await runtime.entities.getRaw(keys.secrets(kind, entity.id));
      expect(String(secrets!.PK).startsWith(SECRET_PREFIX)).toBe(true);
      expect(secrets).toMatchObject({ token: entity.token, signing_secret: entity.signing_secret });
      expect(secrets).not.toHaveProperty('GSI1PK');
    }
    expect((await runtime.entities.getOutgoingWebhookWithSecrets(hook!.id))?.secrets.signing_secret).toBe(hook!.signing_secret);
    expect(await runtime.entities.getActionSigningSecret()).toMatch(/^whsec_/);
    expect(keys.actionSigningSecret().PK.startsWith(SECRET_PREFIX)).toBe(true);
  });

  it('archives a channel and soft-deletes its incoming webhooks', async () => {
    const runtime = testRuntime();
    const world = await seedWorld(runtime);
    await runtime.entities.archiveChannel(world.channel('town-square').id, 1234);
    expect((await runtime.entities.getChannel(world.channel('town-square').id))?.delete_at).toBe(1234);
    expect((await runtime.entities.getIncomingWebhook(world.hook('main').id))?.delete_at).toBe(1234);
  });
});

describe('PostStore', () => {
  it('stores and reads back posts, with large props compressed below the item limit', async () => {
    const runtime = testRuntime();
    const channelId = newId();
    const big = buildPost(
      { userId: newId(), channelId, rootId: '', message: 'm', type: '', props: { blob: '那'.repeat(700_000), n: 1e300, '': 'empty key' } },
      Date.now(),
    );
    await runtime.posts.createPosts([big]);
    expect(await runtime.posts.getPost(big.id)).toEqual(big);
  });

  it('writes several posts all or nothing', async () => {
    const runtime = testRuntime();
    const channelId = newId();
    const first = buildPost({ userId: 'u', channelId, rootId: '', message: '1', type: '', props: {} }, 1);
    await runtime.posts.createPosts([first]);
    const second = buildPost({ userId: 'u', channelId, rootId: '', message: '2', type: '', props: {} }, 2);
    await expect(runtime.posts.createPosts([second, first])).rejects.toBeTruthy();
    expect(await runtime.posts.getPost(second.id)).toBeUndefined();
  });
});

describe('the cost of a post', () => {
  it('writes a new post of under 1 KB for two write units: the table and the channel index, not the changes index', async () => {
    const environment = stackEnvironment();
    const db = DynamoDBDocumentClient.from(
      new DynamoDBClient({ endpoint: environment.DYNAMODB_ENDPOINT, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }),
    );
    const capacity = meterCapacity(db);
    const posts = new PostStore(db, environment.TABLE_POSTS!);
    const channelId = newId();
    const post = buildPost({ userId: newId(), channelId, rootId: '', message: 'Build 1234 passed :tada:', type: '', props: { from_webhook: 'true' } }, Date.now());
    await posts.createPosts([post]);
    expect(capacity.writeUnits).toBe(2);

    // An edit enters the changes index too, so a `since` read finds it.
    capacity.writeUnits = 0;
    expect(await posts.writeEdit({ ...post, message: 'Build 1234 passed, deployed', update_at: post.create_at + 5, edit_at: post.create_at + 5 })).toBe(true);
    expect(capacity.writeUnits).toBe(3);
  });

  it('lists the root of an edited or reacted reply among the changes: one UpdateItem of the root more, a new post costs the same', async () => {
    const environment = stackEnvironment();
    const db = DynamoDBDocumentClient.from(
      new DynamoDBClient({ endpoint: environment.DYNAMODB_ENDPOINT, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }),
    );
    const capacity = meterCapacity(db);
    const counts = countRequests(db);
    const posts = new PostStore(db, environment.TABLE_POSTS!);
    const [channelId, userId] = [newId(), newId()];
    const base = Date.now() - 10_000;
    const root = buildPost({ userId, channelId, rootId: '', message: 'root', type: '', props: {} }, base);
    const reply = buildPost({ userId, channelId, rootId: root.id, message: 'reply', type: '', props: {} }, base + 1);
    await posts.createPosts([root]);
    await posts.createPosts([reply]);
    const measure = async (write: () => Promise<unknown>) => {
      capacity.writeUnits = 0;
      counts.clear();
      await write();
      return { writeUnits: capacity.writeUnits, requests: Object.fromEntries(counts) };
    };
    // Under 1 KB each. The listing is one UpdateItem of the root: the table, the channel index
    // (which projects every attribute) and the changes index (its old entry out, the new one in).
    // A reply's item and its thread entry's copy change in one transaction, which bills each write
    // twice: the item's three (table, channel index, changes index) and the entry's one.
    expect(await measure(() => posts.writeEdit({ ...reply, message: 'edited', update_at: base + 2_000, edit_at: base + 2_000 }))).toEqual({
      writeUnits: 2 * (3 + 1) + 4,
      requests: { TransactWriteItemsCommand: 1, UpdateItemCommand: 1 },
    });
    // A root's edit is one UpdateItem: no thread entry to keep in step.
    expect(await measure(() => posts.writeEdit({ ...root, message: 'edited', update_at: base + 2_500, edit_at: base + 2_500 }))).toEqual({
      writeUnits: 4,
      requests: { UpdateItemCommand: 1 },
    });
    const reaction = (postId: string, atMs: number) => ({ user_id: userId, post_id: postId, emoji_name: 'tada', create_at: atMs, update_at: atMs, delete_at: 0, remote_id: '', channel_id: channelId });
    // The reaction's transaction also updates the entry's copy. DynamoDB Local bills that update
    // nothing (its table units stay 4 for three items); DynamoDB bills two write units more.
    expect(await measure(() => posts.addReaction(reaction(reply.id, base + 3_000), reply))).toEqual({
      writeUnits: 10 + 4,
      requests: { TransactWriteItemsCommand: 1, UpdateItemCommand: 1 },
    });
    expect(await measure(() => posts.addReaction(reaction(root.id, base + 3_500), root))).toEqual({ writeUnits: 10, requests: { TransactWriteItemsCommand: 1 } });
    const expiresAt = Math.floor(Date.now() / 1000) + 600;
    const answer = buildPost({ userId, channelId, rootId: root.id, message: 'answer', type: '', props: {} }, base + 4_000);
    expect(await measure(() => posts.createEphemeralPost(answer, userId, expiresAt))).toEqual({
      writeUnits: 8 + 4,
      requests: { GetItemCommand: 1, TransactWriteItemsCommand: 1, UpdateItemCommand: 1 },
    });
    const alone = buildPost({ userId, channelId, rootId: '', message: 'alone', type: '', props: {} }, base + 5_000);
    expect(await measure(() => posts.createEphemeralPost(alone, userId, expiresAt))).toMatchObject({ requests: { GetItemCommand: 1, TransactWriteItemsCommand: 1 } });
    // A new post, root or not, lists nothing: a new reply changes its root in its own transaction.
    const fresh = buildPost({ userId, channelId, rootId: '', message: 'Build 1234 passed :tada:', type: '', props: { from_webhook: 'true' } }, Date.now());
    expect(await measure(() => posts.createPosts([fresh]))).toEqual({ writeUnits: 2, requests: { PutItemCommand: 1 } });
    const newReply = buildPost({ userId, channelId, rootId: root.id, message: 'another reply', type: '', props: {} }, Date.now());
    // A new reply's thread entry holds its copy at no cost: under 1 KB, as the id alone was (14 before the copies).
    expect(await measure(() => posts.createPosts([newReply]))).toEqual({ writeUnits: 14, requests: { TransactWriteItemsCommand: 1 } });
  });

  it('answers `since` with new posts, changed posts and the reader\'s own ephemeral posts, in two queries', async () => {
    const environment = stackEnvironment();
    const db = DynamoDBDocumentClient.from(
      new DynamoDBClient({ endpoint: environment.DYNAMODB_ENDPOINT, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }),
    );
    const posts = new PostStore(db, environment.TABLE_POSTS!);
    const counts = countRequests(db);
    const [channelId, reader, other] = [newId(), newId(), newId()];
    const base = Date.now() - 10_000;
    const make = (message: string, atMs: number) => buildPost({ userId: other, channelId, rootId: '', message, type: '', props: {} }, atMs);
    const old = make('old', base);
    const edited = make('edited later', base + 1);
    const fresh = make('new', base + 3_000);
    await posts.createPosts([old]);
    await posts.createPosts([edited]);
    await posts.createPosts([fresh]);
    expect(await posts.writeEdit({ ...edited, message: 'edited', update_at: base + 4_000, edit_at: base + 4_000 })).toBe(true);
    const mine = make('only for the reader', base + 5_000);
    const theirs = make('only for someone else', base + 5_001);
    await posts.createEphemeralPost(mine, reader, Math.floor(Date.now() / 1000) + 600);
    await posts.createEphemeralPost(theirs, other, Math.floor(Date.now() / 1000) + 600);
    counts.clear();
    const { posts: since } = await posts.changedSince(channelId, base + 2_000, reader, Date.now());
    expect(since.map((post) => post.message)).toEqual(['only for the reader', 'new', 'edited']);
    expect(Object.fromEntries(counts)).toEqual({ QueryCommand: 2 });
  });
});

describe('the warm incoming-webhook path', () => {
  it('costs one DynamoDB write and no reads per post once the hook is cached', async () => {
    const environment = stackEnvironment();
    const db = DynamoDBDocumentClient.from(
      new DynamoDBClient({ endpoint: environment.DYNAMODB_ENDPOINT, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }),
    );
    const counts = countRequests(db);
    const runtime = testRuntime();
    const world = await seedWorld(runtime);
    const { createHandler } = await import('../../functions/incoming-webhook.js');
    const { createRuntime } = await import('../../lib/runtime.js');
    const counted = createRuntime(runtime.config, runtime.logger, db);
    const handler = createHandler(counted);
    const event = (text: string) =>
      ({
        version: '2.0',
        routeKey: 'POST /hooks/{hook_id}',
        rawPath: `/hooks/${world.hook('main').id}`,
        rawQueryString: '',
        headers: { 'content-type': 'application/json' },
        pathParameters: { hook_id: world.hook('main').id },
        requestContext: { http: { method: 'POST', path: `/hooks/${world.hook('main').id}` }, requestId: 'r' },
        body: JSON.stringify({ text }),
        isBase64Encoded: false,
      }) as never;
    expect((await handler(event('warm-up'))).statusCode).toBe(200);
    counts.clear();
    for (let i = 0; i < 20; i++) expect((await handler(event(`post ${i}`))).statusCode).toBe(200);
    // The rate limit's shared counter (on by default) adds one UpdateItem per sync batch, a tenth
    // of the window's budget (10/s and a burst of 100 over 60 s: 70 posts), never one per post.
    const { PutItemCommand, UpdateItemCommand = 0, ...reads } = Object.fromEntries(counts);
    expect(PutItemCommand).toBe(20);
    expect(UpdateItemCommand).toBe(0);
    expect(reads).toEqual({});

    // Without the limit, exactly one write per post.
    const unlimited = createHandler(createRuntime({ ...runtime.config, incomingWebhookRateLimit: undefined }, runtime.logger, db));
    expect((await unlimited(event('warm-up'))).statusCode).toBe(200);
    counts.clear();
    for (let i = 0; i < 20; i++) expect((await unlimited(event(`unlimited ${i}`))).statusCode).toBe(200);
    expect(Object.fromEntries(counts)).toEqual({ PutItemCommand: 20 });
  });
});
