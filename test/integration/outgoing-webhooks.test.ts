import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replyJson, startCallbackServer, type CallbackServer } from '../support/callback-server.js';
import { seedWorld, startOutgoingStack, type OutgoingStack, type World } from '../support/harness.js';

/**
 * Outgoing webhooks end to end: a user's post through the API, the posts stream, the dispatcher,
 * SQS, the worker, a real callback server on loopback, and the reply post (reference §8.3).
 */
let stack: OutgoingStack;

beforeAll(async () => {
  stack = await startOutgoingStack();
});
afterAll(() => stack.close());

const auth = (token: string) => ({ authorization: `Bearer ${token}` });

async function userPost(world: World, message: string, channel = 'town-square', extra: Record<string, unknown> = {}) {
  const response = await stack.api.postJson('/api/v4/posts', { channel_id: world.channel(channel).id, message, ...extra }, auth(world.user('creator').token));
  expect(response.status, response.text).toBe(201);
  return response.json();
}

async function channelPosts(world: World, channel = 'town-square') {
  const response = await stack.api.request('GET', `/api/v4/channels/${world.channel(channel).id}/posts`, { headers: auth(world.user('creator').token) });
  return Object.values(response.json().posts as Record<string, any>).sort((a, b) => a.create_at - b.create_at);
}

async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const settle = (ms = 1_500) => new Promise((resolve) => setTimeout(resolve, ms));

function outgoingHook(names: { team: string; creator: string }, url: string, extra: Record<string, unknown> = {}) {
  return { team: names.team, channel: 'town-square', creator: names.creator, trigger_words: ['build'], callback_urls: [url], ...extra };
}

describe('payloads', () => {
  let server: CallbackServer;
  let world: World;
  beforeAll(async () => {
    server = await startCallbackServer();
    world = await seedWorld(stack.api.runtime, (names) => ({
      outgoing_webhooks: [
        outgoingHook(names, `${server.url}/json`, { display_name: 'json', content_type: 'application/json', token: 'a'.repeat(26) }),
        outgoingHook(names, `${server.url}/form`, { display_name: 'form', trigger_words: ['deploy'], token: 'b'.repeat(26) }),
      ],
    }));
  });
  afterAll(() => server.close());

  it('OW-02 sends JSON with the timestamp in milliseconds, signed with Standard Webhooks headers', async () => {
    const post = await userPost(world, 'build now please');
    const [request] = await server.waitFor(1);
    expect(request!.url).toBe('/json');
    expect(request!.headers['content-type']).toBe('application/json');
    expect(request!.headers.accept).toBe('application/json');
    const payload = JSON.parse(request!.body);
    expect(payload).toEqual({
      token: 'a'.repeat(26),
      team_id: world.team.id,
      team_domain: world.team.name,
      channel_id: world.channel('town-square').id,
      channel_name: 'town-square',
      timestamp: post.create_at,
      user_id: world.user('creator').id,
      user_name: world.user('creator').username,
      post_id: post.id,
      text: 'build now please',
      trigger_word: 'build',
      file_ids: '',
    });
    const secret = world.summary.outgoing_webhooks.find((hook) => hook.display_name === 'json')!.signing_secret;
    expect(() => new Webhook(secret).verify(request!.body, request!.headers as Record<string, string>)).not.toThrow();
    expect(() => new Webhook(world.summary.outgoing_webhooks[1]!.signing_secret).verify(request!.body, request!.headers as Record<string, string>)).toThrow();
  });

  it('OW-01 sends form fields sorted by key with the timestamp in seconds', async () => {
    const post = await userPost(world, 'deploy api*~ now');
    const requests = await server.waitFor(2);
    const form = requests.find((request) => request.url === '/form')!;
    expect(form.headers['content-type']).toBe('application/x-www-form-urlencoded');
    const keys = form.body.split('&').map((pair) => pair.split('=')[0]);
    expect(keys).toEqual([...keys].sort());
    const fields = new URLSearchParams(form.body);
    expect(fields.get('timestamp')).toBe(String(Math.floor(post.create_at / 1000)));
    expect(fields.get('text')).toBe('deploy api*~ now');
    expect(form.body).toContain('text=deploy+api%2A~+now');
    expect(fields.get('token')).toBe('b'.repeat(26));
    expect(fields.get('trigger_word')).toBe('deploy');
  });
});

describe('which posts trigger', () => {
  let server: CallbackServer;
  let world: World;
  beforeAll(async () => {
    server = await startCallbackServer();
    world = await seedWorld(stack.api.runtime, (names) => ({
      channels: [{ team: names.team, name: 'watched', type: 'O' }],
      users: [],
      outgoing_webhooks: [
        outgoingHook(names, `${server.url}/exact`, { display_name: 'exact', channel: '', trigger_words: ['foo'] }),
        outgoingHook(names, `${server.url}/prefix`, { display_name: 'prefix', channel: '', trigger_words: ['ba', 'bar'], trigger_when: 1 }),
        outgoingHook(names, `${server.url}/channel`, { display_name: 'channel', channel: 'watched', trigger_words: [] }),
      ],
    }));
  });
  afterAll(() => server.close());

  it('OW-04 matches the first word exactly or as a prefix, and OW-13 gives each delivery its own trigger word', async () => {
    await userPost(world, 'foo bar');
    await userPost(world, 'Foo bar');
    await userPost(world, 'barfoo x');
    await userPost(world, 'xfoo');
    await settle();
    const byPath = (path: string) => server.received.filter((request) => request.url === path).map((request) => JSON.parse(JSON.stringify(Object.fromEntries(new URLSearchParams(request.body)))));
    expect(byPath('/exact').map((payload) => [payload.text, payload.trigger_word])).toEqual([['foo bar', 'foo']]);
    expect(byPath('/prefix').map((payload) => [payload.text, payload.trigger_word])).toEqual([['barfoo x', 'ba']]);
  });
});
