import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPost } from '../../lib/posts/rules.js';
import { replyJson, startCallbackServer, type CallbackServer, type Responder } from '../support/callback-server.js';
import { seedWorld, startApi, type Api, type World } from '../support/harness.js';

/**
 * One visibility rule for every post a response carries or a click reaches, and clicks an
 * integration can trust: command threads, command answers, channel listings, signed origins.
 */
let api: Api;
let server: CallbackServer;
let world: World;
let responder: Responder = (_request, _index, response) => replyJson(response, {});

beforeAll(async () => {
  api = await startApi({ ALLOWED_UNTRUSTED_INTERNAL_CONNECTIONS: '127.0.0.0/8', OUTGOING_INTEGRATION_REQUESTS_TIMEOUT: '5' });
  server = await startCallbackServer((request, index, response) => responder(request, index, response));
  world = await seedWorld(api.runtime, (names) => ({
    commands: [{ team: names.team, trigger: 'ask', url: `${server.url}/command`, creator: names.creator }],
  }));
});
afterAll(async () => {
  await server.close();
  await api.close();
});

const auth = (token = world.user('creator').token) => ({ authorization: `Bearer ${token}` });
const execute = (body: Record<string, unknown>, token?: string) =>
  api.postJson('/api/v4/commands/execute', { command: '/ask now', channel_id: world.channel('town-square').id, ...body }, auth(token));
const buttons = (url = `${server.url}/click`) => [{ text: 'choose', actions: [{ id: 'yes', name: 'Yes', integration: { url, context: { secret: 'context-value' } } }] }];

describe('a command\'s thread', () => {
  it('must be a root the user can read in the same channel: another channel\'s post or another user\'s ephemeral post is refused before the integration is called', async () => {
    const privatePost = await api.postJson('/api/v4/posts', { channel_id: world.channel('private').id, message: 'private root' }, auth());
    expect(privatePost.status).toBe(201);
    const before = server.received.length;
    // "other" belongs to town-square only: the private post is another channel's, unreadable to them.
    const foreign = await execute({ root_id: privatePost.json().id }, world.user('other').token);
    expect(foreign.status).toBe(400);
    expect(foreign.json().id).toBe('api.post.create_post.channel_root_id.app_error');

    const ephemeral = buildPost({ userId: world.user('creator').id, channelId: world.channel('town-square').id, rootId: '', message: 'for creator only', type: '', props: {} }, Date.now());
    await api.runtime.posts.createEphemeralPost(ephemeral, world.user('creator').id, Math.floor(Date.now() / 1000) + 600);
    const theirs = await execute({ root_id: ephemeral.id }, world.user('other').token);
    expect(theirs.status).toBe(400);
    expect(theirs.json().id).toBe('api.context.invalid_param.app_error');
    expect(await api.request('GET', `/api/v4/posts/${ephemeral.id}`, { headers: auth(world.user('other').token) })).toMatchObject({ status: 404 });
    expect(server.received.length).toBe(before);

    const root = await api.postJson('/api/v4/posts', { channel_id: world.channel('town-square').id, message: 'a thread' }, auth());
    expect((await execute({ root_id: root.json().id }, world.user('other').token)).status).toBe(200);
  });
});

describe('responses that carry posts', () => {
  it('strip action integrations from a command\'s answer, as from every post', async () => {
    responder = (_request, _index, response) =>
      replyJson(response, { response_type: 'in_channel', text: 'pick', attachments: buttons(), extra_responses: [{ text: 'more', attachments: buttons() }] });
    const response = await execute({});
    expect(response.status).toBe(200);
    expect(response.text).not.toContain('/click');
    expect(response.text).not.toContain('context-value');
    expect(response.json().attachments[0].actions[0]).toMatchObject({ id: 'yes', name: 'Yes' });
  });

  it('leave out thread roots the reader cannot see', async () => {
    // A reply stored before roots were checked, whose root is in a private channel.
    const root = buildPost({ userId: world.user('creator').id, channelId: world.channel('private').id, rootId: '', message: 'private root', type: '', props: {} }, Date.now());
    const reply = buildPost({ userId: world.user('creator').id, channelId: world.channel('town-square').id, rootId: root.id, message: 'reply elsewhere', type: '', props: {} }, Date.now() + 1);
    await api.runtime.posts.createPosts([root]);
    await api.runtime.posts.createPosts([reply]);
    const list = await api.request('GET', `/api/v4/channels/${world.channel('town-square').id}/posts`, { headers: auth(world.user('other').token) });
    expect(list.json().posts[reply.id]).toBeDefined();
    expect(list.json().posts[root.id]).toBeUndefined();
  });
});

