import { describe, expect, it } from 'vitest';
import { auth, seedWorld, startApi, withApiAndWorlds, type Api, type World } from '../support/harness.js';

let api: Api;
let world: World;

withApiAndWorlds(1, (started, [seeded]) => ([api, world] = [started, seeded!]));

async function createPost(body: Record<string, unknown>, token = world.user('creator').token) {
  return api.postJson('/api/v4/posts', body, auth(token));
}

describe('GET /api/v4/system/ping', () => {
  it('answers OK without authentication', async () => {
    const response = await api.request('GET', '/api/v4/system/ping');
    expect(response.status).toBe(200);
    expect(response.json()).toEqual({ status: 'OK' });
    expect(response.headers.get('x-request-id')).toMatch(/^[a-z0-9]{26}$/);
  });
});

describe('POST /api/v4/posts', () => {
  it('creates a post with Mattermost\'s shape and answers 201', async () => {
    const response = await createPost({ channel_id: world.channel('town-square').id, message: 'hello', props: { k: 'v' } });
    expect(response.status).toBe(201);
    const created = response.json();
    expect(created).toMatchObject({
      channel_id: world.channel('town-square').id,
      user_id: world.user('creator').id,
      message: 'hello',
      root_id: '',
      type: '',
      props: { k: 'v' },
      delete_at: 0,
      edit_at: 0,
      is_pinned: false,
      metadata: {},
    });
    expect(created.id).toMatch(/^[a-z0-9]{26}$/);
    expect(created.create_at).toBe(created.update_at);
    const read = await api.request('GET', `/api/v4/posts/${created.id}`, { headers: auth(world.user('creator').token) });
    expect(read.json()).toEqual(created);
  });

  it('answers 401 without a valid token', async () => {
    for (const headers of [{}, auth('not-a-token'), { authorization: 'Basic abc' }]) {
      const response = await api.postJson('/api/v4/posts', { channel_id: world.channel('town-square').id, message: 'x' }, headers);
      expect(response.status).toBe(401);
      expect(response.json()).toMatchObject({ id: 'api.context.session_expired.app_error', status_code: 401 });
    }
  });

  it('accepts the older "Token" authorization scheme', async () => {
    const response = await api.postJson(
      '/api/v4/posts',
      { channel_id: world.channel('town-square').id, message: 'x' },
      { authorization: `Token ${world.user('creator').token}` },
    );
    expect(response.status).toBe(201);
  });

  it('answers 403 in a channel the user is not a member of, and for unknown channels', async () => {
    const outsider = world.user('outsider').token;
    expect((await createPost({ channel_id: world.channel('town-square').id, message: 'x' }, outsider)).status).toBe(403);
    expect((await createPost({ channel_id: world.channel('private').id, message: 'x' }, world.user('other').token)).status).toBe(403);
    const unknown = await createPost({ channel_id: 'a'.repeat(26), message: 'x' });
    expect(unknown.status).toBe(403);
    expect(unknown.json().id).toBe('api.context.permissions.app_error');
  });

  it('refuses a missing or malformed channel id with 400', async () => {
    expect((await createPost({ message: 'x' })).status).toBe(400);
    expect((await createPost({ channel_id: 'short', message: 'x' })).status).toBe(400);
  });

  it('strips server-owned props and refuses system types and long messages', async () => {
    const channelId = world.channel('town-square').id;
    const spoof = await createPost({ channel_id: channelId, message: 'x', props: { from_webhook: 'true', override_username: 'boss', ok: 1 } });
    expect(spoof.json().props).toEqual({ ok: 1 });
    expect((await createPost({ channel_id: channelId, message: 'x', type: 'system_join_channel' })).status).toBe(400);
    const long = await createPost({ channel_id: channelId, message: 'a'.repeat(16_384) });
    expect(long.status).toBe(400);
    expect(long.json().id).toBe('model.post.is_valid.message_length.app_error');
    expect((await createPost({ channel_id: channelId, message: 'a'.repeat(16_383) })).status).toBe(201);
  });

  it('replies to a root post of the same channel only', async () => {
    const channelId = world.channel('town-square').id;
    const root = (await createPost({ channel_id: channelId, message: 'root' })).json();
    const reply = await createPost({ channel_id: channelId, message: 'reply', root_id: root.id });
    expect(reply.status).toBe(201);
    expect(reply.json().root_id).toBe(root.id);
    expect((await createPost({ channel_id: channelId, message: 'x', root_id: reply.json().id })).status).toBe(400);
    expect((await createPost({ channel_id: world.channel('off-topic').id, message: 'x', root_id: root.id })).status).toBe(400);
    expect((await createPost({ channel_id: channelId, message: 'x', root_id: 'a'.repeat(26) })).status).toBe(400);
  });

  it('refuses posts to an archived channel', async () => {
    const archived = await seedWorld(api.runtime);
    await api.runtime.entities.archiveChannel(archived.channel('off-topic').id, Date.now());
    const fresh = await startApi();
    try {
      const response = await fresh.postJson(
        '/api/v4/posts',
        { channel_id: archived.channel('off-topic').id, message: 'x' },
        auth(archived.user('creator').token),
      );
      expect(response.status).toBe(400);
      expect(response.json().id).toBe('api.post.create_post.can_not_post_to_deleted.error');
    } finally {
      await fresh.close();
    }
  });
});

