import type { WebSocketClient } from '@mattermost/client';
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replyJson, startCallbackServer, type CallbackServer } from '../support/callback-server.js';
import { generateTriggerId } from '../../lib/integrations/trigger-id.js';
import { seedWorld, startLiveStack, type Api, type World } from '../support/harness.js';
import { connectLive, websocketUrlOf, type LiveMessage } from '../support/live-client.js';

/**
 * Live events over Mattermost's websocket, end to end: `@mattermost/client`'s WebSocketClient on
 * Node's WebSocket, connected where Client4 says, to the local gateway serving the same handlers as
 * API Gateway; the posts stream feeding the live-events function.
 */
let api: Api;
let stack: Awaited<ReturnType<typeof startLiveStack>>;
let integration: CallbackServer;
let world: World;
const clients: WebSocketClient[] = [];

beforeAll(async () => {
  stack = await startLiveStack({ ALLOWED_UNTRUSTED_INTERNAL_CONNECTIONS: '127.0.0.0/8', OUTGOING_INTEGRATION_REQUESTS_TIMEOUT: '5' });
  api = stack.api;
  integration = await startCallbackServer((request, _index, response) => {
    if (request.url.startsWith('/command')) return replyJson(response, { text: 'only for you', response_type: 'ephemeral' });
    return replyJson(response, { update: { message: 'approved' }, ephemeral_text: 'done' });
  });
  world = await seedWorld(api.runtime, (names) => ({
    commands: [{ team: names.team, trigger: 'whisper', url: `${integration.url}/command`, method: 'P', creator: names.creator }],
  }));
});
afterAll(async () => {
  for (const client of clients) client.close();
  await integration?.close();
  await stack?.close();
});

const auth = (token: string) => ({ authorization: `Bearer ${token}` });

function websocketUrl(): string {
  return websocketUrlOf(api.url);
}

/** A WebSocketClient that records every event; `header` authenticates at the upgrade instead of by challenge. */
function connect(token: string, mode: 'challenge' | 'header' = 'challenge') {
  return connectLive(api.url, token, clients, mode);
}

async function postByHook(text: string, channel?: string, extra: Record<string, unknown> = {}): Promise<string> {
  const response = await api.postJson(world.hook('main').url, { text, ...(channel ? { channel } : {}), ...extra }, { prefer: 'return=representation' });
  expect(response.status, response.text).toBe(200);
  return response.json().post_id as string;
}

