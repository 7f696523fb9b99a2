import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handleCommandWebhook } from '../../lib/commands/webhook.js';
import { replyJson, startCallbackServer, type CallbackServer } from '../support/callback-server.js';
import { seedWorld, startApi, startOutgoingStack, type Api, type World } from '../support/harness.js';

/** Custom slash commands over HTTP with real command servers on loopback. */
let api: Api;
let server: CallbackServer;
let world: World;
let answer: (request: { url: string; body: string; method: string }) => { status?: number; contentType?: string; body: string } = () => ({ body: '' });

beforeAll(async () => {
  api = await startApi({ ALLOWED_UNTRUSTED_INTERNAL_CONNECTIONS: '127.0.0.0/8', OUTGOING_INTEGRATION_REQUESTS_TIMEOUT: '2' });
  server = await startCallbackServer((request, _index, response) => {
    const reply = answer(request);
    response.writeHead(reply.status ?? 200, reply.contentType ? { 'content-type': reply.contentType } : {});
    response.end(reply.body);
  });
  world = await seedWorld(api.runtime, (names) => ({
    commands: [
      { team: names.team, trigger: 'getcmd', url: `${server.url}/get?cmd=ourCommand`, method: 'G', creator: names.creator, token: 'g'.repeat(26), auto_complete: true, auto_complete_desc: 'Get it' },
      { team: names.team, trigger: 'postcmd', url: `${server.url}/post`, method: 'P', creator: names.creator, token: 'p'.repeat(26), username: 'cmd-user' },
    ],
  }));
});
afterAll(async () => {
  await server.close();
  await api.close();
});

const auth = (token = world.user('creator').token) => ({ authorization: `Bearer ${token}` });
const execute = (command: string, options: { channel?: string; token?: string; extra?: Record<string, unknown> } = {}) =>
  api.postJson('/api/v4/commands/execute', { command, channel_id: world.channel(options.channel ?? 'town-square').id, ...options.extra }, auth(options.token));
const json = (body: unknown) => ({ contentType: 'application/json', body: JSON.stringify(body) });

async function posts(channel = 'town-square', token?: string) {
  const response = await api.request('GET', `/api/v4/channels/${world.channel(channel).id}/posts`, { headers: auth(token) });
  return response.json().order.map((id: string) => response.json().posts[id]);
}

