import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCallbackServer, type CallbackServer } from '../support/callback-server.js';
import { auth, BAD_ID, seedWorld, startOutgoingStack, withApiAndWorlds, type Api, type OutgoingStack, type World } from '../support/harness.js';
import { client4, failure } from '../support/client4.js';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { documentClient } from '../../lib/store/dynamo.js';
import { keys } from '../../lib/store/keys.js';

let api: Api;
let world: World;

withApiAndWorlds(1, (started, [seeded]) => ([api, world] = [started, seeded!]), { ENABLE_POST_USERNAME_OVERRIDE: 'true', ENABLE_POST_ICON_OVERRIDE: 'true' });

const clientFor = (token: string) => client4(api.url, token);

async function createPost(body: Record<string, unknown>, user = 'creator') {
  const response = await api.postJson('/api/v4/posts', { channel_id: world.channel('town-square').id, ...body }, auth(world.user(user).token));
  expect(response.status, response.text).toBe(201);
  return response.json();
}

async function readPost(postId: string, user = 'creator') {
  return api.request('GET', `/api/v4/posts/${postId}`, { headers: auth(world.user(user).token) });
}

/** The newest post of town-square with this message, as the creator reads the channel. */
async function findPost(message: string) {
  const response = await api.request('GET', `/api/v4/channels/${world.channel('town-square').id}/posts`, { headers: auth(world.user('creator').token) });
  const found = Object.values(response.json().posts as Record<string, any>).find((post) => post.message === message);
  expect(found, message).toBeDefined();
  return found;
}