describe('connecting', () => {
  it('authenticates by challenge: OK reply, then hello with seq 0 and a connection id', async () => {
    const raw = new WebSocket(websocketUrl());
    const received: any[] = [];
    raw.onmessage = (message) => received.push(JSON.parse(String(message.data)));
    await new Promise((resolve) => (raw.onopen = resolve));
    raw.send(JSON.stringify({ seq: 1, action: 'authentication_challenge', data: { token: world.user('creator').token } }));
    const deadline = Date.now() + 5_000;
    while (received.length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    raw.close();
    expect(received[0]).toEqual({ status: 'OK', seq_reply: 1 });
    expect(received[1]).toMatchObject({ event: 'hello', seq: 0, broadcast: { user_id: world.user('creator').id } });
    expect(received[1].data.connection_id).toEqual(expect.any(String));
    expect(received[1].data.server_version).toEqual(expect.any(String));
  });

  it('authenticates by the Authorization header: hello comes first, with seq 0', async () => {
    const live = connect(world.user('creator').token, 'header');
    const hello = await live.ready();
    expect(hello.seq).toBe(0);
    expect(live.events[0]!.event).toBe('hello');
  });

  it('refuses a bad token in the challenge with FAIL and sends no hello', async () => {
    const raw = new WebSocket(websocketUrl());
    const received: any[] = [];
    raw.onmessage = (message) => received.push(JSON.parse(String(message.data)));
    await new Promise((resolve) => (raw.onopen = resolve));
    raw.send(JSON.stringify({ seq: 1, action: 'authentication_challenge', data: { token: 'x'.repeat(26) } }));
    raw.send(JSON.stringify({ seq: 2, action: 'ping' }));
    raw.send(JSON.stringify({ seq: 3, action: 'user_typing', data: { channel_id: world.channel('town-square').id } }));
    const deadline = Date.now() + 5_000;
    while (received.length < 3 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    await new Promise((resolve) => setTimeout(resolve, 300));
    raw.close();
    const refusal = received.find((message) => message.seq_reply === 1);
    expect(refusal).toMatchObject({ status: 'FAIL', seq_reply: 1, error: { id: 'api.context.session_expired.app_error', status_code: 401 } });
    expect(received.find((message) => message.seq_reply === 2)).toMatchObject({ status: 'OK', data: { text: 'pong' } });
    expect(received.find((message) => message.seq_reply === 3)).toMatchObject({ status: 'FAIL', error: { id: 'api.web_socket_router.not_authenticated.app_error', status_code: 401 } });
    expect(received.filter((message) => 'event' in message)).toEqual([]);
  });

  it('refuses a bad Authorization header at the upgrade with 401 and Mattermost\'s error', async () => {
    const refused = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const request = httpRequest(`${api.url}/api/v4/websocket`, {
        headers: { ...auth('y'.repeat(26)), connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' },
      });
      request.on('upgrade', () => reject(new Error('upgraded')));
      request.on('response', async (response) => {
        let body = '';
        for await (const chunk of response) body += String(chunk);
        resolve({ status: response.statusCode ?? 0, body });
      });
      request.on('error', reject);
      request.end();
    });
    expect(refused.status).toBe(401);
    expect(JSON.parse(refused.body)).toMatchObject({ id: 'api.context.session_expired.app_error', status_code: 401 });
  });

  it('answers a ping with pong', async () => {
    const live = connect(world.user('creator').token);
    await live.ready();
    const pong = await new Promise<any>((resolve) => live.client.sendMessage('ping', undefined, resolve));
    expect(pong).toMatchObject({ status: 'OK', data: { text: 'pong' } });
  });
});

describe('events', () => {
  it('delivers an incoming webhook post as posted, with the fields the web app reads, numbered from hello', async () => {
    const creator = connect(world.user('creator').token);
    await creator.ready();
    const postId = await postByHook(`hello @${world.user('other').username}`, undefined, {
      attachments: [{ actions: [{ id: 'go', name: 'Go', integration: { url: `${integration.url}/action`, context: { secret: 'CONTEXT-SECRET-s3' } } }] }],
    });
    const posted = await creator.waitFor((message) => message.event === 'posted' && JSON.parse(message.data.post).id === postId);
    const post = JSON.parse(posted.data.post);
    expect(posted.broadcast.channel_id).toBe(world.channel('town-square').id);
    expect(posted.data).toMatchObject({ channel_name: 'town-square', channel_type: 'O', team_id: world.team.id, set_online: false, sender_name: `@${world.user('creator').username}` });
    expect(JSON.parse(posted.data.mentions)).toEqual([world.user('other').id]);
    // Action integrations never reach clients.
    expect(JSON.stringify(post)).not.toContain('CONTEXT-SECRET');
    expect(JSON.stringify(post)).not.toContain(integration.url);
    expect(creator.events.map((message) => message.seq)).toEqual(creator.events.map((_, index) => index));
  });

  it('delivers an action update as post_edited and its ephemeral_text to the clicking user only', async () => {
    const creator = connect(world.user('creator').token);
    const other = connect(world.user('other').token);
    await Promise.all([creator.ready(), other.ready()]);
    const postId = await postByHook('click me', undefined, { attachments: [{ actions: [{ id: 'approve', name: 'Approve', integration: { url: `${integration.url}/action` } }] }] });
    const click = await api.postJson(`/api/v4/posts/${postId}/actions/approve`, {}, auth(world.user('creator').token));
    expect(click.status, click.text).toBe(200);
    const edited = await creator.waitFor((message) => message.event === 'post_edited' && JSON.parse(message.data.post).id === postId);
    expect(JSON.parse(edited.data.post).message).toBe('approved');
    await other.waitFor((message) => message.event === 'post_edited' && JSON.parse(message.data.post).id === postId);
    const ephemeral = await creator.waitFor((message) => message.event === 'ephemeral_message');
    expect(JSON.parse(ephemeral.data.post)).toMatchObject({ message: 'done', type: 'system_ephemeral' });
    expect(ephemeral.broadcast).toMatchObject({ user_id: world.user('creator').id, channel_id: world.channel('town-square').id });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(other.events.some((message) => message.event === 'ephemeral_message')).toBe(false);
  });

  it('delivers REST edits, reactions and deletes', async () => {
    const other = connect(world.user('other').token);
    await other.ready();
    const token = world.user('creator').token;
    const created = await api.postJson('/api/v4/posts', { channel_id: world.channel('town-square').id, message: 'first' }, auth(token));
    const postId = created.json().id as string;
    await other.waitFor((message) => message.event === 'posted' && JSON.parse(message.data.post).id === postId);
    expect((await api.request('PUT', `/api/v4/posts/${postId}/patch`, { body: JSON.stringify({ message: 'second' }), headers: auth(token) })).status).toBe(200);
    const edited = await other.waitFor((message) => message.event === 'post_edited' && JSON.parse(message.data.post).id === postId);
    expect(JSON.parse(edited.data.post).message).toBe('second');
    const reacted = await api.postJson('/api/v4/reactions', { user_id: world.user('creator').id, post_id: postId, emoji_name: 'tada' }, auth(token));
    expect(reacted.status, reacted.text).toBe(200);
    const added = await other.waitFor((message) => message.event === 'reaction_added');
    expect(JSON.parse(added.data.reaction)).toMatchObject({ post_id: postId, emoji_name: 'tada', user_id: world.user('creator').id });
    expect((await api.request('DELETE', `/api/v4/users/${world.user('creator').id}/posts/${postId}/reactions/tada`, { headers: auth(token) })).status).toBe(200);
    const removed = await other.waitFor((message) => message.event === 'reaction_removed');
    expect(JSON.parse(removed.data.reaction)).toMatchObject({ post_id: postId, emoji_name: 'tada' });
    expect((await api.request('DELETE', `/api/v4/posts/${postId}`, { headers: auth(token) })).status).toBe(200);
    const deleted = await other.waitFor((message) => message.event === 'post_deleted');
    expect(JSON.parse(deleted.data.post).id).toBe(postId);
    expect(deleted.data.delete_by).toBe(world.user('creator').id);
    // Reactions change the post's counters only: no post_edited for them.
    expect(other.events.filter((message) => message.event === 'post_edited')).toHaveLength(1);
    expect(other.events.map((message) => message.seq)).toEqual(other.events.map((_, index) => index));
  });

  it('sends no event for a root when its reply is edited or reacted to (the root is only listed among the changes)', async () => {
    const other = connect(world.user('other').token);
    await other.ready();
    const token = world.user('creator').token;
    const channelId = world.channel('town-square').id;
    const rootId = (await api.postJson('/api/v4/posts', { channel_id: channelId, message: 'root' }, auth(token))).json().id as string;
    const replyId = (await api.postJson('/api/v4/posts', { channel_id: channelId, message: 'reply', root_id: rootId }, auth(token))).json().id as string;
    await other.waitFor((message) => message.event === 'posted' && JSON.parse(message.data.post).id === replyId);
    // An edit of the root itself is an event, and leaves the root unmarked by the reply's counter write.
    expect((await api.request('PUT', `/api/v4/posts/${rootId}/patch`, { body: JSON.stringify({ message: 'root, edited' }), headers: auth(token) })).status).toBe(200);
    expect((await api.request('PUT', `/api/v4/posts/${replyId}/patch`, { body: JSON.stringify({ message: 'reply, edited' }), headers: auth(token) })).status).toBe(200);
    const reacted = await api.postJson('/api/v4/reactions', { user_id: world.user('creator').id, post_id: replyId, emoji_name: 'tada' }, auth(token));
    expect(reacted.status, reacted.text).toBe(200);
    // The stream is read in order: once a later post arrives, the events of the writes before it have.
    const markerId = (await api.postJson('/api/v4/posts', { channel_id: channelId, message: 'marker' }, auth(token))).json().id as string;
    await other.waitFor((message) => message.event === 'posted' && JSON.parse(message.data.post).id === markerId);
    const edits = other.events.filter((message) => message.event === 'post_edited').map((message) => JSON.parse(message.data.post).id);
    expect(edits).toEqual([rootId, replyId]);
    expect(other.events.filter((message) => message.event === 'reaction_added')).toHaveLength(1);
  });

  it('delivers an ephemeral command answer only to the user who ran the command', async () => {
    const creator = connect(world.user('creator').token);
    const other = connect(world.user('other').token);
    await Promise.all([creator.ready(), other.ready()]);
    const executed = await api.postJson('/api/v4/commands/execute', { command: '/whisper hi', channel_id: world.channel('town-square').id }, auth(world.user('creator').token));
    expect(executed.status, executed.text).toBe(200);
    const ephemeral = await creator.waitFor((message) => message.event === 'ephemeral_message');
    expect(JSON.parse(ephemeral.data.post).message).toBe('only for you');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(other.events.some((message) => message.event === 'ephemeral_message')).toBe(false);
  });

  it('sends nothing of a private channel to a non-member', async () => {
    const creator = connect(world.user('creator').token);
    const other = connect(world.user('other').token);
    await Promise.all([creator.ready(), other.ready()]);
    const postId = await postByHook('secret plans', 'private');
    await creator.waitFor((message) => message.event === 'posted' && JSON.parse(message.data.post).id === postId);
    // A later public post reaches both: by then the private one would have arrived.
    const publicId = await postByHook('public news');
    await other.waitFor((message) => message.event === 'posted' && JSON.parse(message.data.post).id === publicId);
    expect(other.events.some((message) => message.event === 'posted' && JSON.parse(message.data.post).id === postId)).toBe(false);
  });
});

describe('connections', () => {
  it('forgets a connection that is gone when a send finds it so', async () => {
    const live = connect(world.user('outsider').token);
    const hello = await live.ready();
    const connectionId = hello.data.connection_id as string;
    const { liveFor } = await import('../../lib/live/live.js');
    const connections = liveFor(api.runtime)!.connections;
    // Listed before its hello was sent; open once the hello is, a moment after the client saw it.
    expect(['opening', 'open']).toContain((await connections.get(connectionId))?.state);
    // The socket dies without API Gateway's $disconnect reaching the function (a lost invocation).
    const gone = 'gonegonegonegon=';
    await connections.create(gone, world.user('outsider').id, Date.now());
    await connections.claimHello(gone, world.user('outsider').id);
    await connections.list(gone, world.user('outsider').id, [], Date.now());
    await connections.open(gone);
    const { publishToUser } = await import('../../lib/live/live.js');
    const { broadcast } = await import('../../lib/live/events.js');
    const counts = await publishToUser(api.runtime, world.user('outsider').id, { event: 'test', data: {}, broadcast: broadcast({ user_id: world.user('outsider').id }) });
    expect(counts).toMatchObject({ sent: 1, gone: 1 });
    expect(await connections.get(gone)).toBeUndefined();
    expect(await connections.get(connectionId)).toBeDefined();
    // An event that finds a connection still sending its hello waits for it to open, rather than
    // skipping it: the gateway is then asked to send (and answers 410 for this made-up id).
    const opening = 'openingopening==';
    await connections.create(opening, world.user('outsider').id, Date.now());
    await connections.claimHello(opening, world.user('outsider').id);
    await connections.list(opening, world.user('outsider').id, [], Date.now());
    const published = publishToUser(api.runtime, world.user('outsider').id, { event: 'test', data: {}, broadcast: broadcast({ user_id: world.user('outsider').id }) });
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(await connections.open(opening)).toBe(true);
    expect(await published).toMatchObject({ sent: 1, gone: 1, skipped: 0 });
    // The real connection took seq 1 (the first test event) and then 2: nothing was lost between.
    await live.waitFor(() => live.events.filter((message) => message.event === 'test').length === 2);
    expect(live.events.filter((message) => message.event === 'test').map((message) => message.seq)).toEqual([1, 2]);
    // One listed long ago whose hello never completed (its invocation died) is skipped at once.
    const stale = 'staleopeningone=';
    await connections.create(stale, world.user('outsider').id, Date.now());
    await connections.claimHello(stale, world.user('outsider').id);
    await connections.list(stale, world.user('outsider').id, [], Date.now() - 60_000);
    expect(await publishToUser(api.runtime, world.user('outsider').id, { event: 'test', data: {}, broadcast: broadcast({ user_id: world.user('outsider').id }) })).toMatchObject({ sent: 1, skipped: 1 });
    await live.waitFor(() => live.events.filter((message) => message.event === 'test').length === 3);
    // A closed socket's $disconnect forgets it too.
    live.client.close();
    const deadline = Date.now() + 5_000;
    while ((await connections.get(connectionId)) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await connections.get(connectionId)).toBeUndefined();
  });
});

describe('a hello the Management API fails to send', () => {
  it('leaves the connection unlisted and authenticated, and its next frame sends the hello', async () => {
    const { liveFor } = await import('../../lib/live/live.js');
    const { receiveFrame } = await import('../../lib/live/socket.js');
    const real = liveFor(api.runtime)!;
    const sent: string[] = [];
    let failing = true;
    const live = {
      connections: real.connections,
      sender: {
        send: async (_connectionId: string, message: string) => {
          if (failing) throw new Error('ThrottlingException');
          sent.push(message);
          return 'sent' as const;
        },
        close: async () => {},
      },
    };
    const connectionId = 'hellofailsonce==';
    const userId = world.user('creator').id;
    const channelId = world.channel('town-square').id;
    await real.connections.create(connectionId, userId, Date.now());
    const ping = JSON.stringify({ seq: 1, action: 'ping' });
    await expect(receiveFrame(api.runtime, live, connectionId, ping)).rejects.toThrow('ThrottlingException');
    expect((await real.connections.get(connectionId))?.state).toBe('authenticated');
    expect((await real.connections.connectionsOfChannel(channelId)).map((target) => target.connectionId)).not.toContain(connectionId);
    failing = false;
    await receiveFrame(api.runtime, live, connectionId, JSON.stringify({ seq: 2, action: 'ping' }));
    expect(JSON.parse(sent[0]!)).toMatchObject({ event: 'hello', seq: 0 });
    expect((await real.connections.get(connectionId))?.state).toBe('open');
    expect((await real.connections.connectionsOfChannel(channelId)).map((target) => target.connectionId)).toContain(connectionId);
    await real.connections.remove(connectionId);
  });
});

describe('dialogs', () => {
  it('sends open_dialog to every connection of the trigger\'s user and no one else, each time the trigger opens one (DG-08)', async () => {
    const creator = connect(world.user('creator').token);
    const secondTab = connect(world.user('creator').token, 'header');
    const other = connect(world.user('other').token);
    await Promise.all([creator.ready(), secondTab.ready(), other.ready()]);
    const secret = (await api.runtime.entities.getActionSigningSecret())!;
    const { clientTriggerId, triggerId } = generateTriggerId(secret, world.user('creator').id, Date.now());
    const dialog = { callback_id: 'cb', title: 'Approve', elements: [{ display_name: 'Reason', name: 'reason', type: 'text' }], state: 's' };
    const url = `${integration.url}/dialog`;
    expect((await api.postJson('/api/v4/actions/dialogs/open', { trigger_id: triggerId, url, dialog })).status).toBe(200);
    for (const tab of [creator, secondTab]) {
      const event = await tab.waitFor((message) => message.event === 'open_dialog');
      expect(event.broadcast.user_id).toBe(world.user('creator').id);
      expect(JSON.parse(event.data.dialog as string)).toEqual({ trigger_id: clientTriggerId, url, dialog });
    }
    // The same trigger opens again within its lifetime.
    expect((await api.postJson('/api/v4/actions/dialogs/open', { trigger_id: triggerId, url, dialog })).status).toBe(200);
    await creator.waitFor(() => creator.events.filter((message) => message.event === 'open_dialog').length === 2);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(creator.events.filter((message) => message.event === 'open_dialog')).toHaveLength(2);
    expect(other.events.some((message) => message.event === 'open_dialog')).toBe(false);
  });
});
