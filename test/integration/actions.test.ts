import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replyJson, startCallbackServer, type CallbackServer, type Responder } from '../support/callback-server.js';
import { seedWorld, startApi, type Api, type World } from '../support/harness.js';

/** Interactive messages: buttons and menus calling integrations on loopback. */
let api: Api;
let server: CallbackServer;
let world: World;
let responder: Responder = (_request, _index, response) => void response.end();

beforeAll(async () => {
  // A generous timeout: a loaded CI machine must not turn a slow first click into a failure.
  api = await startApi({ ALLOWED_UNTRUSTED_INTERNAL_CONNECTIONS: '127.0.0.0/8', OUTGOING_INTEGRATION_REQUESTS_TIMEOUT: '5' });
  server = await startCallbackServer((request, index, response) => responder(request, index, response));
  world = await seedWorld(api.runtime);
});
afterAll(async () => {
  await server.close();
  await api.close();
});

const auth = (token = world.user('creator').token) => ({ authorization: `Bearer ${token}` });

function actions(url = `${server.url}/action`) {
  return [
    { id: 'approve-1_ok', name: 'Approve', integration: { url, context: { s: 'foo', n: 3 } } },
    { name: 'Pick', type: 'select', options: [{ text: 'One', value: 'one' }], integration: { url, context: { s: 'foo' } } },
    { id: 'people', name: 'Who', type: 'select', data_source: 'users', integration: { url } },
  ];
}

async function postWithActions(channel = '', list = actions(), world_ = world) {
  const response = await api.postJson(world_.hook('main').url, { text: 'pick one', channel, props: { B: 'BB' }, attachments: [{ text: 'choose', actions: list }] }, { prefer: 'return=representation' });
  expect(response.status, response.text).toBe(200);
  return response.json().post_id as string;
}

const click = (postId: string, actionId: string, body: unknown = {}, token?: string) =>
  api.postJson(`/api/v4/posts/${postId}/actions/${actionId}`, body, auth(token));

async function readPost(postId: string, token?: string) {
  return (await api.request('GET', `/api/v4/posts/${postId}`, { headers: auth(token) })).json();
}