describe('PUT /posts/{post_id} and /patch', () => {
  it('updates the author\'s post: message, props, edit_at, as updatePost sends it', async () => {
    const post = await createPost({ message: 'disk full on db1', props: { severity: 'high' } });
    const client = clientFor(world.user('creator').token);
    const updated = await client.updatePost({ ...post, message: 'RESOLVED: disk full on db1', props: { severity: 'ok' } });
    expect(updated).toMatchObject({ id: post.id, message: 'RESOLVED: disk full on db1', props: { severity: 'ok' }, create_at: post.create_at, user_id: post.user_id });
    expect(updated.edit_at).toBeGreaterThan(0);
    expect(updated.update_at).toBeGreaterThan(post.update_at);
    expect((await readPost(post.id)).json()).toEqual(updated);
  });

  it('patches only the given fields, and an unchanged message leaves edit_at alone', async () => {
    const post = await createPost({ message: 'build #1 running', props: { a: 1, b: 2 } });
    const client = clientFor(world.user('creator').token);
    const pinned = await client.patchPost({ id: post.id, is_pinned: true });
    expect(pinned).toMatchObject({ message: 'build #1 running', props: { a: 1, b: 2 }, is_pinned: true, edit_at: 0 });
    const patched = await client.patchPost({ id: post.id, message: 'build #1 passed' });
    expect(patched).toMatchObject({ message: 'build #1 passed', props: { a: 1, b: 2 }, is_pinned: true });
    expect(patched.edit_at).toBeGreaterThan(0);
    const propsOnly = await client.patchPost({ id: post.id, props: { c: 3 } });
    expect(propsOnly).toMatchObject({ message: 'build #1 passed', props: { c: 3 }, edit_at: patched.edit_at });
  });

  it('keeps from_webhook and the overrides of a webhook post, whatever the edit says', async () => {
    const hooked = await api.postJson(world.hook('main').url, { text: 'alert from zabbix', username: 'zabbix', icon_url: 'https://example.com/z.png' });
    expect(hooked.status).toBe(200);
    const post = await findPost('alert from zabbix');
    expect(post.props).toMatchObject({ from_webhook: 'true', override_username: 'zabbix' });
    const client = clientFor(world.user('creator').token);
    const updated = await client.updatePost({ ...post, message: 'resolved', props: { from_webhook: 'false', override_username: 'evil', k: 'v' } });
    expect(updated.props).toEqual({ ...post.props, k: 'v' });
    const patched = await client.patchPost({ id: post.id, props: {} });
    expect(patched.props).toEqual(post.props);
  });

  it('strips action integrations from an edited post\'s answer and reads', async () => {
    const post = await createPost({ message: 'deploy?' });
    const attachments = [{ text: 'go', actions: [{ id: 'approve', name: 'Approve', integration: { url: 'https://ops.example.com/secret', context: { token: 'hidden' } } }] }];
    const response = await api.request('PUT', `/api/v4/posts/${post.id}/patch`, { body: JSON.stringify({ props: { attachments } }), headers: auth(world.user('creator').token) });
    expect(response.status).toBe(200);
    expect(response.text).not.toContain('ops.example.com');
    expect(response.text).not.toContain('hidden');
    expect((await readPost(post.id)).text).not.toContain('ops.example.com');
  });

  it('refuses another user\'s post with 403, unknown and invisible posts with 404 or 403, bad input with 400', async () => {
    const post = await createPost({ message: 'mine' });
    const other = clientFor(world.user('other').token);
    const forbidden = { status: 403, id: 'api.context.permissions.app_error' };
    expect(await failure(other.patchPost({ id: post.id, message: 'theirs' }))).toEqual(forbidden);
    expect(await failure(other.updatePost({ ...post, message: 'theirs' }))).toEqual(forbidden);
    // Outside the channel: as reads, 403; unknown: 404.
    const privatePost = await createPost({ channel_id: world.channel('private').id, message: 'secret' });
    expect(await failure(other.patchPost({ id: privatePost.id, message: 'x' }))).toEqual(forbidden);
    expect(await failure(other.patchPost({ id: BAD_ID, message: 'x' }))).toEqual({ status: 404, id: 'app.post.get.app_error' });
    expect((await readPost(post.id)).json().message).toBe('mine');
    const headers = auth(world.user('creator').token);
    const cases: Array<[string, string, string, string]> = [
      ['PUT', '/api/v4/posts/abc', JSON.stringify({ id: 'abc', message: 'x' }), 'api.context.invalid_url_param.app_error'],
      ['PUT', `/api/v4/posts/${post.id}`, JSON.stringify({ id: BAD_ID, message: 'x' }), 'api.context.invalid_body_param.app_error'],
      ['PUT', `/api/v4/posts/${post.id}`, JSON.stringify({ message: 'x' }), 'api.context.invalid_body_param.app_error'],
      ['PUT', `/api/v4/posts/${post.id}/patch`, 'not json', 'api.context.invalid_body_param.app_error'],
      ['PUT', `/api/v4/posts/${post.id}/patch`, JSON.stringify({ message: 5 }), 'api.context.invalid_body_param.app_error'],
      ['PUT', `/api/v4/posts/${post.id}/patch`, JSON.stringify({ props: [] }), 'api.context.invalid_body_param.app_error'],
      ['PUT', `/api/v4/posts/${post.id}/patch`, JSON.stringify({ is_pinned: 'yes' }), 'api.context.invalid_body_param.app_error'],
      ['PUT', `/api/v4/posts/${post.id}/patch`, JSON.stringify([1]), 'api.context.invalid_body_param.app_error'],
      ['PUT', `/api/v4/posts/${post.id}/patch`, JSON.stringify({ message: 'x'.repeat(16_384) }), 'model.post.is_valid.message_length.app_error'],
      ['DELETE', '/api/v4/posts/abc', '', 'api.context.invalid_url_param.app_error'],
    ];
    for (const [method, path, body, id] of cases) {
      const response = await api.request(method, path, { body, headers });
      expect(response.status, `${method} ${path} ${body.slice(0, 40)}`).toBe(400);
      expect(response.json()).toMatchObject({ id });
    }
    expect((await readPost(post.id)).json().message).toBe('mine');
    for (const [method, path] of [['PUT', `/api/v4/posts/${post.id}`], ['PUT', `/api/v4/posts/${post.id}/patch`], ['DELETE', `/api/v4/posts/${post.id}`]] as const) {
      expect((await api.request(method, path, { body: JSON.stringify({ id: post.id, message: 'x' }) })).status, path).toBe(401);
    }
  });
});