describe('pre-checks', () => {
  it('SC-05 refuses missing triggers with 400, unknown ones with 404, non-members with 403, anonymous callers with 401', async () => {
    for (const command of ['', '/', 'getcommand']) {
      const response = await execute(command);
      expect(response.status, command).toBe(400);
      expect(response.json().id).toBe('api.command.execute_command.start.app_error');
    }
    const unknown = await execute('/junk now');
    expect(unknown.status).toBe(404);
    expect(unknown.json().message).toBe(`Command with a trigger of '/junk' not found. To send a message beginning with "/", try adding an empty space at the beginning of the message.`);
    expect((await execute('/getcmd', { channel: 'private', token: world.user('other').token })).status).toBe(403);
    expect((await api.postJson('/api/v4/commands/execute', { command: '/getcmd', channel_id: world.channel('town-square').id })).status).toBe(401);
  });

  it('SC-08 finds commands only in the channels team', async () => {
    const otherTeam = await seedWorld(api.runtime, (names) => ({
      commands: [{ team: names.team, trigger: 'elsewhere', url: `${server.url}/post`, creator: names.creator }],
    }));
    expect((await execute('/elsewhere')).status).toBe(404);
    expect(otherTeam.team.id).not.toBe(world.team.id);
  });

  it('SC-08 runs in a direct channel with the team_id of a team the user belongs to', async () => {
    answer = () => json({ text: 'in dm' });
    const dm = (await api.runtime.entities.openDirectChannel(world.user('creator').id, world.user('other').id, Date.now())).channel;
    const run = (teamId?: string) =>
      api.postJson('/api/v4/commands/execute', { command: '/postcmd', channel_id: dm.id, ...(teamId ? { team_id: teamId } : {}) }, auth());
    expect((await run(world.team.id)).status).toBe(200);
    expect((await run()).status).toBe(403);
    const stranger = await seedWorld(api.runtime);
    expect((await run(stranger.team.id)).status).toBe(403);
  });

  it('SC-19 lists only mentioned users who belong to the team', async () => {
    answer = () => json({ text: 'ok' });
    const stranger = await seedWorld(api.runtime);
    const before = server.received.length;
    await execute(`/postcmd @${world.user('other').username} @${stranger.user('creator').username} @${world.user('other').username}.`);
    const form = new URLSearchParams(server.received[before]!.body);
    expect(form.getAll('user_mentions')).toEqual([world.user('other').username]);
    expect(form.getAll('user_mentions_ids')).toEqual([world.user('other').id]);
  });

  it('trims at most three trailing punctuation characters to find a mentioned user', async () => {
    answer = () => json({ text: 'ok' });
    const before = server.received.length;
    await execute(`/postcmd @${world.user('other').username}...`);
    expect(new URLSearchParams(server.received[before]!.body).getAll('user_mentions_ids')).toEqual([world.user('other').id]);
    // Four would take a fourth round of lookups: the name stays unresolved.
    await execute(`/postcmd @${world.user('other').username}....`);
    expect(new URLSearchParams(server.received[before + 1]!.body).getAll('user_mentions_ids')).toEqual([]);
  });

  it('answers 501 for every command when commands are disabled', async () => {
    const disabled = await startApi({ ENABLE_COMMANDS: 'false' });
    try {
      const response = await disabled.postJson('/api/v4/commands/execute', { command: '/getcmd', channel_id: world.channel('town-square').id }, auth());
      expect(response.status).toBe(501);
    } finally {
      await disabled.close();
    }
  });
});

