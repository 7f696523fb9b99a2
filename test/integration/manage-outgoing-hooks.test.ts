import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OutgoingWebhook } from '@mattermost/types/integrations';
import { listAuditRecords } from '../../lib/audit.js';
import { newId } from '../../lib/ids.js';
import { replyJson, startCallbackServer, type CallbackServer } from '../support/callback-server.js';
import { client4, failure } from '../support/client4.js';
import { startApi, startOutgoingStack, type Api, type OutgoingStack } from '../support/harness.js';
import { hookClients, seedHookWorld, type HookWorld } from '../support/hook-world.js';

/**
 * Outgoing webhook management (`/api/v4/hooks/outgoing`), Mattermost's api4 webhook tests (MG-31 to
 * MG-44), the permission matrix, and Hookline's signing-secret rotation checked by a real callback
 * server verifying both signatures with the `standardwebhooks` package.
 */
let api: Api;
let disabled: Api;
let world: HookWorld;

beforeAll(async () => {
  api = await startApi();
  disabled = await startApi({ ENABLE_OUTGOING_WEBHOOKS: 'false' });
  world = await seedHookWorld(api.runtime);
});
afterAll(async () => {
  await api?.close();
  await disabled?.close();
});

const { as, raw, channel, admin } = hookClients(() => api, () => world);
let urlCounter = 0;
/** A hook body on town-square with a callback URL no other test uses, so the intersect rule never bites by accident. */
const hookBody = (extra: Partial<OutgoingWebhook> = {}) =>
  ({ team_id: world.team.id, channel_id: channel('town-square'), callback_urls: [`http://nowhere.com/${++urlCounter}`], trigger_words: [`w${urlCounter}`], ...extra }) as OutgoingWebhook;