describe('a click an integration can trust', () => {
  it('is signed with the command\'s own secret on a command\'s answer, with the origin and action id under the signature', async () => {
    responder = (request, _index, response) =>
      request.url === '/command' ? replyJson(response, { response_type: 'in_channel', text: 'choose', attachments: buttons() }) : replyJson(response, {});
    expect((await execute({})).status).toBe(200);
    const list = await api.request('GET', `/api/v4/channels/${world.channel('town-square').id}/posts`, { headers: auth() });
    const answered = Object.values(list.json().posts as Record<string, { id: string; message: string }>).find((post) => post.message === 'choose')!;
    const before = server.received.length;
    expect((await api.postJson(`/api/v4/posts/${answered.id}/actions/yes`, {}, auth())).status).toBe(200);
    const request = server.received[before]!;
    const command = world.summary.commands.find((entry) => entry.trigger === 'ask')!;
    expect(JSON.parse(request.body)).toMatchObject({ action_id: 'yes', origin: { kind: 'command', id: command.id }, context: { secret: 'context-value' } });
    expect(() => new Webhook(command.signing_secret!).verify(request.body, request.headers as Record<string, string>)).not.toThrow();
  });

  it('is signed with the deployment\'s action secret on a user\'s post, so a button posted with an integration\'s URL fails its own secret', async () => {
    const posted = await api.postJson('/api/v4/posts', { channel_id: world.channel('town-square').id, message: 'forged', props: { attachments: buttons(`${server.url}/command`) } }, auth());
    expect(posted.status).toBe(201);
    const before = server.received.length;
    responder = (_request, _index, response) => replyJson(response, {});
    expect((await api.postJson(`/api/v4/posts/${posted.json().id}/actions/yes`, {}, auth())).status).toBe(200);
    const request = server.received[before]!;
    expect(JSON.parse(request.body)).toMatchObject({ origin: { kind: 'user', id: world.user('creator').id } });
    const command = world.summary.commands.find((entry) => entry.trigger === 'ask')!;
    expect(() => new Webhook(command.signing_secret!).verify(request.body, request.headers as Record<string, string>)).toThrow();
    const actionSecret = (await api.runtime.entities.getActionSigningSecret())!;
    expect(() => new Webhook(actionSecret).verify(request.body, request.headers as Record<string, string>)).not.toThrow();
  });

  it('says an incoming webhook made the post, with the hook\'s id', async () => {
    const posted = await api.postJson(world.hook('main').url, { text: 'from ci', attachments: buttons() }, { prefer: 'return=representation' });
    const before = server.received.length;
    expect((await api.postJson(`/api/v4/posts/${posted.json().post_id}/actions/yes`, {}, auth())).status).toBe(200);
    expect(JSON.parse(server.received[before]!.body)).toMatchObject({ origin: { kind: 'incoming_webhook', id: world.hook('main').id } });
  });
});

describe('command answers after the channel is archived', () => {
  it('are refused through response_url, and nothing is posted', async () => {
    const archived = await seedWorld(api.runtime, (names) => ({
      commands: [{ team: names.team, trigger: 'later', url: `${server.url}/command`, creator: names.creator }],
    }));
    responder = (_request, _index, response) => replyJson(response, {});
    const before = server.received.length;
    const executed = await api.postJson('/api/v4/commands/execute', { command: '/later', channel_id: archived.channel('town-square').id }, auth(archived.user('creator').token));
    expect(executed.status).toBe(200);
    const responseUrl = new URLSearchParams(server.received[before]!.body).get('response_url')!;
    await api.runtime.entities.archiveChannel(archived.channel('town-square').id, Date.now());
    const answered = await api.postJson(new URL(responseUrl).pathname, { response_type: 'in_channel', text: 'too late' });
    expect(answered.status).toBeGreaterThanOrEqual(400);
    expect(answered.status).toBeLessThan(500);
    const { posts: found } = await api.runtime.posts.changedSince(archived.channel('town-square').id, 0, archived.user('creator').id, Date.now());
    expect(found.map((post) => post.message)).not.toContain('too late');
  });
});