describe('the request to the command', () => {
  it('SC-06 sends GET with the parameters in the query, keeping the URLs own, and posts an in_channel answer', async () => {
    answer = () => json({ text: 'test get command response', response_type: 'in_channel', type: 'custom_test', props: { someprop: 'somevalue' } });
    const before = server.received.length;
    const response = await execute('/GetCmd  with  spaces @' + world.user('other').username);
    expect(response.status, response.text).toBe(200);
    const body = response.json();
    expect(body).toMatchObject({ text: 'test get command response', response_type: 'in_channel', type: 'custom_test', props: { someprop: 'somevalue' } });
    expect(body.trigger_id).toMatch(/^[a-z0-9]{26}$/);
    const request = server.received[before]!;
    expect(request.method).toBe('GET');
    const query = new URL(request.url, 'http://x').searchParams;
    expect(query.get('cmd')).toBe('ourCommand');
    expect(query.get('token')).toBe('g'.repeat(26));
    expect(query.get('team_domain')).toBe(world.team.name);
    expect(query.get('command')).toBe('/getcmd');
    expect(query.get('text')).toBe(` with  spaces @${world.user('other').username}`);
    expect(query.get('user_name')).toBe(world.user('creator').username);
    expect(query.get('channel_name')).toBe('town-square');
    expect(query.get('response_url')).toMatch(/\/hooks\/commands\/[a-z0-9]{26}$/);
    expect(query.getAll('user_mentions')).toEqual([world.user('other').username]);
    expect(query.getAll('user_mentions_ids')).toEqual([world.user('other').id]);
    expect(request.headers.authorization).toBe(`Token ${'g'.repeat(26)}`);
    const [posted] = await posts();
    expect(posted).toMatchObject({ message: 'test get command response', type: 'custom_test', user_id: world.user('creator').id });
    expect(posted.props).toMatchObject({ someprop: 'somevalue', from_webhook: 'true' });
  });

  it('SC-07 sends POST form fields with a Standard Webhooks signature', async () => {
    answer = () => json({ text: 'posted', response_type: 'in_channel' });
    const before = server.received.length;
    expect((await execute('/postcmd hello')).status).toBe(200);
    const request = server.received[before]!;
    expect(request.method).toBe('POST');
    expect(request.headers['content-type']).toBe('application/x-www-form-urlencoded');
    const form = new URLSearchParams(request.body);
    expect(form.get('token')).toBe('p'.repeat(26));
    expect(form.get('team_domain')).toBe(world.team.name);
    expect(form.get('text')).toBe('hello');
    const secret = world.summary.commands.find((command) => command.trigger === 'postcmd')!.signing_secret;
    // The library's verify() also parses the body as JSON; this body is a form, so compare the signature itself.
    const timestamp = new Date(Number(request.headers['webhook-timestamp']) * 1000);
    expect(request.headers['webhook-signature']).toBe(new Webhook(secret).sign(String(request.headers['webhook-id']), timestamp, request.body));
  });

  it('SC-13 and SC-14 turn failures into Mattermosts errors and write nothing', async () => {
    const before = (await posts()).length;
    const cases: Array<[() => ReturnType<typeof answer>, number, RegExp]> = [
      [() => ({ status: 404, body: 'nope' }), 500, /returned response 404 Not Found/],
      [() => ({ status: 201, body: '{}' }), 500, /returned response 201 Created/],
      [() => ({ ...json({}), body: '{"text": ' }), 500, /failed/],
      // An empty body that claims to be JSON does not parse, as in Mattermost.
      [() => ({ ...json({}), body: '' }), 500, /failed/],
      [() => ({ ...json({}), body: `{"text":"${'x'.repeat(1024 * 1024 + 5)}"}` }), 500, /failed/],
    ];
    for (const [reply, status, message] of cases) {
      answer = reply;
      const response = await execute('/postcmd x');
      expect(response.status).toBe(status);
      expect(response.json().message).toMatch(message);
    }
    expect((await posts()).length).toBe(before);
    answer = () => ({ body: 'Hello, World!' });
    const plain = await execute('/postcmd x');
    expect(plain.json().text).toBe('Hello, World!');
  });

  it('takes an empty 200 without a content type as an acknowledgement: success, nothing posted, the answer may come through response_url', async () => {
    const before = await posts('town-square');
    answer = () => ({ body: '' });
    const response = await execute('/postcmd later');
    expect(response.status, response.text).toBe(200);
    expect(response.json()).toMatchObject({ text: '' });
    expect((await posts('town-square')).length).toBe(before.length);
    // The delayed answer, as such integrations send it.
    const request = server.received[server.received.length - 1]!;
    const responseUrl = new URLSearchParams(request.body).get('response_url')!;
    expect((await api.postJson(new URL(responseUrl).pathname, { response_type: 'in_channel', text: 'done later' })).status).toBe(200);
    expect((await posts('town-square')).some((post: { message: string }) => post.message === 'done later')).toBe(true);
  });

  it('SC-13 times out a command that hangs, and refuses redirects and private addresses', async () => {
    const hanging = await startCallbackServer(() => undefined);
    const redirecting = await startCallbackServer((_request, _index, response) => {
      response.writeHead(302, { location: `${server.url}/post` });
      response.end();
    });
    try {
      const extra = await seedWorld(api.runtime, (names) => ({
        commands: [
          { team: names.team, trigger: 'hang', url: `${hanging.url}/`, creator: names.creator },
          { team: names.team, trigger: 'redirect', url: `${redirecting.url}/`, creator: names.creator },
          { team: names.team, trigger: 'metadata', url: 'http://169.254.169.254/latest', creator: names.creator },
        ],
      }));
      const run = (command: string) =>
        api.postJson('/api/v4/commands/execute', { command, channel_id: extra.channel('town-square').id }, auth(extra.user('creator').token));
      const hung = await run('/hang');
      expect(hung.status).toBe(500);
      expect(hung.json().id).toBe('api.command.execute_command.failed.app_error');
      const redirected = await run('/redirect');
      expect(redirected.json().message).toMatch(/returned response 302/);
      const forbidden = await run('/metadata');
      expect(forbidden.status).toBe(500);
      expect(forbidden.json().id).toBe('api.command.execute_command.failed.app_error');
    } finally {
      await hanging.close();
      await redirecting.close();
    }
  });
});