describe('DELETE /posts/{post_id}', () => {
  it('soft-deletes the author\'s post, which then reads as 404 and cannot be edited', async () => {
    const post = await createPost({ message: 'to delete' });
    const client = clientFor(world.user('creator').token);
    expect(await client.deletePost(post.id)).toEqual({ status: 'OK' });
    const read = await readPost(post.id);
    expect(read.status).toBe(404);
    expect(read.json()).toMatchObject({ id: 'app.post.get.app_error' });
    expect(await failure(client.patchPost({ id: post.id, message: 'back' }))).toMatchObject({ status: 404 });
    expect(await failure(client.deletePost(post.id))).toMatchObject({ status: 404 });
    // Soft: the item stays, marked.
    const stored = await api.runtime.posts.getPost(post.id);
    expect(stored?.delete_at).toBeGreaterThan(0);
    expect(stored?.props.deleteBy).toBe(world.user('creator').id);
  });

  it('deletes a root\'s replies with it, as Mattermost, and they leave the channel\'s reads', async () => {
    const root = await createPost({ message: 'root to delete' });
    const reply = await createPost({ message: 'reply of a deleted root', root_id: root.id }, 'other');
    const unrelated = await createPost({ message: 'unrelated' });
    await clientFor(world.user('creator').token).deletePost(root.id);
    expect((await readPost(reply.id, 'other')).status).toBe(404);
    expect((await readPost(unrelated.id)).status).toBe(200);
    const since = await api.request('GET', `/api/v4/channels/${world.channel('town-square').id}/posts?since=${reply.create_at}`, { headers: auth(world.user('creator').token) });
    expect(since.json().posts[reply.id]).toMatchObject({ delete_at: expect.any(Number) });
    expect(since.json().posts[reply.id].delete_at).toBeGreaterThan(0);
  });

  it('leaves the channel\'s pages, before= and after= included, as Mattermost; since= still tells of it', async () => {
    const channelId = world.channel('town-square').id;
    const before = await createPost({ message: 'kept before' });
    const gone = await createPost({ message: 'oops, a secret' });
    const goneRoot = await createPost({ message: 'a root that goes' });
    const goneReply = await createPost({ message: 'its reply goes too', root_id: goneRoot.id }, 'other');
    const after = await createPost({ message: 'kept after' });
    const client = clientFor(world.user('creator').token);
    await client.deletePost(gone.id);
    await client.deletePost(goneRoot.id);
    const deletedIds = [gone.id, goneRoot.id, goneReply.id];
    const reader = clientFor(world.user('other').token);
    const newest = await reader.getPosts(channelId, 0, 3);
    expect(newest.order).toEqual([after.id, before.id, expect.any(String)]);
    for (const id of deletedIds) expect(newest.posts[id], id).toBeUndefined();
    expect(JSON.stringify(newest)).not.toContain('oops, a secret');
    // Paging on from either side of the deleted posts: every anchor is a post that can be read.
    expect((await reader.getPostsAfter(channelId, before.id, 0, 10)).order).toEqual([after.id]);
    expect((await reader.getPostsBefore(channelId, after.id, 0, 1)).order).toEqual([before.id]);
    expect((await reader.getPostsAfter(channelId, newest.prev_post_id, 0, 3)).order).toContain(before.id);
    // since= is how clients learn of a delete: there the posts are, marked deleted.
    const since = await reader.getPostsSince(channelId, before.create_at);
    for (const id of deletedIds) expect(since.posts[id]?.delete_at, id).toBeGreaterThan(0);
  });

  it('skips a deleted post still listed among the channel\'s posts by an older release', async () => {
    const channelId = world.channel('town-square').id;
    const kept = await createPost({ message: 'kept' });
    const legacy = await createPost({ message: 'deleted long ago' });
    await clientFor(world.user('creator').token).deletePost(legacy.id);
    // As a release before this one stored a delete: the post stays in the channel index (GSI1).
    const db = documentClient({ endpoint: api.runtime.config.dynamodbEndpoint, region: api.runtime.config.region });
    await db.send(
      new UpdateCommand({
        TableName: api.runtime.config.tables.posts,
        Key: keys.post(legacy.id),
        UpdateExpression: 'SET GSI1PK = :channel, GSI1SK = :order',
        ExpressionAttributeValues: { ':channel': keys.postsOfChannel(channelId), ':order': keys.postOrder(legacy.create_at, legacy.id) },
      }),
    );
    const page = await clientFor(world.user('other').token).getPosts(channelId, 0, 5);
    expect(page.posts[legacy.id]).toBeUndefined();
    expect(page.order[0]).toBe(kept.id);
  });

  it('refuses another user\'s post with 403 and an unknown one with 404', async () => {
    const post = await createPost({ message: 'not yours' });
    expect(await failure(clientFor(world.user('other').token).deletePost(post.id))).toEqual({ status: 403, id: 'api.context.permissions.app_error' });
    expect((await readPost(post.id)).status).toBe(200);
    expect(await failure(clientFor(world.user('creator').token).deletePost(BAD_ID))).toMatchObject({ status: 404 });
  });
});