describe('POST /api/v4/hooks/outgoing', () => {
  it('MG-31 creates a hook: 201, creator the caller, a 26-character token, the signing secret shown once', async () => {
    const response = await raw(admin(), 'POST', '/api/v4/hooks/outgoing', {
      channel_id: channel('town-square'),
      team_id: world.team.id,
      callback_urls: ['http://nowhere.com'],
      username: 'some-user-name',
      icon_url: 'http://some-icon-url/',
    });
    expect(response.status).toBe(201);
    const hook = response.json();
    expect(hook).toMatchObject({ creator_id: world.user(admin()).id, team_id: world.team.id, channel_id: channel('town-square'), trigger_words: [], trigger_when: 0, username: 'some-user-name' });
    expect(hook.token).toMatch(/^[a-z0-9]{26}$/);
    expect(hook.signing_secret).toMatch(/^whsec_/);
    expect((await as(admin()).getOutgoingWebhook(hook.id)) as unknown).not.toHaveProperty('signing_secret');
    expect((await as(admin()).getOutgoingWebhook(hook.id)).token).toBe(hook.token);
  });

  it('MG-32 404 for an unknown channel; team admin and Own create; no permission or no team is 403', async () => {
    expect(await failure(as(admin()).createOutgoingWebhook(hookBody({ channel_id: 'junk' })))).toEqual({ status: 404, id: 'app.channel.get.existing.app_error' });
    expect((await as(world.names.teamAdmin).createOutgoingWebhook(hookBody())).creator_id).toBe(world.user(world.names.teamAdmin).id);
    expect((await as(world.names.own).createOutgoingWebhook(hookBody())).creator_id).toBe(world.user(world.names.own).id);
    expect(await failure(as('creator').createOutgoingWebhook(hookBody()))).toMatchObject({ status: 403 });
    expect(await failure(as(admin()).createOutgoingWebhook(hookBody({ team_id: '' })))).toMatchObject({ status: 403 });
  });

  it('MG-33 any creator_id needs Others, even the caller\'s own; unknown creators are 404', async () => {
    const other = world.user('other').id;
    expect((await as(admin()).createOutgoingWebhook(hookBody({ creator_id: other }))).creator_id).toBe(other);
    expect(await failure(as(admin()).createOutgoingWebhook(hookBody({ creator_id: 'invalid-user' })))).toMatchObject({ status: 404 });
    expect(await failure(as(world.names.own).createOutgoingWebhook(hookBody({ creator_id: other })))).toMatchObject({ status: 403 });
    expect(await failure(as(world.names.own).createOutgoingWebhook(hookBody({ creator_id: world.user(world.names.own).id })))).toMatchObject({ status: 403 });
    expect((await as(world.names.others).createOutgoingWebhook(hookBody({ creator_id: other }))).creator_id).toBe(other);
  });

  it('MG-34 501 when off; private channel 403; another team\'s channel 403; neither channel nor triggers 400', async () => {
    expect(await failure(as(admin(), disabled).createOutgoingWebhook(hookBody()))).toEqual({ status: 501, id: 'api.outgoing_webhook.disabled.app_error' });
    // Mattermost's create reuses the "disabled" id for this 403.
    expect(await failure(as(admin()).createOutgoingWebhook(hookBody({ channel_id: channel('private') })))).toEqual({ status: 403, id: 'api.outgoing_webhook.disabled.app_error' });
    expect(await failure(as(admin()).createOutgoingWebhook(hookBody({ channel_id: world.elsewhere.channel('town-square').id })))).toEqual({
      status: 403,
      id: 'api.webhook.create_outgoing.permissions.app_error',
    });
    expect(await failure(as(admin()).createOutgoingWebhook(hookBody({ channel_id: '', trigger_words: [] })))).toEqual({ status: 400, id: 'api.webhook.create_outgoing.triggers.app_error' });
    // A team-wide hook with trigger words, and a channel hook without any, are both fine.
    expect((await as(admin()).createOutgoingWebhook(hookBody({ channel_id: '' }))).channel_id).toBe('');
    expect((await as(admin()).createOutgoingWebhook(hookBody({ trigger_words: [] }))).trigger_words).toEqual([]);
  });

  it('refuses a shared channel+URL+word (400, Mattermost 500), a client id, bad fields; keeps a chosen token', async () => {
    const first = await as(admin()).createOutgoingWebhook(hookBody({ callback_urls: ['http://same.example.com/x'], trigger_words: ['same'] }));
    expect(await failure(as(admin()).createOutgoingWebhook(hookBody({ callback_urls: ['http://same.example.com/x'], trigger_words: ['same', 'other'] })))).toEqual({
      status: 400,
      id: 'api.webhook.create_outgoing.intersect.app_error',
    });
    // Another channel, another URL or other words do not intersect.
    expect((await as(admin()).createOutgoingWebhook(hookBody({ channel_id: channel('off-topic'), callback_urls: first.callback_urls, trigger_words: ['same'] }))).id).toBeTruthy();
    expect(await failure(as(admin()).createOutgoingWebhook(hookBody({ id: newId() })))).toEqual({ status: 400, id: 'app.webhooks.save_outgoing.override.app_error' });
    expect(await failure(as(admin()).createOutgoingWebhook(hookBody({ callback_urls: ['nowhere.com/'] })))).toEqual({ status: 400, id: 'model.outgoing_hook.is_valid.url.app_error' });
    expect(await failure(as(admin()).createOutgoingWebhook(hookBody({ callback_urls: [] })))).toEqual({ status: 400, id: 'model.outgoing_hook.is_valid.callback.app_error' });
    expect(await failure(as(admin()).createOutgoingWebhook(hookBody({ display_name: 'é'.repeat(33) })))).toEqual({ status: 400, id: 'model.outgoing_hook.is_valid.display_name.app_error' });
    expect(await failure(as(admin()).createOutgoingWebhook(hookBody({ trigger_when: 2 })))).toEqual({ status: 400, id: 'model.outgoing_hook.is_valid.content_type.app_error' });
    expect(await failure(as(admin()).createOutgoingWebhook(hookBody({ token: '123' })))).toEqual({ status: 400, id: 'model.outgoing_hook.is_valid.token.app_error' });
    expect((await as(admin()).createOutgoingWebhook(hookBody({ token: 'c'.repeat(26) }))).token).toBe('c'.repeat(26));
    for (const body of ['{"trigger_words":"build"}', '{"trigger_when":"1"}', '{"trigger_when":1.5}', '{"callback_urls":[1]}', '7']) {
      const response = await raw(admin(), 'POST', '/api/v4/hooks/outgoing', body);
      expect([response.status, response.json().id], body).toEqual([400, 'api.context.invalid_body_param.app_error']);
    }
  });
});