describe('clicks', () => {
  it('IA-03 sends the integration every field, with selected_option in the context for selects', async () => {
    responder = (_request, _index, response) => replyJson(response, {});
    const postId = await postWithActions();
    const stored = await readPost(postId);
    const selectId = stored.props.attachments[0].actions[1].id;
    expect(selectId).toMatch(/^[a-z0-9]{26}$/);

    const before = server.received.length;
    const button = await click(postId, 'approve-1_ok');
    expect(button.status, button.text).toBe(200);
    expect(button.json()).toMatchObject({ status: 'OK' });
    expect(button.json().trigger_id).toMatch(/^[a-z0-9]{26}$/);
    const sent = JSON.parse(server.received[before]!.body);
    expect(sent).toMatchObject({
      user_id: world.user('creator').id,
      user_name: world.user('creator').username,
      channel_id: world.channel('town-square').id,
      channel_name: 'town-square',
      team_id: world.team.id,
      team_domain: world.team.name,
      post_id: postId,
      type: '',
      data_source: '',
      context: { s: 'foo', n: 3 },
    });
    expect(sent.trigger_id).toBeTruthy();
    // The deployment's one secret, as stored (test files seeding in parallel share it).
    const secret = (await api.runtime.entities.getActionSigningSecret())!;
    expect(() => new Webhook(secret).verify(server.received[before]!.body, server.received[before]!.headers as Record<string, string>)).not.toThrow();

    expect((await click(postId, selectId, { selected_option: 'one' })).status).toBe(200);
    expect(JSON.parse(server.received[before + 1]!.body)).toMatchObject({ type: 'select', context: { s: 'foo', selected_option: 'one' } });
    expect((await click(postId, 'notavalidid')).status).toBe(404);
  });

  it('IA-03 leaves team_id and team_domain empty in a direct channel', async () => {
    responder = (_request, _index, response) => replyJson(response, {});
    const postId = await postWithActions(`@${world.user('other').username}`);
    const before = server.received.length;
    expect((await click(postId, 'approve-1_ok', {}, world.user('other').token)).status).toBe(200);
    expect(JSON.parse(server.received[before]!.body)).toMatchObject({ team_id: '', team_domain: '', user_id: world.user('other').id });
  });

  it('never shows an actions integration URL or context to clients', async () => {
    const postId = await postWithActions();
    const text = JSON.stringify(await readPost(postId)) + (await api.request('GET', `/api/v4/channels/${world.channel('town-square').id}/posts`, { headers: auth() })).text;
    expect(text).not.toContain(server.url);
    expect(text).not.toContain('"context"');
    expect(text).toContain('Approve');
  });

  it('refuses a users-menu choice the clicker cannot see', async () => {
    responder = (_request, _index, response) => replyJson(response, {});
    const postId = await postWithActions();
    const stranger = await seedWorld(api.runtime);
    expect((await click(postId, 'people', { selected_option: stranger.user('creator').id })).status).toBe(400);
    expect((await click(postId, 'people', { selected_option: 'nonsense' })).status).toBe(400);
    expect((await click(postId, 'people', { selected_option: world.user('other').id })).status).toBe(200);
  });

  it('refuses a channels-menu choice the clicker cannot see', async () => {
    responder = (_request, _index, response) => replyJson(response, {});
    const postId = await postWithActions('', [{ id: 'where', name: 'Where', type: 'select', data_source: 'channels', integration: { url: `${server.url}/action` } }]);
    // Private channel the clicker (other) is not in: refused; a public channel of the team: fine.
    expect((await click(postId, 'where', { selected_option: world.channel('private').id }, world.user('other').token)).status).toBe(400);
    expect((await click(postId, 'where', { selected_option: world.channel('off-topic').id }, world.user('other').token)).status).toBe(200);
    expect((await click(postId, 'where', { selected_option: world.channel('private').id })).status).toBe(200);
  });

  it('refuses non-members (403) and malformed bodies (400)', async () => {
    const postId = await postWithActions();
    expect((await click(postId, 'approve-1_ok', {}, world.user('outsider').token)).status).toBe(403);
    const malformed = await api.request('POST', `/api/v4/posts/${postId}/actions/approve-1_ok`, { body: '{"selected_option":', headers: auth() });
    expect(malformed.status).toBe(400);
  });

  it('keeps invalid actions as Mattermost does, posting them, but never calls them: a click answers 404', async () => {
    const before = server.received.length;
    for (const bad of [
      { id: 'noname', integration: { url: `${server.url}/x` } },
      { id: 'badurl', name: 'x', integration: { url: ':test' } },
      { id: 'nooptions', name: 'x', type: 'select', integration: { url: `${server.url}/x` } },
    ]) {
      const response = await api.postJson(world.hook('main').url, { attachments: [{ text: 'x', actions: [bad] }] }, { prefer: 'return=representation' });
      expect(response.status, JSON.stringify(bad)).toBe(200);
      expect((await click(response.json().post_id, bad.id)).status, JSON.stringify(bad)).toBe(404);
    }
    expect(server.received.length).toBe(before);
  });

  it('accepts Slack link buttons (Prometheus Alertmanager\'s), keeps them as link buttons for clients, and answers 404 to a click', async () => {
    // Alertmanager's Slack receiver: buttons with a text and a URL, no name and no integration.
    const alert = {
      text: '[FIRING:1] HighLatency',
      attachments: [{ title: 'HighLatency', color: 'danger', actions: [{ type: 'button', text: 'Runbook :green_book:', url: 'https://runbooks.example.com/high-latency' }] }],
    };
    const response = await api.postJson(world.hook('main').url, alert, { prefer: 'return=representation' });
    expect(response.status, response.text).toBe(200);
    const stored = await readPost(response.json().post_id);
    const button = stored.props.attachments[0].actions[0];
    expect(button).toMatchObject({ type: 'button', text: 'Runbook :green_book:', url: 'https://runbooks.example.com/high-latency' });
    expect(button.id).toMatch(/^[a-z0-9]{26}$/);
    expect((await click(response.json().post_id, button.id)).status).toBe(404);
  });
});