describe('reply_count and last_reply_at', () => {
  it('are kept on the root by every path that creates a reply, and lowered by a deleted reply', async () => {
    const root = await createPost({ message: 'root of a thread' });
    expect(root).toMatchObject({ reply_count: 0, last_reply_at: 0 });
    const first = await createPost({ message: 'reply 1', root_id: root.id }, 'other');
    let read = (await readPost(root.id)).json();
    expect(read).toMatchObject({ reply_count: 1, last_reply_at: first.create_at });
    expect(read.update_at).toBeGreaterThanOrEqual(first.create_at);
    // An incoming webhook replying in the thread.
    const hooked = await api.postJson(world.hook('main').url, { text: 'reply from a hook', root_id: root.id });
    expect(hooked.status).toBe(200);
    const hookReply = await findPost('reply from a hook');
    read = (await readPost(root.id)).json();
    expect(read).toMatchObject({ reply_count: 2, last_reply_at: hookReply.create_at });
    // The root's change shows in `since` reads, so clients learn the new count.
    const since = await api.request('GET', `/api/v4/channels/${world.channel('town-square').id}/posts?since=${first.create_at}`, { headers: auth(world.user('creator').token) });
    expect(since.json().posts[root.id]).toMatchObject({ reply_count: 2 });
    // A deleted reply is no longer counted; last_reply_at stays, as Mattermost's.
    await clientFor(world.user('other').token).deletePost(first.id);
    read = (await readPost(root.id)).json();
    expect(read).toMatchObject({ reply_count: 1, last_reply_at: hookReply.create_at });
    // An edit of the root keeps the count.
    const edited = await clientFor(world.user('creator').token).patchPost({ id: root.id, message: 'root, edited' });
    expect(edited).toMatchObject({ reply_count: 1, last_reply_at: hookReply.create_at });
  });
});