describe('answers', () => {
  it('stores the default ephemeral answer for the invoking user alone', async () => {
    answer = () => json({ text: 'only for you' });
    expect((await execute('/postcmd secret')).status).toBe(200);
    const mine = (await posts()).find((post: any) => post.message === 'only for you');
    expect(mine).toMatchObject({ type: 'system_ephemeral', user_id: world.user('creator').id });
    expect(mine.ephemeral_for).toBeUndefined();
    expect((await posts('town-square', world.user('other').token)).some((post: any) => post.message === 'only for you')).toBe(false);
    const direct = await api.request('GET', `/api/v4/posts/${mine.id}`, { headers: auth(world.user('other').token) });
    expect(direct.status).toBe(404);
    expect((await api.request('GET', `/api/v4/posts/${mine.id}`, { headers: auth() })).status).toBe(200);
  });

  it('SC-11 lets the commands username win, converts Slack markup unless told not to, and refuses foreign channels', async () => {
    const overriding = await startApi({ ALLOWED_UNTRUSTED_INTERNAL_CONNECTIONS: '127.0.0.0/8', ENABLE_POST_USERNAME_OVERRIDE: 'true', ENABLE_POST_ICON_OVERRIDE: 'true' });
    try {
      answer = () => json({ text: '<!channel> see <https://x.io|x>', response_type: 'in_channel', username: 'from-response' });
      await overriding.postJson('/api/v4/commands/execute', { command: '/postcmd', channel_id: world.channel('town-square').id }, auth());
      answer = () => json({ text: '<test.com|test website>', response_type: 'in_channel', skip_slack_parsing: true, attachments: [{ text: '<!here>' }] });
      await overriding.postJson('/api/v4/commands/execute', { command: '/postcmd', channel_id: world.channel('town-square').id }, auth());
      const [skipped, parsed] = await posts();
      expect(parsed.message).toBe('@channel see [x](https://x.io)');
      expect(parsed.props.override_username).toBe('cmd-user');
      expect(parsed.props.override_icon_url).toBe('');
      expect(skipped.message).toBe('<test.com|test website>');
      expect(skipped.props.attachments[0].text).toBe('<!here>');
    } finally {
      await overriding.close();
    }
    answer = () => json({ text: 'x', response_type: 'in_channel', channel_id: world.channel('private').id });
    const foreign = await execute('/postcmd', { token: world.user('other').token });
    expect(foreign.status).toBe(403);
    expect(foreign.json().id).toBe('api.command.command_post.forbidden.app_error');
    answer = () => json({ text: 'moved', response_type: 'in_channel', channel_id: world.channel('off-topic').id, goto_location: 'https://example.com' });
    const moved = await execute('/postcmd');
    expect(moved.json().goto_location).toBe('https://example.com');
    expect((await posts('off-topic'))[0].message).toBe('moved');
  });

  it('SC-12 posts the other answers when one fails, and nothing for empty extra responses', async () => {
    answer = () => json({ text: 'main', response_type: 'in_channel', extra_responses: [{ text: 'bad', type: 'system_generic', response_type: 'in_channel' }, { text: 'extra ok', response_type: 'in_channel' }] });
    const failed = await execute('/postcmd');
    expect(failed.status).toBe(500);
    expect(failed.json().id).toBe('api.command.execute_command.create_post_failed.app_error');
    const recent = (await posts()).slice(0, 2).map((post: any) => post.message);
    expect(recent).toEqual(['extra ok', 'main']);
    answer = () => json({ text: '', extra_responses: [{}, {}] });
    const before = (await posts()).length;
    expect((await execute('/postcmd')).status).toBe(200);
    expect((await posts()).length).toBe(before);
  });
});

