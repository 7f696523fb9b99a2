import { Logger } from '@aws-lambda-powertools/logger';
import { describe, expect, it, vi } from 'vitest';
import { startApi, withApiAndWorlds, type Api, type World } from '../support/harness.js';
import { logHash } from '../../lib/ids.js';

/**
 * Every route answers bad input with a 4xx and Mattermost's error JSON, never a 500, and writes
 * nothing: malformed JSON, wrong content types, oversized bodies, invalid UTF-8, unknown ids,
 * wrong methods and unknown routes.
 */
let api: Api;
let world: World;

withApiAndWorlds(1, (started, [seeded]) => ([api, world] = [started, seeded!]), { MAXIMUM_PAYLOAD_SIZE_BYTES: '5000' });

const auth = () => ({ authorization: `Bearer ${world.user('creator').token}` });

function expectMattermostError(response: { status: number; json(): any; headers: Headers }, status: number) {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  const body = response.json();
  expect(Object.keys(body).sort()).toEqual(['detailed_error', 'id', 'message', 'request_id', 'status_code']);
  expect(body.status_code).toBe(status);
  expect(body.request_id).toBe(response.headers.get('x-request-id'));
  expect(body.id).not.toBe('');
}

async function postCount(channelName: string) {
  const list = await api.request('GET', `/api/v4/channels/${world.channel(channelName).id}/posts?per_page=200`, { headers: auth() });
  return list.json().order.length as number;
}