describe('answers', () => {
  /** Clicks and holds the integration's answer until the returned `release`, once the click has reached it. */
  async function clickHeld(postId: string, answer: unknown) {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    responder = (_request, _index, response) => void held.then(() => replyJson(response, answer));
    const before = server.received.length;
    const clicked = click(postId, 'approve-1_ok');
    while (server.received.length === before) await new Promise((resolve) => setTimeout(resolve, 10));
    return { clicked, release };
  }

  it('applies an update to the post as it is when the answer arrives: a reaction and a pin made meanwhile stay', async () => {
    const postId = await postWithActions();
    const { clicked, release } = await clickHeld(postId, { update: { message: 'approved' } });
    const reacted = await api.postJson('/api/v4/reactions', { user_id: world.user('other').id, post_id: postId, emoji_name: 'eyes' }, auth(world.user('other').token));
    expect(reacted.status).toBe(200);
    const pinned = await api.request('PUT', `/api/v4/posts/${postId}/patch`, { body: JSON.stringify({ is_pinned: true }), headers: { 'content-type': 'application/json', ...auth() } });
    expect(pinned.status).toBe(200);
    release();
    expect((await clicked).status).toBe(200);
    expect(await readPost(postId)).toMatchObject({ message: 'approved', has_reactions: true, is_pinned: true });
  });

  it('never brings back a post deleted while the integration answered: the update answers 404', async () => {
    const postId = await postWithActions();
    const { clicked, release } = await clickHeld(postId, { update: { message: 'approved' } });
    expect((await api.request('DELETE', `/api/v4/posts/${postId}`, { headers: auth() })).status).toBe(200);
    release();
    expect((await clicked).status).toBe(404);
    expect((await api.request('GET', `/api/v4/posts/${postId}`, { headers: auth() })).status).toBe(404);
  });

  it('IA-06 updates message and props but keeps from_webhook, overrides and pins', async () => {
    responder = (_request, _index, response) =>
      replyJson(response, {
        update: { message: 'updated', has_reactions: true, is_pinned: true, props: { from_webhook: 'false', override_username: 'new_override_user', override_icon_url: 'new_override_icon', A: 'AA' } },
        ephemeral_text: 'foo <https://x.io|x>',
      });
    const postId = await postWithActions();
    expect((await click(postId, 'approve-1_ok')).status).toBe(200);
    const updated = await readPost(postId);
    expect(updated.message).toBe('updated');
    expect(updated.is_pinned).toBe(false);
    expect(updated.props).toEqual({ A: 'AA', from_webhook: 'true' });
    expect(updated.edit_at).toBeGreaterThan(0);
    // The ephemeral answer is for the clicking user only, in the thread of the post.
    const mine = await api.request('GET', `/api/v4/channels/${world.channel('town-square').id}/posts`, { headers: auth() });
    const ephemeral = Object.values(mine.json().posts as Record<string, any>).find((post) => post.message === 'foo [x](https://x.io)');
    expect(ephemeral).toMatchObject({ root_id: postId, type: 'system_ephemeral' });
    const theirs = await api.request('GET', `/api/v4/channels/${world.channel('town-square').id}/posts`, { headers: auth(world.user('other').token) });
    expect(theirs.text).not.toContain('foo [x]');
  });

  it("lets no update pose a user's post as an integration's: the server-owned props stay the post's", async () => {
    const created = await api.postJson(
      '/api/v4/posts',
      { channel_id: world.channel('town-square').id, message: 'mine', props: { attachments: [{ text: 'choose', actions: [{ id: 'mine', name: 'Go', integration: { url: `${server.url}/action` } }] }] } },
      auth(),
    );
    expect(created.status, created.text).toBe(201);
    const postId = created.json().id as string;
    responder = (_request, _index, response) =>
      replyJson(response, { update: { message: 'posed', props: { from_webhook: 'true', override_username: 'bot', override_icon_emoji: 'robot', webhook_display_name: 'Official', A: 'AA' } } });
    expect((await click(postId, 'mine')).status).toBe(200);
    const updated = await readPost(postId);
    expect(updated.message).toBe('posed');
    expect(updated.props).toEqual({ A: 'AA' });
  });

  it('keeps ephemeral_text as sent with skip_slack_parsing', async () => {
    responder = (_request, _index, response) => replyJson(response, { ephemeral_text: 'raw <https://x.io|x>', skip_slack_parsing: true });
    const postId = await postWithActions();
    expect((await click(postId, 'approve-1_ok')).status).toBe(200);
    const mine = await api.request('GET', `/api/v4/channels/${world.channel('town-square').id}/posts`, { headers: auth() });
    expect(mine.text).toContain('raw <https://x.io|x>');
  });

  it('keeps the old props when the update has none, and gives new actions ids', async () => {
    responder = (_request, _index, response) => replyJson(response, { update: { message: 'no props' } });
    const postId = await postWithActions();
    await click(postId, 'approve-1_ok');
    const kept = await readPost(postId);
    expect(kept.message).toBe('no props');
    expect(kept.props.B).toBe('BB');
    expect(kept.props.attachments[0].actions[0].id).toBe('approve-1_ok');
    responder = (_request, _index, response) =>
      replyJson(response, { update: { message: 'new buttons', props: { attachments: [{ text: 'again', actions: [{ name: 'Next', integration: { url: `${server.url}/next` } }] }] } } });
    await click(postId, 'approve-1_ok');
    const renewed = await readPost(postId);
    expect(renewed.props.attachments[0].actions[0].id).toMatch(/^[a-z0-9]{26}$/);
    expect(JSON.stringify(renewed)).not.toContain('/next');
  });

  it('IA-02 and errors: an empty answer is fine; a timeout, a non-200, bad JSON or a refused address are 400 and change nothing', async () => {
    const postId = await postWithActions();
    responder = (_request, _index, response) => void response.end();
    expect((await click(postId, 'approve-1_ok')).status).toBe(200);
    const before = await readPost(postId);
    // The hanging integration against an API with a one-second timeout.
    responder = () => undefined;
    const impatient = await startApi({ ALLOWED_UNTRUSTED_INTERNAL_CONNECTIONS: '127.0.0.0/8', OUTGOING_INTEGRATION_REQUESTS_TIMEOUT: '1' });
    try {
      const timedOut = await impatient.postJson(`/api/v4/posts/${postId}/actions/approve-1_ok`, {}, auth());
      expect(timedOut.status).toBe(400);
      expect(timedOut.json().id).toBe('api.post.do_action.action_integration.app_error');
    } finally {
      await impatient.close();
    }
    for (const failing of [
      ((_request, _index, response) => {
        response.writeHead(500);
        response.end();
      }) as Responder,
      ((_request, _index, response) => {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end('{"update":');
      }) as Responder,
    ]) {
      responder = failing;
      const response = await click(postId, 'approve-1_ok');
      expect(response.status).toBe(400);
      expect(response.json().id).toBe('api.post.do_action.action_integration.app_error');
    }
    expect(await readPost(postId)).toEqual(before);
    const strict = await startApi({ ALLOWED_UNTRUSTED_INTERNAL_CONNECTIONS: '' });
    try {
      const refused = await strict.postJson(`/api/v4/posts/${postId}/actions/approve-1_ok`, {}, auth());
      expect(refused.status).toBe(400);
    } finally {
      await strict.close();
    }
  });

  it('settles two simultaneous clicks into one of the two updates, answering both', async () => {
    responder = async (request, _index, response) => {
      const who = JSON.parse(request.body).user_name;
      await new Promise((resolve) => setTimeout(resolve, 50));
      replyJson(response, { update: { message: `chosen by ${who}` } });
    };
    const postId = await postWithActions();
    const [first, second] = await Promise.all([click(postId, 'approve-1_ok'), click(postId, 'approve-1_ok', {}, world.user('other').token)]);
    expect([first.status, second.status]).toEqual([200, 200]);
    const final = await readPost(postId);
    expect([`chosen by ${world.user('creator').username}`, `chosen by ${world.user('other').username}`]).toContain(final.message);
    expect(final.props.attachments[0].actions[0].id).toBe('approve-1_ok');
  });
});