describe('response_url', () => {
  it('SC-15 takes exactly five answers even when they race, and a bad body costs no use', async () => {
    answer = () => json({ text: 'first' });
    const before = server.received.length;
    await execute('/postcmd later');
    const responseUrl = new URLSearchParams(server.received[before]!.body).get('response_url')!;
    const path = new URL(responseUrl).pathname;
    const bad = await api.request('POST', path, { body: '{"text":"invalid', headers: { 'content-type': 'application/json' } });
    expect(bad.status).toBe(400);
    expect(bad.json().id).toBe('web.command_webhook.parse.app_error');
    const attempts = await Promise.all(
      Array.from({ length: 6 }, (_unused, index) =>
        api.request('POST', path, { body: JSON.stringify({ text: `delayed ${index}`, response_type: 'in_channel' }), headers: { 'content-type': 'application/json' } }),
      ),
    );
    expect(attempts.map((response) => response.status).sort()).toEqual([200, 200, 200, 200, 200, 400]);
    expect(attempts.find((response) => response.status === 400)!.json().id).toBe('app.command_webhook.try_use.invalid');
    expect(attempts.find((response) => response.status === 200)!.text).toBe('ok');
    expect((await posts()).filter((post: any) => post.message.startsWith('delayed ')).length).toBe(5);
    expect((await api.request('POST', '/hooks/commands/123123123123', { body: '{"text":"x"}', headers: { 'content-type': 'application/json' } })).status).toBe(404);
  });

  it('SC-16 is gone after 30 minutes', async () => {
    answer = () => json({ text: 'first' });
    const before = server.received.length;
    await execute('/postcmd later');
    const id = new URLSearchParams(server.received[before]!.body).get('response_url')!.split('/').pop()!;
    const later = { ...api.runtime, nowMs: () => Date.now() + 31 * 60 * 1000 };
    await expect(handleCommandWebhook(later, id, 'application/json', Buffer.from('{"text":"late"}'))).rejects.toMatchObject({ statusCode: 404 });
  });
});

describe('autocomplete', () => {
  it('lists the teams autocomplete commands without secrets', async () => {
    const response = await api.request('GET', `/api/v4/teams/${world.team.id}/commands/autocomplete`, { headers: auth() });
    expect(response.status).toBe(200);
    const commands = response.json();
    // Mattermost's built-ins, then the team's custom commands with auto_complete (postcmd has none).
    const custom = commands.filter((command: any) => command.id !== '');
    expect(custom.map((command: any) => command.trigger)).toEqual(['getcmd']);
    expect(custom[0]).toMatchObject({ token: '', url: '', method: '', creator_id: '', auto_complete_desc: 'Get it' });
    expect(commands.find((command: any) => command.trigger === 'echo')).toMatchObject({ id: '', auto_complete_hint: "'message' [delay in seconds]" });
    expect(JSON.stringify(commands)).not.toContain('whsec_');
  });
});

describe('in_channel answers trigger outgoing webhooks', () => {
  it('delivers an in_channel answer to a matching outgoing webhook', async () => {
    const stack = await startOutgoingStack();
    const hookServer = await startCallbackServer();
    const commandServer = await startCallbackServer((_request, _index, response) => replyJson(response, { text: 'build from command', response_type: 'in_channel' }));
    try {
      const local = await seedWorld(stack.api.runtime, (names) => ({
        commands: [{ team: names.team, trigger: 'ship', url: commandServer.url, creator: names.creator }],
        outgoing_webhooks: [{ team: names.team, channel: 'town-square', creator: names.creator, trigger_words: ['build'], callback_urls: [hookServer.url] }],
      }));
      const response = await stack.api.postJson('/api/v4/commands/execute', { command: '/ship', channel_id: local.channel('town-square').id }, auth(local.user('creator').token));
      expect(response.status).toBe(200);
      const [delivered] = await hookServer.waitFor(1);
      expect(new URLSearchParams(delivered!.body).get('text')).toBe('build from command');
    } finally {
      await hookServer.close();
      await commandServer.close();
      await stack.close();
    }
  });
});
