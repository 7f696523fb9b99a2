import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OutgoingWebhook } from '@mattermost/types/integrations';
import { listAuditRecords } from '../../lib/audit.js';
import { replyJson, startCallbackServer, type CallbackServer } from '../support/callback-server.js';
import { client4 } from '../support/client4.js';
import { startOutgoingStack, type OutgoingStack } from '../support/harness.js';
import { seedHookWorld, type HookWorld } from '../support/hook-world.js';

/**
 * An outgoing hook's delivery log and redelivery (Hookline's extension), through the whole
 * pipeline: a post triggers a delivery to a real loopback callback, the log lists its attempt, a
 * redelivery sends the post again, and only those who may manage the hook may do either.
 */
let stack: OutgoingStack;
let server: CallbackServer;
let world: HookWorld;
/** The callback fails while this is set, so a delivery is retried and logged as such. */
let failing = false;

beforeAll(async () => {
  stack = await startOutgoingStack();
  server = await startCallbackServer((_request, _index, response) => (failing ? replyJson(response, { error: 'down' }, 503) : replyJson(response, {})));
  world = await seedHookWorld(stack.api.runtime);
});
afterAll(async () => {
  await stack?.close();
  await server?.close();
});

const bearer = (username: string) => ({ authorization: `Bearer ${world.user(username).token}` });
const post = (message: string) => stack.api.postJson('/api/v4/posts', { channel_id: world.channel('town-square').id, message }, bearer('creator'));
const log = (hookId: string, username: string, query = '') => stack.api.request('GET', `/api/v4/hooks/outgoing/${hookId}/deliveries${query}`, { headers: bearer(username) });
const redeliver = (hookId: string, deliveryId: string, username: string) =>
  stack.api.request('POST', `/api/v4/hooks/outgoing/${hookId}/deliveries/${deliveryId}/redeliver`, { headers: bearer(username) });