describe('GET /api/v4/hooks/outgoing', () => {
  let adminHook: OutgoingWebhook;
  let ownHook: OutgoingWebhook;
  let teamWide: OutgoingWebhook;

  beforeAll(async () => {
    adminHook = await as(admin()).createOutgoingWebhook(hookBody({ channel_id: channel('off-topic') }));
    ownHook = await as(world.names.own).createOutgoingWebhook(hookBody({ channel_id: channel('off-topic') }));
    teamWide = await as(world.names.own).createOutgoingWebhook(hookBody({ channel_id: '' }));
  });

  it('MG-35 lists for an admin: all, paged, by team, by channel (without team-wide hooks); random team [] and random channel 403', async () => {
    const ids = (hooks: OutgoingWebhook[]) => hooks.map((hook) => hook.id);
    expect(ids(await as(admin()).getOutgoingWebhooks('', '', 0, 200))).toEqual(expect.arrayContaining([adminHook.id, ownHook.id, teamWide.id]));
    expect(await as(admin()).getOutgoingWebhooks('', world.team.id, 0, 1)).toHaveLength(1);
    const team = await as(admin()).getOutgoingWebhooks('', world.team.id, 0, 200);
    expect(ids(team)).toEqual(expect.arrayContaining([adminHook.id, ownHook.id, teamWide.id]));
    expect(team.map((hook) => hook.create_at)).toEqual([...team.map((hook) => hook.create_at)].sort((a, b) => a - b));
    expect(team.every((hook) => hook.token.length === 26)).toBe(true);
    const inChannel = await as(admin()).getOutgoingWebhooks(channel('off-topic'), '', 0, 200);
    expect(ids(inChannel)).toEqual(expect.arrayContaining([adminHook.id, ownHook.id]));
    expect(ids(inChannel)).not.toContain(teamWide.id);
    expect(await as(admin()).getOutgoingWebhooks('', newId(), 0, 60)).toEqual([]);
    expect(await failure(as(admin()).getOutgoingWebhooks(newId(), '', 0, 60))).toMatchObject({ status: 403 });
    expect(JSON.stringify(team)).not.toContain('signing_secret');
  });

  it('MG-36 MG-37 needs the team or channel permission, the system one unfiltered; Own sees only its own', async () => {
    expect(await failure(as('creator').getOutgoingWebhooks('', '', 0, 60))).toMatchObject({ status: 403 });
    const own = as(world.names.own);
    const mine = await own.getOutgoingWebhooks('', world.team.id, 0, 200);
    expect(mine.every((hook) => hook.creator_id === world.user(world.names.own).id)).toBe(true);
    expect(mine.map((hook) => hook.id)).toEqual(expect.arrayContaining([ownHook.id, teamWide.id]));
    expect((await own.getOutgoingWebhooks(channel('off-topic'), '', 0, 200)).map((hook) => hook.id)).toEqual([ownHook.id]);
    expect(await failure(own.getOutgoingWebhooks('', newId(), 0, 60))).toMatchObject({ status: 403 });
    expect(await failure(own.getOutgoingWebhooks(newId(), '', 0, 60))).toMatchObject({ status: 403 });
    expect(await failure(own.getOutgoingWebhooks('', '', 0, 60))).toMatchObject({ status: 403 });
    // Ids that cannot be ids never reach the store: 403 as unknown ones (a system admin's team list is empty).
    expect(await failure(own.getOutgoingWebhooks('', 'x'.repeat(3000), 0, 60))).toMatchObject({ status: 403 });
    expect(await failure(as(admin()).getOutgoingWebhooks('y'.repeat(3000), '', 0, 60))).toMatchObject({ status: 403 });
    expect(await as(admin()).getOutgoingWebhooks('', 'x'.repeat(3000), 0, 60)).toEqual([]);
    expect(await failure(own.createOutgoingWebhook(hookBody({ team_id: 'z'.repeat(5000) })))).toMatchObject({ status: 403 });
    expect(await failure(as(world.names.teamAdmin).getOutgoingWebhooks('', '', 0, 60))).toMatchObject({ status: 403 });
    expect((await raw(undefined, 'GET', '/api/v4/hooks/outgoing')).status).toBe(401);
    expect(await failure(as(admin(), disabled).getOutgoingWebhooks('', world.team.id))).toEqual({ status: 501, id: 'api.outgoing_webhook.disabled.app_error' });
  });
});