describe('bad input on POST /hooks/{hook_id}', () => {
  const cases: Array<[string, { body: string | Buffer; headers: Record<string, string> }, number]> = [
    ['malformed JSON', { body: '{"text": "x', headers: { 'content-type': 'application/json' } }, 400],
    ['JSON that is not an object', { body: '[1,2]', headers: { 'content-type': 'application/json' } }, 400],
    ['a wrong field type', { body: '{"text": 5}', headers: { 'content-type': 'application/json' } }, 400],
    ['a malformed content type', { body: '{"text":"x"}', headers: { 'content-type': 'application/json garbage' } }, 400],
    ['a form without payload', { body: 'text=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } }, 400],
    ['multipart without a boundary', { body: 'x', headers: { 'content-type': 'multipart/form-data' } }, 400],
    [
      'a multipart field in a charset the parser does not know',
      {
        body: '--xx\r\nContent-Disposition: form-data; name="text"\r\nContent-Type: text/plain; charset=x-unknown\r\n\r\nhi\r\n--xx--\r\n',
        headers: { 'content-type': 'multipart/form-data; boundary=xx' },
      },
      400,
    ],
    ['invalid UTF-8', { body: Buffer.from([0x7b, 0x22, 0x74, 0x65, 0x78, 0x74, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d]), headers: { 'content-type': 'application/json' } }, 400],
    ['a body over the size limit', { body: JSON.stringify({ text: 'a'.repeat(6000) }), headers: { 'content-type': 'application/json' } }, 413],
  ];
  it.each(cases)('answers %s with a 4xx and writes nothing', async (_name, request, status) => {
    const before = await postCount('town-square');
    const response = await api.request('POST', world.hook('main').url, request);
    expectMattermostError(response, status);
    expect(await postCount('town-square')).toBe(before);
  });

  it('answers an id with other characters as an unknown route', async () => {
    expectMattermostError(await api.postJson('/hooks/abc-def', { text: 'x' }), 404);
  });

  it('answers other methods with 405', async () => {
    for (const method of ['GET', 'PUT', 'DELETE']) expectMattermostError(await api.request(method, world.hook('main').url), 405);
  });
});

describe('bad input on the REST routes', () => {
  it('answers malformed bodies on POST /api/v4/posts with 400 and writes nothing', async () => {
    const before = await postCount('town-square');
    const channelId = world.channel('town-square').id;
    for (const body of ['{"channel_id":', 'not json', '[]', JSON.stringify({ channel_id: channelId, message: 5 }), `channel_id=${channelId}&message=x`]) {
      const response = await api.request('POST', '/api/v4/posts', { body, headers: { ...auth(), 'content-type': 'application/json' } });
      expectMattermostError(response, 400);
    }
    const invalidUtf8 = Buffer.concat([Buffer.from(`{"channel_id":"${channelId}","message":"`), Buffer.from([0xff]), Buffer.from('"}')]);
    expectMattermostError(await api.request('POST', '/api/v4/posts', { body: invalidUtf8, headers: auth() }), 400);
    const tooLarge = JSON.stringify({ channel_id: channelId, message: 'a'.repeat(6000) });
    expectMattermostError(await api.request('POST', '/api/v4/posts', { body: tooLarge, headers: auth() }), 413);
    expect(await postCount('town-square')).toBe(before);
  });

  it('answers unknown routes with 404 and wrong methods with 405', async () => {
    expectMattermostError(await api.request('GET', '/api/v4/nothing-here'), 404);
    // `/` is the web app's page (GET only).
    expectMattermostError(await api.request('GET', '/nothing-here'), 404);
    expectMattermostError(await api.request('POST', '/'), 405);
    expectMattermostError(await api.request('DELETE', '/api/v4/posts'), 405);
    expectMattermostError(await api.request('POST', '/api/v4/system/ping'), 405);
    expectMattermostError(await api.request('PUT', `/api/v4/channels/${world.channel('town-square').id}/posts`), 405);
  });

  it('answers unknown and malformed ids with 4xx', async () => {
    expectMattermostError(await api.request('GET', `/api/v4/posts/${'c'.repeat(26)}`, { headers: auth() }), 404);
    expectMattermostError(await api.request('GET', '/api/v4/posts/%00%01', { headers: auth() }), 400);
    expectMattermostError(await api.request('GET', `/api/v4/channels/${'c'.repeat(26)}/posts`, { headers: auth() }), 403);
    expectMattermostError(await api.request('GET', '/api/v4/channels/xyz/posts', { headers: auth() }), 400);
  });
});

describe('malformed escapes, oversized keys and paging bounds', () => {
  it('answers path segments that are not valid percent-encoding with a 4xx on every route', async () => {
    for (const segment of ['%zz', '%', '%E0%A4%A', '%ff']) {
      expectMattermostError(await api.request('GET', `/api/v4/posts/${segment}`, { headers: auth() }), 400);
      expectMattermostError(await api.request('GET', `/api/v4/channels/${segment}/posts`, { headers: auth() }), 400);
      expectMattermostError(await api.postJson(`/hooks/${segment}`, { text: 'x' }), 404);
      expectMattermostError(await api.postJson(`/hooks/commands/${segment}`, { text: 'x' }), 404);
      expectMattermostError(await api.request('GET', `/api/v4/nothing/${segment}`), 404);
      expectMattermostError(await api.request('PUT', `/api/v4/posts/${segment}`, { headers: auth(), body: '{}' }), 400);
      expectMattermostError(await api.request('PATCH', `/api/v4/posts/${segment}`), 405);
    }
  });

  it('answers ids and names past any key size with a 4xx, without a DynamoDB call', async () => {
    const long = 'a'.repeat(3_000);
    expectMattermostError(await api.postJson(`/hooks/${long}`, { text: 'x' }), 400);
    expectMattermostError(await api.postJson(`/hooks/commands/${long}`, { text: 'x' }), 404);
    expectMattermostError(await api.postJson(world.hook('main').url, { text: 'x', channel: long }), 404);
    expectMattermostError(await api.postJson(world.hook('main').url, { text: 'x', channel: `@${long}` }), 400);
    expectMattermostError(await api.postJson(world.hook('main').url, { text: 'x', root_id: long }), 400);
    expectMattermostError(await api.request('GET', `/api/v4/posts/${long}`, { headers: auth() }), 400);
    const command = await api.postJson('/api/v4/commands/execute', { command: `/${long}`, channel_id: world.channel('town-square').id }, auth());
    expectMattermostError(command, 404);
  });

  it('answers a page past 10 000 posts with 400 and reads per_page above 200 as 200', async () => {
    const channel = `/api/v4/channels/${world.channel('town-square').id}/posts`;
    expectMattermostError(await api.request('GET', `${channel}?page=51&per_page=200`, { headers: auth() }), 400);
    expectMattermostError(await api.request('GET', `${channel}?page=1e300`, { headers: auth() }), 400);
    expect((await api.request('GET', `${channel}?page=50&per_page=200`, { headers: auth() })).status).toBe(200);
    expect((await api.request('GET', `${channel}?page=40&per_page=100000`, { headers: auth() })).status).toBe(200);
  });

  it('answers lists past their caps with 400 before any work', async () => {
    const attachments = new Array(101).fill({ text: 'a' });
    expectMattermostError(await api.postJson(world.hook('main').url, { attachments }), 400);
    expectMattermostError(await api.postJson(world.hook('main').url, { text: 'x', attachments: [{ actions: new Array(26).fill({ name: 'b' }) }] }), 400);
    const mentions = Array.from({ length: 101 }, (_, index) => `@user${index}`).join(' ');
    const command = await api.postJson('/api/v4/commands/execute', { command: `/anything ${mentions}`, channel_id: world.channel('town-square').id }, auth());
    expectMattermostError(command, 400);
    expect(command.json().id).toBe('api.command.execute_command.too_many_mentions.app_error');
    const ids = Array.from({ length: 101 }, (_, index) => `<@${String(index).padStart(26, 'u')}>`).join(' ');
    expectMattermostError(await api.postJson(world.hook('main').url, { text: ids }), 400);
  });
});

describe('logging', () => {
  it('logs structured JSON with the request id and a short hash of the hook id, never the id or the body', async () => {
    const lines: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    const logged = await startApi({}, new Logger({ serviceName: 'hookline-test', logLevel: 'DEBUG' }));
    try {
      const secret = 'very-secret-value-in-the-body';
      const response = await logged.request('POST', world.hook('main').url, {
        body: JSON.stringify({ text: secret }),
        headers: { 'content-type': 'application/json' },
      });
      expect(response.status).toBe(200);
      const refused = await logged.request('POST', world.hook('main').url, { body: `{"text":"${secret}`, headers: {} });
      expect(refused.status).toBe(400);
    } finally {
      spy.mockRestore();
      await logged.close();
    }
    const entries = lines.join('').split('\n').filter(Boolean).map((line) => JSON.parse(line));
    const posted = entries.find((entry) => entry.message === 'incoming webhook posted');
    const hookIdHash = logHash(world.hook('main').id);
    expect(hookIdHash).toMatch(/^[0-9a-f]{12}$/);
    expect(posted).toMatchObject({ hook_id_hash: hookIdHash, route: 'incoming-webhook' });
    expect(posted).not.toHaveProperty('hook_id');
    expect(posted.request_id).toMatch(/^[a-z0-9]{26}$/);
    expect(entries.find((entry) => entry.message === 'request refused')).toMatchObject({ status: 400, hook_id_hash: hookIdHash });
    // The hook id is the posting credential: no line may carry it.
    expect(lines.join('')).not.toContain(world.hook('main').id);
    expect(lines.join('')).not.toContain('very-secret-value-in-the-body');
  });
});