describe('GET /posts/{post_id}/thread', () => {
  it('answers the root and its replies, newest first, from the root or any reply, deleted replies left out', async () => {
    const root = await createPost({ message: 'thread root' });
    const first = await createPost({ message: 'thread reply 1', root_id: root.id }, 'other');
    const hooked = await api.postJson(world.hook('main').url, { text: 'thread reply 2', root_id: root.id });
    expect(hooked.status).toBe(200);
    const second = await findPost('thread reply 2');
    const third = await createPost({ message: 'thread reply 3', root_id: root.id });
    await createPost({ message: 'not in the thread' });
    const client = clientFor(world.user('other').token);
    const thread = await client.getPostThread(root.id);
    expect(thread.order).toEqual([third.id, second.id, first.id, root.id]);
    expect(Object.keys(thread.posts).sort()).toEqual([root.id, first.id, second.id, third.id].sort());
    expect(thread.posts[root.id]).toMatchObject({ message: 'thread root', reply_count: 3 });
    expect(thread.posts[second.id]).toMatchObject({ root_id: root.id, props: { from_webhook: 'true' } });
    expect(thread).toMatchObject({ next_post_id: '', prev_post_id: '', has_next: false });
    expect((await client.getPostThread(first.id)).order).toEqual(thread.order);
    await clientFor(world.user('creator').token).deletePost(third.id);
    expect((await client.getPostThread(root.id)).order).toEqual([second.id, first.id, root.id]);
  });

  it('answers 403 outside the channel, 404 for unknown or deleted posts, 400 for bad ids, 401 without a token', async () => {
    const root = await createPost({ channel_id: world.channel('private').id, message: 'private thread' });
    expect(await failure(clientFor(world.user('other').token).getPostThread(root.id))).toEqual({ status: 403, id: 'api.context.permissions.app_error' });
    expect((await clientFor(world.user('creator').token).getPostThread(root.id)).order).toEqual([root.id]);
    expect(await failure(clientFor(world.user('creator').token).getPostThread(BAD_ID))).toEqual({ status: 404, id: 'app.post.get.app_error' });
    const gone = await createPost({ message: 'gone root' });
    await clientFor(world.user('creator').token).deletePost(gone.id);
    expect(await failure(clientFor(world.user('creator').token).getPostThread(gone.id))).toMatchObject({ status: 404 });
    const malformed = await api.request('GET', '/api/v4/posts/abc/thread', { headers: auth(world.user('creator').token) });
    expect(malformed.status).toBe(400);
    expect(malformed.json()).toMatchObject({ id: 'api.context.invalid_url_param.app_error' });
    expect((await api.request('GET', `/api/v4/posts/${root.id}/thread`)).status).toBe(401);
  });
});

describe('edits and outgoing webhooks', () => {
  let stack: OutgoingStack;
  let server: CallbackServer;
  let hookWorld: World;
  beforeAll(async () => {
    stack = await startOutgoingStack();
    server = await startCallbackServer();
    hookWorld = await seedWorld(stack.api.runtime, (names) => ({
      outgoing_webhooks: [{ team: names.team, channel: 'town-square', creator: names.creator, trigger_words: ['build'], callback_urls: [`${server.url}/hook`] }],
    }));
  });
  afterAll(async () => {
    await server.close();
    await stack.close();
  });

  it('an edit or a delete never triggers an outgoing webhook; a new post does', async () => {
    const headers = auth(hookWorld.user('creator').token);
    const created = await stack.api.postJson('/api/v4/posts', { channel_id: hookWorld.channel('town-square').id, message: 'build one' }, headers);
    expect(created.status).toBe(201);
    await server.waitFor(1);
    const post = created.json();
    const edited = await stack.api.request('PUT', `/api/v4/posts/${post.id}/patch`, { body: JSON.stringify({ message: 'build two' }), headers });
    expect(edited.status).toBe(200);
    const updated = await stack.api.request('PUT', `/api/v4/posts/${post.id}`, { body: JSON.stringify({ ...post, message: 'build three' }), headers });
    expect(updated.status).toBe(200);
    expect((await stack.api.request('DELETE', `/api/v4/posts/${post.id}`, { headers })).status).toBe(200);
    // A later new post is delivered, and the edits before it were not.
    const next = await stack.api.postJson('/api/v4/posts', { channel_id: hookWorld.channel('town-square').id, message: 'build four' }, headers);
    expect(next.status).toBe(201);
    const received = await server.waitFor(2);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const texts = server.received.map((request) => new URLSearchParams(request.body).get('text'));
    expect(texts).toEqual(['build one', 'build four']);
    expect(received).toHaveLength(2);
  });
});