/** The hook's log once it holds `count` attempts (the per-hook index is read a moment after the write). */
async function attemptsOnceThere(hookId: string, count: number, username: string) {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const response = await log(hookId, username);
    expect(response.status).toBe(200);
    const attempts = response.json() as Array<Record<string, unknown>>;
    if (attempts.length >= count || Date.now() > deadline) return attempts;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('delivery log', () => {
  let hook: OutgoingWebhook;

  beforeAll(async () => {
    const manager = client4(stack.api.url, world.user(world.names.own).token);
    hook = await manager.createOutgoingWebhook({
      team_id: world.team.id,
      channel_id: world.channel('town-square').id,
      trigger_words: ['logme'],
      callback_urls: [`${server.url}/log`],
    } as OutgoingWebhook);
  });

  it('lists a hook\'s attempts, newest first, with status, latency and outcome', async () => {
    expect((await post('logme first')).status).toBe(201);
    await server.waitFor(1);
    expect((await post('logme second')).status).toBe(201);
    await server.waitFor(2);
    const attempts = await attemptsOnceThere(hook.id, 2, world.names.own);
    expect(attempts).toHaveLength(2);
    for (const attempt of attempts) {
      expect(attempt).toMatchObject({ hook_id: hook.id, url: `${server.url}/log`, outcome: 'delivered', status: 200, attempt: 1, error: '' });
      expect(attempt.latency_ms).toBeGreaterThanOrEqual(0);
    }
    expect(Number(attempts[0]!.attempted_at)).toBeGreaterThanOrEqual(Number(attempts[1]!.attempted_at));
    // Paging: one per page, the newest first.
    const first = (await log(hook.id, world.names.own, '?per_page=1')).json();
    const second = (await log(hook.id, world.names.own, '?per_page=1&page=1')).json();
    expect([first[0].delivery_id, second[0].delivery_id]).toEqual([attempts[0]!.delivery_id, attempts[1]!.delivery_id]);
    expect((await log(hook.id, world.names.own, '?page=100000')).json()).toEqual([]);
  });

  it('logs a failed attempt with its status and error', async () => {
    failing = true;
    try {
      expect((await post('logme failing')).status).toBe(201);
      const attempts = await attemptsOnceThere(hook.id, 3, world.names.own);
      expect(attempts[0]).toMatchObject({ outcome: 'retrying', status: 503 });
    } finally {
      failing = false;
    }
  });

  it('redelivers a delivery as a new one to the same URL, and logs it', async () => {
    const [latest] = await attemptsOnceThere(hook.id, 1, world.names.own);
    const before = server.received.length;
    const response = await redeliver(hook.id, String(latest!.delivery_id), world.names.own);
    expect(response.status).toBe(201);
    const newId = response.json().delivery_id as string;
    expect(newId).toMatch(/^[a-z0-9]{26}$/);
    expect(newId).not.toBe(latest!.delivery_id);
    const received = await server.waitFor(before + 1);
    expect(received[before]!.url).toBe('/log');
    // The hook's default content type: a form.
    expect(Object.fromEntries(new URLSearchParams(received[before]!.body))).toMatchObject({ text: 'logme failing', trigger_word: 'logme' });
    const attempts = await attemptsOnceThere(hook.id, 4, world.names.own);
    expect(attempts.some((attempt) => attempt.delivery_id === newId && attempt.outcome === 'delivered')).toBe(true);
    const audit = (await listAuditRecords(stack.api.runtime, { sinceMs: Date.now() - 60_000, limit: 100_000 })).filter((record) => record.event === 'redeliverOutgoingHook');
    expect(audit.some((record) => record.objectId === hook.id && record.status === 'success' && record.detail?.delivery_id === newId)).toBe(true);
  });

  it('answers only those who may manage the hook, and 404 for a delivery of another hook', async () => {
    const [latest] = await attemptsOnceThere(hook.id, 1, world.names.own);
    // A member without the permission, a non-member, and Own on another's hook: 403.
    expect((await log(hook.id, 'creator')).status).toBe(403);
    const nonMember = { authorization: `Bearer ${world.elsewhere.user('creator').token}` };
    expect((await stack.api.request('GET', `/api/v4/hooks/outgoing/${hook.id}/deliveries`, { headers: nonMember })).status).toBe(403);
    expect((await log(hook.id, world.names.ownBypass)).status).toBe(403);
    expect((await redeliver(hook.id, String(latest!.delivery_id), 'creator')).status).toBe(403);
    // Others and team admins may.
    expect((await log(hook.id, world.names.others)).status).toBe(200);
    expect((await log(hook.id, world.names.teamAdmin)).status).toBe(200);
    // Unknown or malformed ids.
    expect((await log('aaaaaaaaaaaaaaaaaaaaaaaaaa', world.names.admin)).status).toBe(404);
    expect((await log('junk', world.names.admin)).status).toBe(400);
    expect((await redeliver(hook.id, 'aaaaaaaaaaaaaaaaaaaaaaaaaa', world.names.own)).status).toBe(404);
    expect((await redeliver(hook.id, 'junk', world.names.own)).status).toBe(400);
    // A delivery of another hook is not this hook's.
    const manager = client4(stack.api.url, world.user(world.names.own).token);
    const other = await manager.createOutgoingWebhook({ team_id: world.team.id, channel_id: world.channel('town-square').id, trigger_words: ['elsewhere'], callback_urls: [`${server.url}/other`] } as OutgoingWebhook);
    expect((await redeliver(other.id, String(latest!.delivery_id), world.names.own)).status).toBe(404);
    // Without a session: 401.
    expect((await stack.api.request('GET', `/api/v4/hooks/outgoing/${hook.id}/deliveries`)).status).toBe(401);
  });

  it('refuses to redeliver to a URL the hook no longer has', async () => {
    const [latest] = await attemptsOnceThere(hook.id, 1, world.names.own);
    const manager = client4(stack.api.url, world.user(world.names.own).token);
    await manager.updateOutgoingWebhook({ ...hook, token: undefined, callback_urls: [`${server.url}/moved`] } as unknown as OutgoingWebhook);
    const response = await redeliver(hook.id, String(latest!.delivery_id), world.names.own);
    expect(response.status).toBe(400);
    expect(response.json().id).toBe('api.outgoing_webhook.redeliver.url_gone.app_error');
  });
});