describe('single outgoing hooks', () => {
  it('MG-38 gets a hook with its token; 403 without permission or for another\'s with Own only; 404 unknown; 400 malformed', async () => {
    const hook = await as(admin()).createOutgoingWebhook(hookBody());
    expect((await as(admin()).getOutgoingWebhook(hook.id)).id).toBe(hook.id);
    expect(await failure(as('creator').getOutgoingWebhook(hook.id))).toMatchObject({ status: 403 });
    expect(await failure(as(world.names.own).getOutgoingWebhook(hook.id))).toMatchObject({ status: 403 });
    expect(await failure(as(admin()).getOutgoingWebhook(newId()))).toEqual({ status: 404, id: 'app.webhooks.get_outgoing.app_error' });
    expect((await raw(admin(), 'GET', '/api/v4/hooks/outgoing/junk')).status).toBe(400);
    expect((await raw(admin(), 'GET', '/api/v4/hooks/outgoing/')).status).not.toBe(200);
  });

  it('MG-39 regenerates the token: the whole hook with a new token; 403 without permission; 501 when off', async () => {
    const hook = await as(admin()).createOutgoingWebhook(hookBody());
    const regenerated = await as(admin()).regenOutgoingHookToken(hook.id);
    expect(regenerated).toMatchObject({ id: hook.id, callback_urls: hook.callback_urls });
    expect(regenerated.token).toMatch(/^[a-z0-9]{26}$/);
    expect(regenerated.token).not.toBe(hook.token);
    expect((await as(admin()).getOutgoingWebhook(hook.id)).token).toBe(regenerated.token);
    expect((await raw(admin(), 'POST', '/api/v4/hooks/outgoing/junk/regen_token')).status).toBe(400);
    expect(await failure(as('creator').regenOutgoingHookToken(hook.id))).toMatchObject({ status: 403 });
    expect(await failure(as(admin(), disabled).regenOutgoingHookToken(hook.id))).toMatchObject({ status: 501 });
  });

  it('MG-40 MG-41 updates (200): fields applied, create_at kept, creator kept, token kept when omitted', async () => {
    const hook = await as(admin()).createOutgoingWebhook(hookBody());
    const updated = await as(admin()).updateOutgoingWebhook({ ...hook, display_name: 'Cats', description: 'Get me some cats', create_at: 1, creator_id: world.user('other').id });
    expect(updated).toMatchObject({ display_name: 'Cats', description: 'Get me some cats', create_at: hook.create_at, creator_id: hook.creator_id, token: hook.token });
    expect(updated.update_at).toBeGreaterThan(hook.update_at);
    const { token: _token, ...withoutToken } = updated;
    const response = await raw(admin(), 'PUT', `/api/v4/hooks/outgoing/${hook.id}`, withoutToken);
    expect(response.status).toBe(200);
    expect(response.json().token).toBe(hook.token);
    expect((await as(admin()).updateOutgoingWebhook({ ...updated, token: 'd'.repeat(26) })).token).toBe('d'.repeat(26));
    expect(await failure(as(admin(), disabled).updateOutgoingWebhook(updated))).toMatchObject({ status: 501 });
    expect(await failure(as(admin()).updateOutgoingWebhook({ ...updated, id: newId() }))).toMatchObject({ status: 404 });
    expect(await failure(as('creator').updateOutgoingWebhook(updated))).toMatchObject({ status: 403 });
    expect(await failure(as(world.names.own).updateOutgoingWebhook(updated))).toMatchObject({ status: 403 });
    const byTeamAdmin = await as(world.names.teamAdmin).updateOutgoingWebhook({ ...updated, display_name: 'by team admin' });
    expect(byTeamAdmin).toMatchObject({ creator_id: world.user(admin()).id, display_name: 'by team admin' });
  });

  it('MG-42 refuses an update that makes two hooks of a channel share a URL and a word; fine in another channel', async () => {
    const a = await as(admin()).createOutgoingWebhook(hookBody({ callback_urls: ['http://someurl.example.com'], trigger_words: ['first'] }));
    const b = await as(admin()).createOutgoingWebhook(hookBody({ callback_urls: ['http://someurl.example.com'], trigger_words: ['base'] }));
    expect(await failure(as(admin()).updateOutgoingWebhook({ ...b, trigger_words: ['first'] }))).toEqual({ status: 400, id: 'api.webhook.update_outgoing.intersect.app_error' });
    expect((await as(admin()).updateOutgoingWebhook({ ...b, channel_id: channel('off-topic'), trigger_words: ['first'] })).channel_id).toBe(channel('off-topic'));
    // A hook does not intersect itself.
    expect((await as(admin()).updateOutgoingWebhook({ ...a, display_name: 'a' })).display_name).toBe('a');
  });

  it('MG-43 update channel rules: 404 junk, 403 private, 400 no channel and no words (Mattermost 500), 403 other team or non-member', async () => {
    const hook = await as(admin()).createOutgoingWebhook(hookBody());
    expect(await failure(as(admin()).updateOutgoingWebhook({ ...hook, channel_id: 'junk' }))).toMatchObject({ status: 404 });
    expect(await failure(as(admin()).updateOutgoingWebhook({ ...hook, channel_id: channel('private') }))).toEqual({ status: 403, id: 'api.webhook.create_outgoing.not_open.app_error' });
    expect(await failure(as(admin()).updateOutgoingWebhook({ ...hook, channel_id: '', trigger_words: [] }))).toEqual({ status: 400, id: 'api.webhook.create_outgoing.triggers.app_error' });
    expect(await failure(client4(api.url, world.elsewhere.user('creator').token).updateOutgoingWebhook(hook))).toMatchObject({ status: 403 });
    const otherTeam = await raw(admin(), 'PUT', `/api/v4/hooks/outgoing/${hook.id}`, { id: hook.id, channel_id: world.elsewhere.channel('town-square').id });
    expect([otherTeam.status, otherTeam.json().id]).toEqual([403, 'api.webhook.create_outgoing.permissions.app_error']);
    const mismatch = await raw(admin(), 'PUT', `/api/v4/hooks/outgoing/${hook.id}`, { ...hook, team_id: world.elsewhere.team.id });
    expect([mismatch.status, mismatch.json().id]).toEqual([400, 'api.webhook.team_mismatch.app_error']);
  });

  it('MG-44 deletes softly; 400 malformed, 404 unknown, 403 without permission or for another\'s with Own only', async () => {
    const hook = await as(admin()).createOutgoingWebhook(hookBody());
    expect((await raw(admin(), 'DELETE', '/api/v4/hooks/outgoing/abc')).status).toBe(400);
    expect(await failure(as(admin()).removeOutgoingWebhook(newId()))).toMatchObject({ status: 404 });
    expect(await failure(as('creator').removeOutgoingWebhook(hook.id))).toMatchObject({ status: 403 });
    expect(await failure(as(world.names.own).removeOutgoingWebhook(hook.id))).toMatchObject({ status: 403 });
    expect(await as(admin()).removeOutgoingWebhook(hook.id)).toEqual({ status: 'OK' });
    expect(await failure(as(admin()).getOutgoingWebhook(hook.id))).toMatchObject({ status: 404 });
    expect((await as(admin()).getOutgoingWebhooks('', world.team.id, 0, 200)).map((listed) => listed.id)).not.toContain(hook.id);
    expect((await as(admin()).getOutgoingWebhooks('', '', 0, 200)).map((listed) => listed.id)).not.toContain(hook.id);
  });
});

