import { describe, expect, it } from 'vitest';
import { MAX_UNIQUE_EMOJIS_PER_POST } from '../../lib/limits.js';
import { auth, BAD_ID, withApiAndWorlds, type Api, type World } from '../support/harness.js';
import { client4, failure } from '../support/client4.js';

let api: Api;
let world: World;

withApiAndWorlds(1, (started, [seeded]) => ([api, world] = [started, seeded!]));

const clientFor = (user: string) => client4(api.url, world.user(user).token);

async function createPost(message: string, channel = 'town-square') {
  const response = await api.postJson('/api/v4/posts', { channel_id: world.channel(channel).id, message }, auth(world.user('creator').token));
  expect(response.status, response.text).toBe(201);
  return response.json();
}

async function readPost(postId: string) {
  return (await api.request('GET', `/api/v4/posts/${postId}`, { headers: auth(world.user('creator').token) })).json();
}

describe('reactions', () => {
  it('adds, lists and removes reactions, keeping the post\'s has_reactions', async () => {
    const post = await createPost('deploy finished');
    expect(post.has_reactions).toBe(false);
    const other = clientFor('other');
    const creator = clientFor('creator');
    const added = await other.addReaction(world.user('other').id, post.id, 'thumbsup');
    expect(added).toMatchObject({ user_id: world.user('other').id, post_id: post.id, emoji_name: 'thumbsup', channel_id: world.channel('town-square').id, delete_at: 0 });
    expect(added.create_at).toBeGreaterThan(0);
    // A repeat is the same reaction, not a second one.
    await other.addReaction(world.user('other').id, post.id, 'thumbsup');
    await creator.addReaction(world.user('creator').id, post.id, 'white_check_mark');
    let read = await readPost(post.id);
    expect(read.has_reactions).toBe(true);
    expect(read.update_at).toBeGreaterThan(post.update_at);
    const listed = await creator.getReactionsForPost(post.id);
    expect(listed.map((reaction) => `${reaction.user_id}:${reaction.emoji_name}`).sort()).toEqual(
      [`${world.user('other').id}:thumbsup`, `${world.user('creator').id}:white_check_mark`].sort(),
    );
    expect(await other.removeReaction(world.user('other').id, post.id, 'thumbsup')).toEqual({ status: 'OK' });
    expect((await readPost(post.id)).has_reactions).toBe(true);
    await creator.removeReaction(world.user('creator').id, post.id, 'white_check_mark');
    read = await readPost(post.id);
    expect(read.has_reactions).toBe(false);
    expect(await creator.getReactionsForPost(post.id)).toEqual([]);
    // Removing a reaction that is not there is fine, as in Mattermost.
    expect(await creator.removeReaction(world.user('creator').id, post.id, 'white_check_mark')).toEqual({ status: 'OK' });
  });

  it('lets a user add and remove only their own reactions, in channels they read', async () => {
    const post = await createPost('mine');
    const other = clientFor('other');
    expect(await failure(other.addReaction(world.user('creator').id, post.id, 'smile'))).toEqual({ status: 403, id: 'api.reaction.save_reaction.user_id.app_error' });
    await clientFor('creator').addReaction(world.user('creator').id, post.id, 'smile');
    expect(await failure(other.removeReaction(world.user('creator').id, post.id, 'smile'))).toEqual({ status: 403, id: 'api.context.permissions.app_error' });
    expect((await clientFor('creator').getReactionsForPost(post.id))).toHaveLength(1);
    // A post in a channel the user is not in.
    const secret = await createPost('secret', 'private');
    const forbidden = { status: 403, id: 'api.context.permissions.app_error' };
    expect(await failure(other.addReaction(world.user('other').id, secret.id, 'smile'))).toEqual(forbidden);
    expect(await failure(other.getReactionsForPost(secret.id))).toEqual(forbidden);
    expect(await failure(other.removeReaction(world.user('other').id, secret.id, 'smile'))).toEqual(forbidden);
    // Unknown and deleted posts.
    expect(await failure(other.addReaction(world.user('other').id, BAD_ID, 'smile'))).toEqual({ status: 404, id: 'app.post.get.app_error' });
    await clientFor('creator').deletePost(post.id);
    expect(await failure(clientFor('creator').getReactionsForPost(post.id))).toMatchObject({ status: 404 });
    expect(await failure(clientFor('creator').addReaction(world.user('creator').id, post.id, 'smile'))).toMatchObject({ status: 404 });
  });

  it('refuses bad input with 400 and answers 401 without a token', async () => {
    const post = await createPost('inputs');
    const me = world.user('creator');
    const headers = auth(me.token);
    const invalid = 'api.reaction.save_reaction.invalid.app_error';
    const bodies: Array<[string, string]> = [
      [JSON.stringify({ user_id: me.id, post_id: post.id, emoji_name: '' }), invalid],
      [JSON.stringify({ user_id: me.id, post_id: post.id, emoji_name: 'a b' }), invalid],
      [JSON.stringify({ user_id: me.id, post_id: post.id, emoji_name: 'e'.repeat(65) }), invalid],
      [JSON.stringify({ user_id: me.id, post_id: 'abc', emoji_name: 'smile' }), invalid],
      [JSON.stringify({ user_id: 'abc', post_id: post.id, emoji_name: 'smile' }), invalid],
      [JSON.stringify({ user_id: me.id, post_id: post.id, emoji_name: 5 }), invalid],
      [JSON.stringify([me.id]), 'api.context.invalid_body_param.app_error'],
      ['{', 'api.context.invalid_body_param.app_error'],
    ];
    for (const [body, id] of bodies) {
      const response = await api.request('POST', '/api/v4/reactions', { body, headers });
      expect(response.status, body.slice(0, 60)).toBe(400);
      expect(response.json()).toMatchObject({ id });
    }
    for (const [path, name] of [
      [`/api/v4/users/abc/posts/${post.id}/reactions/smile`, 'user_id'],
      [`/api/v4/users/${me.id}/posts/abc/reactions/smile`, 'post_id'],
      [`/api/v4/users/${me.id}/posts/${post.id}/reactions/a%20b`, 'emoji_name'],
    ] as const) {
      const response = await api.request('DELETE', path, { headers });
      expect(response.status, path).toBe(400);
      expect(response.json()).toMatchObject({ id: 'api.context.invalid_url_param.app_error', message: expect.stringContaining(name) });
    }
    expect((await api.request('GET', '/api/v4/posts/abc/reactions', { headers })).status).toBe(400);
    expect((await readPost(post.id)).has_reactions).toBe(false);
    expect((await api.postJson('/api/v4/reactions', { user_id: me.id, post_id: post.id, emoji_name: 'smile' })).status).toBe(401);
    expect((await api.request('GET', `/api/v4/posts/${post.id}/reactions`)).status).toBe(401);
    expect((await api.request('DELETE', `/api/v4/users/${me.id}/posts/${post.id}/reactions/smile`)).status).toBe(401);
  });

  it(`caps a post at ${MAX_UNIQUE_EMOJIS_PER_POST} distinct emojis, as Mattermost's default limit`, async () => {
    const post = await createPost('popular');
    const client = clientFor('creator');
    for (let index = 0; index < MAX_UNIQUE_EMOJIS_PER_POST; index++) await client.addReaction(world.user('creator').id, post.id, `emoji_${index}`);
    expect(await failure(client.addReaction(world.user('creator').id, post.id, 'one_too_many'))).toEqual({ status: 400, id: 'app.reaction.save.save.too_many_reactions' });
    // An emoji already there may still be added by another user.
    await clientFor('other').addReaction(world.user('other').id, post.id, 'emoji_0');
    expect(await client.getReactionsForPost(post.id)).toHaveLength(MAX_UNIQUE_EMOJIS_PER_POST + 1);
  });
});