describe('what the adversarial run found', () => {
  it('refuses another user\'s ephemeral post as a root or a paging anchor, as if it did not exist', async () => {
    const ephemeral = buildPost({ userId: world.user('creator').id, channelId: world.channel('town-square').id, rootId: '', message: 'mine alone', type: '', props: {} }, Date.now());
    await api.runtime.posts.createEphemeralPost(ephemeral, world.user('creator').id, Math.floor(Date.now() / 1000) + 600);
    const reply = await api.postJson('/api/v4/posts', { channel_id: world.channel('town-square').id, message: 'x', root_id: ephemeral.id }, auth(world.user('other').token));
    expect(reply.status).toBe(400);
    expect(reply.json().id).toBe('api.post.create_post.root_id.app_error');
    const anchored = await api.request('GET', `/api/v4/channels/${world.channel('town-square').id}/posts?before=${ephemeral.id}`, { headers: auth(world.user('other').token) });
    expect(anchored.status).toBe(404);
  });

  it('answers 404 for a thread asked by another user\'s ephemeral reply, in a channel the caller is not in or is', async () => {
    for (const channel of ['private', 'town-square']) {
      const root = await api.postJson('/api/v4/posts', { channel_id: world.channel(channel).id, message: `${channel} secret root` }, auth());
      expect(root.status).toBe(201);
      // An action's answer in the thread, for the creator alone.
      const answer = buildPost({ userId: world.user('creator').id, channelId: world.channel(channel).id, rootId: root.json().id, message: 'for creator only', type: 'system_ephemeral', props: {} }, Date.now());
      await api.runtime.posts.createEphemeralPost(answer, world.user('creator').id, Math.floor(Date.now() / 1000) + 600);
      // The creator's page shows the answer: the instance now remembers where it is.
      const page = await api.request('GET', `/api/v4/channels/${world.channel(channel).id}/posts`, { headers: auth() });
      expect(page.json().order).toContain(answer.id);
      expect(api.runtime.posts.knownCoordinates(answer.id)?.rootId).toBe(root.json().id);
      const theirs = await api.request('GET', `/api/v4/posts/${answer.id}/thread`, { headers: auth(world.user('other').token) });
      expect(theirs.status, channel).toBe(404);
      expect(theirs.text).not.toContain('secret root');
      const own = await api.request('GET', `/api/v4/posts/${answer.id}/thread`, { headers: auth() });
      expect(own.status, channel).toBe(200);
      expect(own.json().order).toEqual([root.json().id]);
    }
  });

  it('refuses a command answer to another channel in the command\'s thread, and posts none of the answers', async () => {
    const root = await api.postJson('/api/v4/posts', { channel_id: world.channel('town-square').id, message: 'thread' }, auth());
    responder = (request, _index, response) =>
      request.url === '/command'
        ? replyJson(response, { response_type: 'in_channel', text: 'main answer', extra_responses: [{ response_type: 'in_channel', text: 'elsewhere', channel_id: world.channel('off-topic').id }] })
        : replyJson(response, {});
    const crossed = await execute({ root_id: root.json().id });
    expect(crossed.status).toBe(400);
    const { posts: town } = await api.runtime.posts.changedSince(world.channel('town-square').id, Date.now() - 60_000, world.user('creator').id, Date.now());
    expect(town.map((post) => post.message)).not.toContain('main answer');
  });

  it('answers 403 before posting anything when one of the answers names a channel the user is not in', async () => {
    responder = (request, _index, response) =>
      request.url === '/command'
        ? replyJson(response, { response_type: 'in_channel', text: 'first of two', extra_responses: [{ response_type: 'in_channel', text: 'to private', channel_id: world.channel('private').id }] })
        : replyJson(response, {});
    const refused = await execute({}, world.user('other').token);
    expect(refused.status).toBe(403);
    const { posts: town } = await api.runtime.posts.changedSince(world.channel('town-square').id, Date.now() - 60_000, world.user('other').id, Date.now());
    expect(town.map((post) => post.message)).not.toContain('first of two');
  });

  it('creates no direct channel for an incoming webhook whose root cannot be in it', async () => {
    const target = world.user('outsider');
    const refused = await api.postJson(world.hook('main').url, { text: 'x', channel: `@${target.username}`, root_id: 'q'.repeat(26) });
    expect(refused.status).toBe(400);
    const { directChannelName } = await import('../../lib/store/keys.js');
    expect(await api.runtime.entities.getChannelByName('', directChannelName(world.user('creator').id, target.id))).toBeUndefined();
  });

  it('cuts a page of large posts below a Lambda answer\'s 6 MB and pages on from where it cut', async () => {
    const big = await seedWorld(api.runtime);
    const token = big.user('creator').token;
    const channelId = big.channel('town-square').id;
    const ids: string[] = [];
    for (let i = 0; i < 19; i++) {
      const posted = await api.postJson('/api/v4/posts', { channel_id: channelId, message: `big ${i}`, props: { p: 'é'.repeat(145_000) } }, auth(token));
      expect(posted.status).toBe(201);
      ids.push(posted.json().id);
    }
    const first = await api.request('GET', `/api/v4/channels/${channelId}/posts?per_page=60`, { headers: auth(token) });
    expect(first.status).toBe(200);
    expect(Buffer.byteLength(first.text)).toBeLessThan(6 * 1024 * 1024);
    const shown = first.json().order as string[];
    expect(shown.length).toBeGreaterThan(0);
    expect(shown.length).toBeLessThan(19);
    // The newest posts first; the first one left out is where the next page starts.
    expect(shown).toEqual(ids.slice(-shown.length).reverse());
    expect(first.json().prev_post_id).toBe(ids[19 - shown.length - 1]);
    const next = await api.request('GET', `/api/v4/channels/${channelId}/posts?per_page=60&before=${shown[shown.length - 1]}`, { headers: auth(token) });
    expect(next.json().order[0]).toBe(ids[19 - shown.length - 1]);

    // A thread of such posts is cut the same way, keeping its root.
    const root = ids[0]!;
    for (let i = 0; i < 18; i++) {
      const reply = await api.postJson('/api/v4/posts', { channel_id: channelId, message: `big reply ${i}`, root_id: root, props: { p: 'é'.repeat(145_000) } }, auth(token));
      expect(reply.status).toBe(201);
    }
    const thread = await api.request('GET', `/api/v4/posts/${root}/thread`, { headers: auth(token) });
    expect(thread.status).toBe(200);
    expect(Buffer.byteLength(thread.text)).toBeLessThan(6 * 1024 * 1024);
    expect(thread.json().order).toContain(root);
    expect(thread.json().order.length).toBeLessThan(19);
  }, 120_000);
});