describe('GET /api/v4/posts/{post_id}', () => {
  it('answers 404 for an unknown post, 400 for a malformed id, 403 for a non-member', async () => {
    const token = world.user('creator').token;
    expect((await api.request('GET', `/api/v4/posts/${'b'.repeat(26)}`, { headers: auth(token) })).status).toBe(404);
    expect((await api.request('GET', '/api/v4/posts/nope', { headers: auth(token) })).status).toBe(400);
    const created = (await createPost({ channel_id: world.channel('private').id, message: 'secret' })).json();
    const denied = await api.request('GET', `/api/v4/posts/${created.id}`, { headers: auth(world.user('other').token) });
    expect(denied.status).toBe(403);
  });
});

describe('GET /api/v4/channels/{channel_id}/posts', () => {
  it('pages newest first with before, after and since', async () => {
    const paged = await seedWorld(api.runtime);
    const token = paged.user('creator').token;
    const channelId = paged.channel('town-square').id;
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      const response = await api.postJson('/api/v4/posts', { channel_id: channelId, message: `m${i}` }, auth(token));
      ids.push(response.json().id);
      await new Promise((resolve) => setTimeout(resolve, 3));
    }
    const get = async (query: string) => {
      const response = await api.request('GET', `/api/v4/channels/${channelId}/posts${query}`, { headers: auth(token) });
      expect(response.status, response.text).toBe(200);
      return response.json();
    };
    const newestFirst = [...ids].reverse();

    const all = await get('');
    expect(all.order).toEqual(newestFirst);
    expect(Object.keys(all.posts).sort()).toEqual([...ids].sort());
    expect(all.prev_post_id).toBe('');

    const page1 = await get('?page=1&per_page=3');
    expect(page1.order).toEqual(newestFirst.slice(3, 6));
    expect(page1.next_post_id).toBe(newestFirst[2]);
    expect(page1.prev_post_id).toBe(newestFirst[6]);
    expect(page1.has_next).toBe(true);

    const before = await get(`?before=${ids[4]}&per_page=2`);
    expect(before.order).toEqual([ids[3], ids[2]]);
    expect(before.prev_post_id).toBe(ids[1]);
    expect(before.next_post_id).toBe(ids[4]);

    const after = await get(`?after=${ids[2]}&per_page=2`);
    expect(after.order).toEqual([ids[4], ids[3]]);
    expect(after.next_post_id).toBe(ids[5]);
    expect(after.prev_post_id).toBe(ids[2]);

    const pivot = (await get('')).posts[ids[4]!].create_at;
    const since = await get(`?since=${pivot}`);
    expect(since.order).toEqual([ids[6], ids[5]]);
  });

  it('includes the root posts of replies on the page', async () => {
    const threaded = await seedWorld(api.runtime);
    const token = threaded.user('creator').token;
    const channelId = threaded.channel('town-square').id;
    const root = (await api.postJson('/api/v4/posts', { channel_id: channelId, message: 'root' }, auth(token))).json();
    const reply = (await api.postJson('/api/v4/posts', { channel_id: channelId, message: 'r', root_id: root.id }, auth(token))).json();
    const page = (await api.request('GET', `/api/v4/channels/${channelId}/posts?per_page=1`, { headers: auth(token) })).json();
    expect(page.order).toEqual([reply.id]);
    expect(Object.keys(page.posts).sort()).toEqual([reply.id, root.id].sort());
  });

  it('caps per_page at 200 and refuses malformed paging', async () => {
    const token = world.user('creator').token;
    const channelId = world.channel('town-square').id;
    expect((await api.request('GET', `/api/v4/channels/${channelId}/posts?per_page=5000`, { headers: auth(token) })).status).toBe(200);
    for (const query of ['?page=-1', '?per_page=abc', '?before=nope', '?since=x']) {
      const response = await api.request('GET', `/api/v4/channels/${channelId}/posts${query}`, { headers: auth(token) });
      expect(response.status, query).toBe(400);
    }
    const denied = await api.request('GET', `/api/v4/channels/${channelId}/posts`, { headers: auth(world.user('outsider').token) });
    expect(denied.status).toBe(403);
  });
});