describe('permission matrix (own and others\' hooks)', () => {
  it('answers each caller as Mattermost\'s roles say', async () => {
    const ownerOf = { [world.names.own]: await as(world.names.own).createOutgoingWebhook(hookBody()) };
    const adminHook = await as(admin()).createOutgoingWebhook(hookBody());
    const nonMember = client4(api.url, world.elsewhere.user('creator').token);
    const cases: Array<[string, ReturnType<typeof client4>, OutgoingWebhook, number]> = [
      ['system admin, others\' hook', as(admin()), ownerOf[world.names.own]!, 200],
      ['team admin, others\' hook', as(world.names.teamAdmin), adminHook, 200],
      ['member with Others, others\' hook', as(world.names.others), adminHook, 200],
      ['member with Own, own hook', as(world.names.own), ownerOf[world.names.own]!, 200],
      ['member with Own, others\' hook', as(world.names.own), adminHook, 403],
      ['member without permission, others\' hook', as('creator'), adminHook, 403],
      ['non-member, others\' hook', nonMember, adminHook, 403],
    ];
    for (const [label, client, hook, status] of cases) {
      for (const call of [() => client.getOutgoingWebhook(hook.id), () => client.updateOutgoingWebhook({ ...hook, display_name: label.slice(0, 60) }), () => client.regenOutgoingHookToken(hook.id)]) {
        if (status === 200) await expect(call(), label).resolves.toMatchObject({ id: hook.id });
        else expect(await failure(call()), label).toMatchObject({ status });
      }
    }
  });
});