describe('buttons a user posts', () => {
  it('get action ids, as a webhook\'s do, so they can be clicked', async () => {
    const posted = await api.postJson(
      '/api/v4/posts',
      { channel_id: world.channel('town-square').id, message: 'pick', props: { attachments: [{ text: 'choose', actions: [{ name: 'Go', integration: { url: `${server.url}/click` } }] }] } },
      auth(),
    );
    expect(posted.status).toBe(201);
    const actionId = posted.json().props.attachments[0].actions[0].id;
    expect(actionId).toMatch(/^[a-z0-9]{26}$/);
    responder = (_request, _index, response) => replyJson(response, {});
    expect((await api.postJson(`/api/v4/posts/${posted.json().id}/actions/${actionId}`, {}, auth())).status).toBe(200);
  });
});

describe('caps on props.attachments', () => {
  it('hold for a user\'s post as for a webhook\'s', async () => {
    const tooMany = Array.from({ length: 101 }, () => ({ text: 'x' }));
    const refused = await api.postJson('/api/v4/posts', { channel_id: world.channel('town-square').id, message: 'x', props: { attachments: tooMany } }, auth());
    expect(refused.status).toBe(400);
    expect(refused.json().id).toBe('model.post.is_valid.props.app_error');
    const options = Array.from({ length: 251 }, (_value, index) => ({ text: `o${index}`, value: `o${index}` }));
    const wide = await api.postJson('/api/v4/posts', { channel_id: world.channel('town-square').id, message: 'x', props: { attachments: [{ actions: [{ name: 'pick', type: 'select', options }] }] } }, auth());
    expect(wide.status).toBe(400);
    expect((await api.postJson('/api/v4/posts', { channel_id: world.channel('town-square').id, message: 'x', props: { attachments: tooMany.slice(0, 100) } }, auth())).status).toBe(201);
  });
});