describe('ephemeral posts', () => {
  it('IA-09 accepts clicks on an ephemeral post, for its user only, ignoring any cookie', async () => {
    const commandServer = await startCallbackServer((_request, _index, response) =>
      replyJson(response, { text: 'only you', attachments: [{ text: 'ok?', actions: [{ id: 'yes', name: 'Yes', integration: { url: `${server.url}/eph` } }] }] }),
    );
    try {
      const local = await seedWorld(api.runtime, (names) => ({ commands: [{ team: names.team, trigger: 'ask', url: commandServer.url, creator: names.creator }] }));
      expect((await api.postJson('/api/v4/commands/execute', { command: '/ask', channel_id: local.channel('town-square').id }, auth(local.user('creator').token))).status).toBe(200);
      const list = await api.request('GET', `/api/v4/channels/${local.channel('town-square').id}/posts`, { headers: auth(local.user('creator').token) });
      const ephemeral = Object.values(list.json().posts as Record<string, any>).find((post) => post.message === 'only you');
      responder = (_request, _index, response) => replyJson(response, {});
      const before = server.received.length;
      expect((await click(ephemeral.id, 'yes', { cookie: 'anything' }, local.user('creator').token)).status).toBe(200);
      expect(server.received[before]!.url).toBe('/eph');
      expect((await click(ephemeral.id, 'yes', {}, local.user('other').token)).status).toBe(404);
      // An update keeps it ephemeral: still only its user sees it.
      responder = (_request, _index, response) => replyJson(response, { update: { message: 'answered' } });
      expect((await click(ephemeral.id, 'yes', {}, local.user('creator').token)).status).toBe(200);
      const read = (token: string) => api.request('GET', `/api/v4/channels/${local.channel('town-square').id}/posts`, { headers: auth(token) });
      expect((await read(local.user('creator').token)).text).toContain('answered');
      expect((await read(local.user('other').token)).text).not.toContain('answered');
    } finally {
      await commandServer.close();
    }
  });
});