describe('signing-secret rotation, delivered', () => {
  let stack: OutgoingStack;
  let server: CallbackServer;
  let stackWorld: HookWorld;

  beforeAll(async () => {
    stack = await startOutgoingStack();
    server = await startCallbackServer((_request, _index, response) => replyJson(response, {}));
    stackWorld = await seedHookWorld(stack.api.runtime);
  });
  afterAll(async () => {
    await stack?.close();
    await server?.close();
  });

  const post = (message: string) =>
    stack.api.postJson('/api/v4/posts', { channel_id: stackWorld.channel('town-square').id, message }, { authorization: `Bearer ${stackWorld.user('creator').token}` });

  it('signs with the new and the previous secret during the window; each verifies with standardwebhooks; rotation needs the regen permissions', async () => {
    const manager = client4(stack.api.url, stackWorld.user(stackWorld.names.teamAdmin).token);
    const created = (await manager.createOutgoingWebhook({
      team_id: stackWorld.team.id,
      channel_id: stackWorld.channel('town-square').id,
      trigger_words: ['rotate'],
      callback_urls: [`${server.url}/signed`],
      content_type: 'application/json',
    } as OutgoingWebhook)) as OutgoingWebhook & { signing_secret: string };
    const oldSecret = created.signing_secret;
    expect((await post('rotate one')).status).toBe(201);
    const [first] = await server.waitFor(1);
    const firstHeaders = first!.headers as Record<string, string>;
    expect(firstHeaders['webhook-signature']!.split(' ')).toHaveLength(1);
    expect(() => new Webhook(oldSecret).verify(first!.body, firstHeaders)).not.toThrow();

    const denied = await stack.api.request('POST', `/api/v4/hooks/outgoing/${created.id}/rotate_signing_secret`, { headers: { authorization: `Bearer ${stackWorld.user(stackWorld.names.own).token}` } });
    expect(denied.status).toBe(403);
    const rotation = await stack.api.request('POST', `/api/v4/hooks/outgoing/${created.id}/rotate_signing_secret`, { headers: { authorization: `Bearer ${stackWorld.user(stackWorld.names.teamAdmin).token}` } });
    expect(rotation.status).toBe(200);
    expect(Object.keys(rotation.json())).toEqual(['signing_secret']);
    const newSecret = rotation.json().signing_secret as string;
    expect(newSecret).toMatch(/^whsec_/);
    expect(newSecret).not.toBe(oldSecret);
    // The token did not change, and no read answers the signing secret.
    expect((await manager.getOutgoingWebhook(created.id)).token).toBe(created.token);
    expect(JSON.stringify(await manager.getOutgoingWebhook(created.id))).not.toContain('whsec_');

    expect((await post('rotate two')).status).toBe(201);
    const [, second] = await server.waitFor(2);
    const secondHeaders = second!.headers as Record<string, string>;
    expect(secondHeaders['webhook-signature']!.split(' ')).toHaveLength(2);
    // A receiver that installed the new secret, and one that still has the old one, both accept it.
    expect(() => new Webhook(newSecret).verify(second!.body, secondHeaders)).not.toThrow();
    expect(() => new Webhook(oldSecret).verify(second!.body, secondHeaders)).not.toThrow();
    expect(JSON.parse(second!.body)).toMatchObject({ text: 'rotate two', token: created.token });
  });

  it('delivers to a changed callback URL at once (the dispatcher and worker read hooks from the table)', async () => {
    const manager = client4(stack.api.url, stackWorld.user(stackWorld.names.teamAdmin).token);
    const hook = await manager.createOutgoingWebhook({ team_id: stackWorld.team.id, channel_id: stackWorld.channel('town-square').id, trigger_words: ['moved'], callback_urls: [`${server.url}/before`] } as OutgoingWebhook);
    await manager.updateOutgoingWebhook({ ...hook, callback_urls: [`${server.url}/after`] });
    const before = server.received.length;
    expect((await post('moved here')).status).toBe(201);
    const received = await server.waitFor(before + 1);
    expect(received[before]!.url).toBe('/after');
  });
});

