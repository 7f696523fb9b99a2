import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCallbackServer, type CallbackServer } from '../support/callback-server.js';
import { seedWorld, startApi, type Api, type World } from '../support/harness.js';

/** A command's response_url is built from SITE_URL only, never from what the caller sends. */
let api: Api;
let server: CallbackServer;
let world: World;

beforeAll(async () => {
  api = await startApi({ ALLOWED_UNTRUSTED_INTERNAL_CONNECTIONS: '127.0.0.0/8', SITE_URL: 'https://chat.example.test/' });
  server = await startCallbackServer((_request, _index, response) => {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end('{}');
  });
  world = await seedWorld(api.runtime, (names) => ({
    commands: [{ team: names.team, trigger: 'where', url: `${server.url}/where`, creator: names.creator }],
  }));
});
afterAll(async () => {
  await server.close();
  await api.close();
});

describe('response_url', () => {
  it('comes from SITE_URL whatever Host and X-Forwarded-Proto the request carries', async () => {
    const response = await api.postJson(
      '/api/v4/commands/execute',
      { command: '/where', channel_id: world.channel('town-square').id },
      { authorization: `Bearer ${world.user('creator').token}`, host: 'attacker.example.test', 'x-forwarded-proto': 'gopher' },
    );
    expect(response.status).toBe(200);
    const [request] = await server.waitFor(1);
    expect(new URLSearchParams(request!.body).get('response_url')).toMatch(/^https:\/\/chat\.example\.test\/hooks\/commands\/[a-z0-9]{26}$/);
  });

  it('refuses to run commands when SITE_URL is not configured, instead of trusting Host', async () => {
    const unconfigured = await startApi({ SITE_URL: '' });
    try {
      const response = await unconfigured.postJson(
        '/api/v4/commands/execute',
        { command: '/where', channel_id: world.channel('town-square').id },
        { authorization: `Bearer ${world.user('creator').token}` },
      );
      expect(response.status).toBe(500);
      expect(response.json().id).toBe('api.command.execute_command.site_url.app_error');
      expect(server.received).toHaveLength(1);
    } finally {
      await unconfigured.close();
    }
  });
});
