import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replyJson, startCallbackServer, type CallbackServer } from '../support/callback-server.js';
import { seedWorld, startOutgoingStack, type OutgoingStack, type World } from '../support/harness.js';

/**
 * Outgoing webhooks end to end: a user's post through the API, the posts stream, the dispatcher,
 * SQS, the worker, a real callback server on loopback, and the reply post.
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

describe('which posts never trigger', () => {
  it('OW-10 ignores private channels, direct channels and webhook posts; a user post in a public channel triggers', async () => {
    const server = await startCallbackServer();
    try {
      const world = await seedWorld(stack.api.runtime, (names) => ({
        outgoing_webhooks: [outgoingHook(names, `${server.url}/any`, { channel: '', trigger_words: ['ping'] })],
      }));
      await userPost(world, 'ping private', 'private');
      const dm = (await stack.api.runtime.entities.openDirectChannel(world.user('creator').id, world.user('other').id, Date.now())).channel;
      const direct = await stack.api.postJson('/api/v4/posts', { channel_id: dm.id, message: 'ping direct' }, auth(world.user('creator').token));
      expect(direct.status).toBe(201);
      const hooked = await stack.api.postJson(world.hook('main').url, { text: 'ping from a webhook' });
      expect(hooked.status).toBe(200);
      await settle();
      expect(server.received).toHaveLength(0);
      await userPost(world, 'ping public');
      const [request] = await server.waitFor(1);
      expect(new URLSearchParams(request!.body).get('text')).toBe('ping public');
      await settle(500);
      expect(server.received).toHaveLength(1);
    } finally {
      await server.close();
    }
  });

  it('sends nothing when outgoing webhooks are disabled', async () => {
    const disabled = await startOutgoingStack({ ENABLE_OUTGOING_WEBHOOKS: 'false' });
    const server = await startCallbackServer();
    try {
      const world = await seedWorld(disabled.api.runtime, (names) => ({ outgoing_webhooks: [outgoingHook(names, server.url)] }));
      const response = await disabled.api.postJson('/api/v4/posts', { channel_id: world.channel('town-square').id, message: 'build' }, auth(world.user('creator').token));
      expect(response.status).toBe(201);
      await settle();
      expect(server.received).toHaveLength(0);
      // Positive control: the same stored post and hook, with the switch on, make one delivery.
      const { planDeliveries } = await import('../../lib/webhooks/outgoing-dispatch.js');
      const enabled = { ...disabled.runtime, config: { ...disabled.runtime.config, enableOutgoingWebhooks: true } };
      const stored = await disabled.runtime.posts.getPost(response.json().id);
      expect(await planDeliveries(enabled, stored!)).toHaveLength(1);
    } finally {
      await server.close();
      await disabled.close();
    }
  });
});

describe('replies', () => {
  it('OW-05 posts the reply as from_webhook, OW-06 calls every callback URL, OW-11 threads comments', async () => {
    const first = await startCallbackServer((_request, _index, response) => replyJson(response, { text: 'sample response text from test server' }));
    const second = await startCallbackServer((_request, _index, response) => replyJson(response, { text: 'second says <!channel>', response_type: 'comment' }));
    try {
      const world = await seedWorld(stack.api.runtime, (names) => ({
        outgoing_webhooks: [outgoingHook(names, first.url, { display_name: 'replier', callback_urls: [first.url, second.url], username: 'hook-user', icon_url: 'http://hook/icon' })],
      }));
      const post = await userPost(world, 'build it');
      await first.waitFor(1);
      await second.waitFor(1);
      const replies = await eventually(async () => {
        const posts = (await channelPosts(world)).filter((candidate) => candidate.id !== post.id);
        return posts.length >= 2 ? posts : undefined;
      });
      const plain = replies.find((reply) => reply.message === 'sample response text from test server')!;
      expect(plain.props).toMatchObject({ from_webhook: 'true', webhook_display_name: 'replier' });
      expect(plain.props.override_username).toBeUndefined();
      expect(plain.root_id).toBe('');
      expect(plain.user_id).toBe(world.user('creator').id);
      const comment = replies.find((reply) => reply.message === 'second says @channel')!;
      expect(comment.root_id).toBe(post.id);

      // A comment on a reply goes into the same thread instead of failing.
      const reply = await userPost(world, 'build in a thread', 'town-square', { root_id: post.id });
      await second.waitFor(2);
      const nested = await eventually(async () => (await channelPosts(world)).find((candidate) => candidate.message === 'second says @channel' && candidate.id !== comment.id));
      expect(nested.root_id).toBe(post.id);
      expect(reply.root_id).toBe(post.id);
    } finally {
      await first.close();
      await second.close();
    }
  });

  it('OW-05 applies username and icon overrides when configured, the reply winning over the hook', async () => {
    const overriding = await startOutgoingStack({ ENABLE_POST_USERNAME_OVERRIDE: 'true', ENABLE_POST_ICON_OVERRIDE: 'true' });
    let answer: Record<string, unknown> = { text: 'from hook config' };
    const server = await startCallbackServer((_request, _index, response) => replyJson(response, answer));
    try {
      const world = await seedWorld(overriding.api.runtime, (names) => ({
        outgoing_webhooks: [outgoingHook(names, server.url, { username: 'some-user-name', icon_url: 'http://some-icon/' })],
      }));
      const readReply = async (text: string) =>
        eventually(async () => {
          const response = await overriding.api.request('GET', `/api/v4/channels/${world.channel('town-square').id}/posts`, { headers: auth(world.user('creator').token) });
          return Object.values(response.json().posts as Record<string, any>).find((post) => post.message === text);
        });
      await overriding.api.postJson('/api/v4/posts', { channel_id: world.channel('town-square').id, message: 'build one' }, auth(world.user('creator').token));
      const fromHook = await readReply('from hook config');
      expect(fromHook.props).toMatchObject({ override_username: 'some-user-name', override_icon_url: 'http://some-icon/' });
      answer = { text: 'from reply', username: 'webhookuser', icon_url: 'http://webhook/icon' };
      await overriding.api.postJson('/api/v4/posts', { channel_id: world.channel('town-square').id, message: 'build two' }, auth(world.user('creator').token));
      const fromReply = await readReply('from reply');
      expect(fromReply.props).toMatchObject({ override_username: 'webhookuser', override_icon_url: 'http://webhook/icon' });
    } finally {
      await server.close();
      await overriding.close();
    }
  });

  it('OW-07 posts nothing for an empty, non-JSON or oversized reply, and records the attempt', async () => {
    const bodies = ['', 'aaaaaaaa', `{"text":"${'x'.repeat(1024 * 1024 + 10)}"}`];
    const server = await startCallbackServer((request, _index, response) => {
      const which = Number(JSON.parse(JSON.stringify(Object.fromEntries(new URLSearchParams(request.body)))).text.split(' ')[1]);
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(bodies[which]);
    });
    try {
      const world = await seedWorld(stack.api.runtime, (names) => ({ outgoing_webhooks: [outgoingHook(names, server.url)] }));
      const posts = [];
      for (let i = 0; i < bodies.length; i++) posts.push(await userPost(world, `build ${i}`));
      await server.waitFor(bodies.length);
      await settle(1_000);
      expect((await channelPosts(world)).map((post) => post.message).sort()).toEqual(['build 0', 'build 1', 'build 2']);
      const attempts = await stack.runtime.deliveries.recent({ hours: 1, nowMs: Date.now(), limit: 500 });
      const forPost = (postId: string) => attempts.filter((attempt) => attempt.post_id === postId);
      expect(forPost(posts[0].id)).toMatchObject([{ outcome: 'delivered', status: 200, error: '' }]);
      expect(forPost(posts[1].id)[0]!.error).toMatch(/unmarshal|JSON/i);
      expect(forPost(posts[2].id)[0]!.error).toMatch(/unmarshal/);
    } finally {
      await server.close();
    }
  });

  it('OW-12 sends the new token at once after a token change', async () => {
    const server = await startCallbackServer();
    try {
      let newToken = 'c'.repeat(26);
      const world = await seedWorld(stack.api.runtime, (names) => ({ outgoing_webhooks: [outgoingHook(names, server.url, { display_name: 'rotating', token: 'd'.repeat(26) })] }));
      await userPost(world, 'build a');
      await server.waitFor(1);
      const { applySeed, parseSeedFile } = await import('../../lib/seed/seed.js');
      const team = world.team.name;
      await applySeed(
        'rotate.yaml',
        parseSeedFile('rotate.yaml', `outgoing_webhooks: [{team: ${team}, channel: town-square, creator: ${world.user('creator').username}, display_name: rotating, trigger_words: [build], callback_urls: ["${server.url}"], token: ${newToken}}]`),
        { store: stack.api.runtime.entities, siteUrl: '' },
      );
      await userPost(world, 'build b');
      const requests = await server.waitFor(2);
      expect(new URLSearchParams(requests[0]!.body).get('token')).toBe('d'.repeat(26));
      expect(new URLSearchParams(requests[1]!.body).get('token')).toBe(newToken);
    } finally {
      await server.close();
    }
  });

  it('delivers to the new callback URL at once after a URL change, and redirects a delivery queued for the old one', async () => {
    const [oldServer, newServer] = [await startCallbackServer(), await startCallbackServer()];
    try {
      const world = await seedWorld(stack.api.runtime, (names) => ({ outgoing_webhooks: [outgoingHook(names, oldServer.url, { key: 'moving' })] }));
      await userPost(world, 'build before');
      await oldServer.waitFor(1);
      const { applySeed, parseSeedFile } = await import('../../lib/seed/seed.js');
      await applySeed(
        'move.yaml',
        parseSeedFile('move.yaml', `outgoing_webhooks: [{key: moving, team: ${world.team.name}, channel: town-square, creator: ${world.user('creator').username}, trigger_words: [build], callback_urls: ["${newServer.url}"]}]`),
        { store: stack.api.runtime.entities, siteUrl: '' },
      );
      // Within the entity cache's interval: the next post still reaches the new URL.
      const after = await userPost(world, 'build after');
      const [delivered] = await newServer.waitFor(1);
      expect(new URLSearchParams(delivered!.body).get('post_id')).toBe(after.id);

      // A delivery that was queued for the old URL before the change goes to the new URL instead.
      const hookId = world.summary.outgoing_webhooks[0]!.id;
      const { deriveId } = await import('../../lib/ids.js');
      await stack.runtime.queue.enqueue([
        {
          version: 1,
          delivery_id: deriveId('delivery', after.id, hookId, oldServer.url),
          post_id: after.id,
          hook_id: hookId,
          callback_url: oldServer.url,
          trigger_word: 'build',
          planned_urls: [oldServer.url],
          post: { create_at: after.create_at, root_id: '', message: 'build queued', user_id: world.user('creator').id, user_name: world.user('creator').username, channel_id: world.channel('town-square').id, channel_name: 'town-square', team_id: world.team.id, team_domain: world.team.name },
        },
      ]);
      const requests = await newServer.waitFor(2);
      expect(new URLSearchParams(requests[1]!.body).get('text')).toBe('build queued');
      await settle(500);
      expect(oldServer.received).toHaveLength(1);
    } finally {
      await oldServer.close();
      await newServer.close();
    }
  });
});

describe('reliability', () => {
  it('retries failures with growing delays and posts exactly one reply when the callback recovers', async () => {
    const server = await startCallbackServer((_request, index, response) => {
      if (index < 2) {
        response.writeHead(503);
        response.end('busy');
      } else replyJson(response, { text: 'finally' });
    });
    try {
      const world = await seedWorld(stack.api.runtime, (names) => ({ outgoing_webhooks: [outgoingHook(names, server.url)] }));
      const post = await userPost(world, 'build retry');
      const requests = await server.waitFor(3, 20_000);
      expect(new Set(requests.map((request) => request.headers['webhook-id'])).size).toBe(1);
      await eventually(async () => ((await channelPosts(world)).some((candidate) => candidate.message === 'finally') ? true : undefined));
      await settle(1_500);
      expect((await channelPosts(world)).filter((candidate) => candidate.message === 'finally')).toHaveLength(1);
      const attempts = (await stack.runtime.deliveries.recent({ hours: 1, nowMs: Date.now(), limit: 500 })).filter((attempt) => attempt.post_id === post.id);
      expect(attempts.map((attempt) => [attempt.attempt, attempt.outcome, attempt.status]).sort()).toEqual([
        [1, 'retrying', 503],
        [2, 'retrying', 503],
        [3, 'delivered', 200],
      ]);
    } finally {
      await server.close();
    }
  });

  it('retries a callback that hangs past the timeout', async () => {
    const server = await startCallbackServer(async (_request, index, response) => {
      if (index === 0) return; // never answers
      replyJson(response, { text: 'awake now' });
    });
    try {
      const world = await seedWorld(stack.api.runtime, (names) => ({ outgoing_webhooks: [outgoingHook(names, server.url)] }));
      const post = await userPost(world, 'build slowly');
      await server.waitFor(2, 20_000);
      await eventually(async () => ((await channelPosts(world)).some((candidate) => candidate.message === 'awake now') ? true : undefined));
      const attempts = (await stack.runtime.deliveries.recent({ hours: 1, nowMs: Date.now(), limit: 500 })).filter((attempt) => attempt.post_id === post.id);
      expect(attempts.find((attempt) => attempt.attempt === 1)).toMatchObject({ outcome: 'retrying' });
      expect(attempts.find((attempt) => attempt.attempt === 1)!.error).toMatch(/timeout/);
    } finally {
      await server.close();
    }
  });

  it('stops at once on 410 Gone and honours Retry-After on 429', async () => {
    const gone = await startCallbackServer((_request, _index, response) => {
      response.writeHead(410);
      response.end();
    });
    const limited = await startCallbackServer((_request, index, response) => {
      if (index === 0) {
        response.writeHead(429, { 'retry-after': '2' });
        response.end();
      } else replyJson(response, {});
    });
    try {
      const world = await seedWorld(stack.api.runtime, (names) => ({
        outgoing_webhooks: [outgoingHook(names, gone.url, { display_name: 'gone' }), outgoingHook(names, limited.url, { display_name: 'limited' })],
      }));
      await userPost(world, 'build please');
      const [firstLimited] = await limited.waitFor(1);
      const requests = await limited.waitFor(2, 20_000);
      const spacingMs = Number(requests[1]!.headers['webhook-timestamp']) * 1000 - Number(firstLimited!.headers['webhook-timestamp']) * 1000;
      expect(spacingMs).toBeGreaterThanOrEqual(1_000);
      await settle(1_500);
      expect(gone.received).toHaveLength(1);
    } finally {
      await gone.close();
      await limited.close();
    }
  });

  it('delivers a message received twice only once as a reply', async () => {
    const server = await startCallbackServer((_request, _index, response) => replyJson(response, { text: 'only once' }));
    try {
      const world = await seedWorld(stack.api.runtime, (names) => ({ outgoing_webhooks: [outgoingHook(names, server.url)] }));
      const post = await userPost(world, 'build twice');
      await server.waitFor(1);
      await eventually(async () => ((await channelPosts(world)).some((candidate) => candidate.message === 'only once') ? true : undefined));
      const { planDeliveries } = await import('../../lib/webhooks/outgoing-dispatch.js');
      const messages = await planDeliveries(stack.api.runtime, post);
      await stack.runtime.queue.enqueue([...messages, ...messages]);
      await server.waitFor(3);
      await settle(1_000);
      expect((await channelPosts(world)).filter((candidate) => candidate.message === 'only once')).toHaveLength(1);
    } finally {
      await server.close();
    }
  });
});

describe('the dead-letter queue', () => {
  it('keeps a delivery that never succeeds, lists its failures, and redelivers it once the callback recovers', async () => {
    let healthy = false;
    const server = await startCallbackServer((_request, _index, response) => {
      if (healthy) return replyJson(response, { text: 'recovered reply' });
      response.writeHead(500);
      response.end();
    });
    try {
      const world = await seedWorld(stack.api.runtime, (names) => ({ outgoing_webhooks: [outgoingHook(names, server.url)] }));
      const post = await userPost(world, 'build doomed');
      const { ReceiveMessageCommand, GetQueueAttributesCommand } = await import('@aws-sdk/client-sqs');
      const { sqsClient } = await import('../../lib/queue.js');
      const sqs = sqsClient({ endpoint: stack.environment.SQS_ENDPOINT, region: 'us-east-1' });
      const deadLetterCount = async () =>
        Number(
          (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: stack.environment.DEAD_LETTER_QUEUE_URL!, AttributeNames: ['ApproximateNumberOfMessages'] })))
            .Attributes?.ApproximateNumberOfMessages,
        );
      // Eight attempts (OUTGOING_MAX_ATTEMPTS); with one-second retries the message reaches the DLQ in seconds.
      await eventually(async () => ((await deadLetterCount()) === 1 ? true : undefined), 40_000);
      expect(server.received).toHaveLength(8);
      const attempts = (await stack.runtime.deliveries.recent({ hours: 1, nowMs: Date.now(), limit: 500 })).filter((attempt) => attempt.post_id === post.id);
      expect(attempts).toHaveLength(8);
      expect(attempts.every((attempt) => attempt.status === 500)).toBe(true);
      // The last attempt is the one that dead-lettered the delivery, and says so.
      expect(attempts.sort((a, b) => a.attempt - b.attempt).map((attempt) => attempt.outcome)).toEqual([...Array(7).fill('retrying'), 'dead_lettered']);
      expect((await channelPosts(world)).map((candidate) => candidate.message)).toEqual(['build doomed']);

      healthy = true;
      const { redriveDeadLetters } = await import('../../lib/webhooks/deliveries-admin.js');
      expect(await redriveDeadLetters(sqs, { deadLetterQueueUrl: stack.environment.DEAD_LETTER_QUEUE_URL!, queueUrl: stack.environment.QUEUE_URL! })).toBe(1);
      await eventually(async () => ((await channelPosts(world)).some((candidate) => candidate.message === 'recovered reply') ? true : undefined));
      await settle(1_000);
      expect((await channelPosts(world)).filter((candidate) => candidate.message === 'recovered reply')).toHaveLength(1);
      expect(await deadLetterCount()).toBe(0);

      // The operator's command lists the attempts, failures included.
      const { execFile } = await import('node:child_process');
      const stage = stack.environment.TABLE_DELIVERIES!.replace(/^hookline-/, '').replace(/-deliveries$/, '');
      const listing = await new Promise<string>((resolve, reject) =>
        execFile(
          'npx',
          ['tsx', 'infra/deliveries/cli.ts', 'list', '--failed', '--stage', stage],
          {
            env: {
              ...process.env,
              AWS_ENDPOINT_URL_DYNAMODB: stack.environment.DYNAMODB_ENDPOINT,
              AWS_ENDPOINT_URL_SQS: stack.environment.SQS_ENDPOINT,
              AWS_ACCESS_KEY_ID: 'local',
              AWS_SECRET_ACCESS_KEY: 'local',
            },
          },
          (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout)),
        ),
      );
      expect(listing.split('\n').filter((line) => line.includes(server.url) && line.includes('retrying') && line.includes('500'))).toHaveLength(7);
      expect(listing.split('\n').filter((line) => line.includes(server.url) && line.includes('dead_lettered') && line.includes('500'))).toHaveLength(1);
      expect(listing).toContain('dead-letter queue: 0 message(s)');
      expect(new Set(server.received.map((request) => request.headers['webhook-id'])).size).toBe(1);
      const empty = await sqs.send(new ReceiveMessageCommand({ QueueUrl: stack.environment.DEAD_LETTER_QUEUE_URL!, WaitTimeSeconds: 0 }));
      expect(empty.Messages ?? []).toHaveLength(0);
    } finally {
      await server.close();
    }
  }, 60_000);
});

describe('a worker that crashes mid-batch', () => {
  it('loses nothing: the whole batch comes back and every post gets exactly one reply', async () => {
    let crashes = 1;
    const crashing = await startOutgoingStack({}, {
      visibilityTimeoutSeconds: 2,
      wrapWorker: (worker) => async (event) => {
        if (crashes > 0 && event.Records.length > 1) {
          crashes--;
          // Handle the first record, then die before answering, as a timed-out Lambda would.
          await worker({ Records: event.Records.slice(0, 1) });
          throw new Error('worker crashed');
        }
        return worker(event);
      },
    });
    const server = await startCallbackServer(async (request, _index, response) => {
      await new Promise((resolve) => setTimeout(resolve, 50));
      replyJson(response, { text: `reply to ${new URLSearchParams(request.body).get('text')}` });
    });
    try {
      const world = await seedWorld(crashing.api.runtime, (names) => ({
        outgoing_webhooks: Array.from({ length: 4 }, (_unused, index) => outgoingHook(names, `${server.url}/${index}`, { display_name: `hook${index}` })),
      }));
      await crashing.api.postJson('/api/v4/posts', { channel_id: world.channel('town-square').id, message: 'build all' }, auth(world.user('creator').token));
      const replies = await eventually(async () => {
        const response = await crashing.api.request('GET', `/api/v4/channels/${world.channel('town-square').id}/posts`, { headers: auth(world.user('creator').token) });
        const found = Object.values(response.json().posts as Record<string, any>).filter((post) => post.message === 'reply to build all');
        return found.length >= 4 ? found : undefined;
      }, 30_000);
      expect(crashes).toBe(0);
      await settle(2_500);
      const response = await crashing.api.request('GET', `/api/v4/channels/${world.channel('town-square').id}/posts`, { headers: auth(world.user('creator').token) });
      expect(Object.values(response.json().posts as Record<string, any>).filter((post) => post.message === 'reply to build all')).toHaveLength(4);
      expect(replies).toHaveLength(4);
    } finally {
      await server.close();
      await crashing.close();
    }
  }, 60_000);
});

describe('outbound safety', () => {
  it('refuses private and loopback addresses unless allowed, dead-lettering at once, and follows no redirect', async () => {
    const strict = await startOutgoingStack({ ALLOWED_UNTRUSTED_INTERNAL_CONNECTIONS: '' });
    const server = await startCallbackServer();
    const target = await startCallbackServer();
    const redirecting = await startCallbackServer((_request, _index, response) => {
      response.writeHead(302, { location: `${target.url}/stolen` });
      response.end();
    });
    try {
      const port = new URL(server.url).port;
      const refusedUrls = [server.url, `http://localhost:${port}/`, 'http://169.254.169.254/latest/meta-data', `http://[::1]:${port}/`, 'http://10.1.2.3/hook'];
      const world = await seedWorld(strict.api.runtime, (names) => ({
        outgoing_webhooks: refusedUrls.map((url, index) => outgoingHook(names, url, { display_name: `refused${index}` })),
      }));
      const post = (await strict.api.postJson('/api/v4/posts', { channel_id: world.channel('town-square').id, message: 'build' }, auth(world.user('creator').token))).json();
      const attempts = await eventually(async () => {
        const found = (await strict.runtime.deliveries.recent({ hours: 1, nowMs: Date.now(), limit: 500 })).filter((attempt) => attempt.post_id === post.id);
        return found.length >= refusedUrls.length ? found : undefined;
      });
      expect(attempts.map((attempt) => attempt.outcome)).toEqual(refusedUrls.map(() => 'refused'));
      expect(attempts[0]!.error).toMatch(/address forbidden/);
      expect(server.received).toHaveLength(0);

      // Allowed by CIDR (resolved address) or by exact host name; a redirect is a failure, not followed.
      const lenient = await startOutgoingStack({ ALLOWED_UNTRUSTED_INTERNAL_CONNECTIONS: '127.0.0.0/8' });
      try {
        const allowed = await seedWorld(lenient.api.runtime, (names) => ({
          outgoing_webhooks: [outgoingHook(names, `${server.url}/by-cidr`, { display_name: 'cidr' }), outgoingHook(names, `${redirecting.url}/redirect`, { display_name: 'redirect' })],
        }));
        await lenient.api.postJson('/api/v4/posts', { channel_id: allowed.channel('town-square').id, message: 'build' }, auth(allowed.user('creator').token));
        await server.waitFor(1);
        await redirecting.waitFor(2, 20_000);
        expect(target.received).toHaveLength(0);
      } finally {
        await lenient.close();
      }
      const byName = await startOutgoingStack({ ALLOWED_UNTRUSTED_INTERNAL_CONNECTIONS: 'localhost' });
      try {
        const named = await seedWorld(byName.api.runtime, (names) => ({
          outgoing_webhooks: [outgoingHook(names, `http://localhost:${port}/by-name`, { display_name: 'name' }), outgoingHook(names, `${server.url}/not-by-ip`, { display_name: 'ip' })],
        }));
        await byName.api.postJson('/api/v4/posts', { channel_id: named.channel('town-square').id, message: 'build' }, auth(named.user('creator').token));
        await eventually(async () => (server.received.some((request) => request.url === '/by-name') ? true : undefined));
        await settle(1_000);
        expect(server.received.some((request) => request.url === '/not-by-ip')).toBe(false);
      } finally {
        await byName.close();
      }
    } finally {
      await server.close();
      await target.close();
      await redirecting.close();
      await strict.close();
    }
  }, 60_000);
});