describe('audit records', () => {
  it('records each change with its outcome, and never a token or signing secret', async () => {
    const sinceMs = Date.now() - 1;
    const hook = (await as(admin()).createOutgoingWebhook(hookBody())) as OutgoingWebhook & { signing_secret: string };
    await as(admin()).getOutgoingWebhook(hook.id);
    const updated = await as(admin()).updateOutgoingWebhook({ ...hook, display_name: 'audited' });
    const regenerated = await as(admin()).regenOutgoingHookToken(hook.id);
    const rotated = (await raw(admin(), 'POST', `/api/v4/hooks/outgoing/${hook.id}/rotate_signing_secret`)).json();
    await failure(as('creator').removeOutgoingWebhook(hook.id));
    await as(admin()).removeOutgoingWebhook(hook.id);
    const records = (await listAuditRecords(api.runtime, { sinceMs, limit: 100_000 })).filter((record) => record.objectId === hook.id).reverse();
    expect(records.map((record) => [record.event, record.status])).toEqual([
      ['createOutgoingHook', 'success'],
      ['getOutgoingHook', 'success'],
      ['updateOutgoingHook', 'success'],
      ['regenOutgoingHookToken', 'success'],
      ['rotateOutgoingHookSigningSecret', 'success'],
      ['deleteOutgoingHook', 'fail'],
      ['deleteOutgoingHook', 'success'],
    ]);
    const text = JSON.stringify(records);
    for (const secret of [hook.token, hook.signing_secret, updated.token, regenerated.token, rotated.signing_secret]) expect(text).not.toContain(secret);
  });
});
