import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IncomingWebhook, IncomingWebhooksWithCount } from '@mattermost/types/integrations';
import { listAuditRecords } from '../../lib/audit.js';
import { logHash, newId } from '../../lib/ids.js';
import { client4, failure } from '../support/client4.js';
import { startApi, type Api } from '../support/harness.js';
import { hookClients, seedHookWorld, type HookWorld } from '../support/hook-world.js';

/**
 * Incoming webhook management (`/api/v4/hooks/incoming`), Mattermost's api4 webhook tests (MG-01 to
 * MG-30) through Client4 where it has the method, raw requests for statuses and error ids.
 */
let api: Api;
/** The same tables with the override settings on, and with incoming webhooks off. */
let overridesOn: Api;
let disabled: Api;
let world: HookWorld;

beforeAll(async () => {
  api = await startApi();
  overridesOn = await startApi({ ENABLE_POST_USERNAME_OVERRIDE: 'true', ENABLE_POST_ICON_OVERRIDE: 'true' });
  disabled = await startApi({ ENABLE_INCOMING_WEBHOOKS: 'false' });
  world = await seedHookWorld(api.runtime);
});
afterAll(async () => {
  await api?.close();
  await overridesOn?.close();
  await disabled?.close();
});

const { as, raw, channel, admin } = hookClients(() => api, () => world);

describe('POST /api/v4/hooks/incoming', () => {
  it('MG-01 creates a hook for a system admin: 201, owner the caller, team the channel\'s', async () => {
    const response = await raw(admin(), 'POST', '/api/v4/hooks/incoming', { channel_id: channel('town-square'), display_name: 'ci', team_id: world.elsewhere.team.id });
    expect(response.status).toBe(201);
    const hook = response.json<IncomingWebhook>();
    expect(hook).toMatchObject({ channel_id: channel('town-square'), user_id: world.user(admin()).id, team_id: world.team.id, display_name: 'ci', delete_at: 0, channel_locked: false });
    expect(hook.id).toMatch(/^[a-z0-9]{26}$/);
    expect(hook.create_at).toBeGreaterThan(0);
    expect(Object.keys(hook).sort()).toEqual(['channel_id', 'channel_locked', 'create_at', 'delete_at', 'description', 'display_name', 'icon_url', 'id', 'team_id', 'update_at', 'user_id', 'username']);
  });

  it('MG-02 answers 404 for an unknown, malformed or missing channel, before any permission check', async () => {
    for (const channelId of ['junk', newId(), '', 'x'.repeat(5000)]) {
      expect(await failure(as('creator').createIncomingWebhook({ channel_id: channelId }))).toEqual({ status: 404, id: 'app.channel.get.existing.app_error' });
    }
  });

  it('MG-03 lets a team admin and a member with Own create; a member without permission gets 403', async () => {
    expect((await as(world.names.teamAdmin).createIncomingWebhook({ channel_id: channel('town-square') })).user_id).toBe(world.user(world.names.teamAdmin).id);
    expect((await as(world.names.own).createIncomingWebhook({ channel_id: channel('town-square') })).user_id).toBe(world.user(world.names.own).id);
    expect(await failure(as('creator').createIncomingWebhook({ channel_id: channel('town-square') }))).toEqual({ status: 403, id: 'api.context.permissions.app_error' });
  });

  it('MG-04 forces channel_locked without the bypass permission, honours it with', async () => {
    expect((await as(world.names.own).createIncomingWebhook({ channel_id: channel('town-square'), channel_locked: false })).channel_locked).toBe(true);
    expect((await as(world.names.ownBypass).createIncomingWebhook({ channel_id: channel('town-square'), channel_locked: false })).channel_locked).toBe(false);
  });

  it('MG-05 MG-06 creates for another user with Others (404 for an unknown user), 403 with Own only', async () => {
    const other = world.user('other').id;
    expect((await as(admin()).createIncomingWebhook({ channel_id: channel('town-square'), user_id: other })).user_id).toBe(other);
    expect((await as(world.names.others).createIncomingWebhook({ channel_id: channel('town-square'), user_id: other })).user_id).toBe(other);
    expect(await failure(as(admin()).createIncomingWebhook({ channel_id: channel('town-square'), user_id: 'invalid-user' }))).toMatchObject({ status: 404 });
    expect(await failure(as(admin()).createIncomingWebhook({ channel_id: channel('town-square'), user_id: newId() }))).toMatchObject({ status: 404 });
    expect(await failure(as(world.names.own).createIncomingWebhook({ channel_id: channel('town-square'), user_id: other }))).toMatchObject({ status: 403 });
    // Naming oneself needs nothing more.
    expect((await as(world.names.own).createIncomingWebhook({ channel_id: channel('town-square'), user_id: world.user(world.names.own).id })).user_id).toBe(world.user(world.names.own).id);
  });

  it('MG-07 blanks username and icon with the overrides off, checks the username with them on', async () => {
    const off = await as(admin()).createIncomingWebhook({ channel_id: channel('town-square'), username: ':invalid:', icon_url: 'http://example.com/icon' });
    expect(off).toMatchObject({ username: '', icon_url: '' });
    const on = await as(admin(), overridesOn).createIncomingWebhook({ channel_id: channel('town-square'), username: 'ci-bot', icon_url: 'icon' });
    expect(on).toMatchObject({ username: 'ci-bot', icon_url: 'icon' });
    expect(await failure(as(admin(), overridesOn).createIncomingWebhook({ channel_id: channel('town-square'), username: ':invalid:' }))).toEqual({
      status: 400,
      id: 'api.incoming_webhook.invalid_username.app_error',
    });
  });

  it('MG-08 answers 501 when incoming webhooks are off (after the permission checks)', async () => {
    expect(await failure(as(admin(), disabled).createIncomingWebhook({ channel_id: channel('town-square') }))).toEqual({ status: 501, id: 'api.incoming_webhook.disabled.app_error' });
    expect(await failure(as('creator', disabled).createIncomingWebhook({ channel_id: channel('town-square') }))).toMatchObject({ status: 403 });
  });

  it('MG-09 refuses a member with Own+Bypass on a team they do not belong to', async () => {
    expect(await failure(as(world.names.ownBypass).createIncomingWebhook({ channel_id: world.elsewhere.channel('town-square').id }))).toMatchObject({ status: 403 });
  });

  it('refuses a client-chosen id, over-long fields (in bytes) and bodies that are not a hook, with 400', async () => {
    expect(await failure(as(admin()).createIncomingWebhook({ channel_id: channel('town-square'), id: newId() }))).toEqual({ status: 400, id: 'app.webhooks.save_incoming.existing.app_error' });
    expect(await failure(as(admin()).createIncomingWebhook({ channel_id: channel('town-square'), display_name: 'é'.repeat(33) }))).toEqual({ status: 400, id: 'model.incoming_hook.display_name.app_error' });
    expect((await as(admin()).createIncomingWebhook({ channel_id: channel('town-square'), display_name: 'é'.repeat(32) })).display_name).toBe('é'.repeat(32));
    expect(await failure(as(admin()).createIncomingWebhook({ channel_id: channel('town-square'), description: 'd'.repeat(501) }))).toMatchObject({ status: 400, id: 'model.incoming_hook.description.app_error' });
    for (const body of ['', '[]', '"x"', '{"channel_id": 5}', '{"channel_locked": "yes"}', '{']) {
      const response = await raw(admin(), 'POST', '/api/v4/hooks/incoming', body);
      expect(response.status, body).toBe(400);
      expect(response.json().id).toBe('api.context.invalid_body_param.app_error');
    }
    // Go's decoder: keys case-insensitive, bytes after the first value ignored.
    const lenient = await raw(admin(), 'POST', '/api/v4/hooks/incoming', `{"Channel_ID":"${channel('town-square')}","DISPLAY_NAME":"caps"} trailing`);
    expect(lenient.status).toBe(201);
    expect(lenient.json().display_name).toBe('caps');
  });

  it('MG-13 answers 401 without a session', async () => {
    expect((await raw(undefined, 'POST', '/api/v4/hooks/incoming', { channel_id: channel('town-square') })).status).toBe(401);
    expect((await raw(undefined, 'GET', '/api/v4/hooks/incoming')).json().id).toBe('api.context.session_expired.app_error');
  });
});

describe('GET /api/v4/hooks/incoming', () => {
  let adminHook: IncomingWebhook;
  let ownHook: IncomingWebhook;

  beforeAll(async () => {
    adminHook = await as(admin()).createIncomingWebhook({ channel_id: channel('off-topic'), display_name: 'listed-admin' });
    ownHook = await as(world.names.own).createIncomingWebhook({ channel_id: channel('off-topic'), display_name: 'listed-own' });
  });

  it('MG-10 MG-11 lists every hook for a system admin, by team, paged, oldest first', async () => {
    const all = (await as(admin()).getIncomingWebhooks('', 0, 200)) as IncomingWebhook[];
    expect(all.map((hook) => hook.id)).toEqual(expect.arrayContaining([adminHook.id, ownHook.id]));
    const team = (await as(admin()).getIncomingWebhooks(world.team.id, 0, 200)) as IncomingWebhook[];
    expect(team.every((hook) => hook.team_id === world.team.id)).toBe(true);
    expect(team.map((hook) => hook.id)).toEqual(expect.arrayContaining([adminHook.id, ownHook.id, world.hook('main').id]));
    expect(team.map((hook) => hook.create_at)).toEqual([...team.map((hook) => hook.create_at)].sort((a, b) => a - b));
    expect(await as(admin()).getIncomingWebhooks(world.team.id, 0, 1)).toHaveLength(1);
    expect(await as(admin()).getIncomingWebhooks(world.team.id, 1, 1)).toEqual([team[1]]);
    expect(await as(admin()).getIncomingWebhooks(newId(), 0, 60)).toEqual([]);
    // per_page=0 is accepted (an empty page); above 200 reads as 200.
    expect((await raw(admin(), 'GET', `/api/v4/hooks/incoming?team_id=${world.team.id}&per_page=0`)).json()).toEqual([]);
    expect((await raw(admin(), 'GET', `/api/v4/hooks/incoming?team_id=${world.team.id}&per_page=5000&page=-3`)).json()).toEqual(team);
  });

  it('MG-12 needs the team permission with a team, the system permission without', async () => {
    expect(await failure(as('creator').getIncomingWebhooks('', 0, 60))).toMatchObject({ status: 403 });
    expect(await failure(as('creator').getIncomingWebhooks(world.team.id, 0, 60))).toMatchObject({ status: 403 });
    expect(await as(world.names.own).getIncomingWebhooks(world.team.id, 0, 60)).toEqual(expect.any(Array));
    expect(await failure(as(world.names.own).getIncomingWebhooks(newId(), 0, 60))).toMatchObject({ status: 403 });
    expect(await failure(as(world.names.own).getIncomingWebhooks('', 0, 60))).toMatchObject({ status: 403 });
    // A team id that cannot be an id: only system roles apply, and it never reaches the store.
    expect(await failure(as(world.names.own).getIncomingWebhooks('x'.repeat(3000), 0, 60))).toMatchObject({ status: 403 });
    expect(await as(admin()).getIncomingWebhooks('x'.repeat(3000), 0, 60)).toEqual([]);
    // A team admin has no system permission: the unfiltered list is refused.
    expect(await failure(as(world.names.teamAdmin).getIncomingWebhooks('', 0, 60))).toMatchObject({ status: 403 });
  });

  it('MG-14 MG-15 shows Own only its own hooks; Others and admins all; include_total_count counts the same filter', async () => {
    const mine = (await as(world.names.own).getIncomingWebhooks(world.team.id, 0, 200)) as IncomingWebhook[];
    expect(mine.length).toBeGreaterThan(0);
    expect(mine.every((hook) => hook.user_id === world.user(world.names.own).id)).toBe(true);
    expect(mine.map((hook) => hook.id)).toContain(ownHook.id);
    const counted = (await as(world.names.own).getIncomingWebhooks(world.team.id, 0, 1, true)) as IncomingWebhooksWithCount;
    expect(counted.incoming_webhooks).toHaveLength(1);
    expect(counted.total_count).toBe(mine.length);
    const everyone = (await as(world.names.others).getIncomingWebhooks(world.team.id, 0, 200, true)) as IncomingWebhooksWithCount;
    expect(everyone.total_count).toBe(((await as(admin()).getIncomingWebhooks(world.team.id, 0, 200)) as IncomingWebhook[]).length);
    expect(everyone.incoming_webhooks.map((hook) => hook.id)).toEqual(expect.arrayContaining([adminHook.id, ownHook.id]));
  });

  it('answers 501 when the feature is off, after the permission check', async () => {
    expect(await failure(as(admin(), disabled).getIncomingWebhooks(world.team.id))).toEqual({ status: 501, id: 'api.incoming_webhook.disabled.app_error' });
    expect(await failure(as('creator', disabled).getIncomingWebhooks(world.team.id))).toMatchObject({ status: 403 });
  });
});

describe('GET and DELETE /api/v4/hooks/incoming/{hook_id}', () => {
  it('MG-16 gets a hook: 400 malformed id, 404 unknown, 403 without permission or for another\'s hook with Own only', async () => {
    const hook = await as(admin()).createIncomingWebhook({ channel_id: channel('town-square') });
    expect(await as(admin()).getIncomingWebhook(hook.id)).toEqual(hook);
    expect(await failure(as(admin()).getIncomingWebhook(newId()))).toEqual({ status: 404, id: 'app.webhooks.get_incoming.app_error' });
    expect(await failure(as(admin()).getIncomingWebhook('abc'))).toEqual({ status: 400, id: 'api.context.invalid_url_param.app_error' });
    expect(await failure(as('creator').getIncomingWebhook(hook.id))).toMatchObject({ status: 403 });
    expect(await failure(as(world.names.own).getIncomingWebhook(hook.id))).toMatchObject({ status: 403 });
    expect((await as(world.names.others).getIncomingWebhook(hook.id)).id).toBe(hook.id);
    // The feature switch comes first on a single hook, even for a caller without permission.
    expect(await failure(as('creator', disabled).getIncomingWebhook(hook.id))).toEqual({ status: 501, id: 'api.incoming_webhook.disabled.app_error' });
  });

  it('MG-17 deletes softly: 200 {status: OK}, then 404 everywhere and gone from lists', async () => {
    const hook = await as(admin()).createIncomingWebhook({ channel_id: channel('town-square') });
    expect(await failure(as(admin()).removeIncomingWebhook('abc'))).toMatchObject({ status: 400 });
    expect(await failure(as(admin()).removeIncomingWebhook(newId()))).toMatchObject({ status: 404 });
    expect(await failure(as('creator').removeIncomingWebhook(hook.id))).toMatchObject({ status: 403 });
    expect(await failure(as(world.names.own).removeIncomingWebhook(hook.id))).toMatchObject({ status: 403 });
    expect(await as(admin()).removeIncomingWebhook(hook.id)).toEqual({ status: 'OK' });
    expect(await failure(as(admin()).getIncomingWebhook(hook.id))).toMatchObject({ status: 404 });
    expect(await failure(as(admin()).removeIncomingWebhook(hook.id))).toMatchObject({ status: 404 });
    expect(((await as(admin()).getIncomingWebhooks(world.team.id, 0, 200)) as IncomingWebhook[]).map((listed) => listed.id)).not.toContain(hook.id);
    expect(((await as(admin()).getIncomingWebhooks('', 0, 200)) as IncomingWebhook[]).map((listed) => listed.id)).not.toContain(hook.id);
    const stored = await api.runtime.entities.getIncomingWebhook(hook.id);
    expect(stored?.delete_at).toBeGreaterThan(0);
  });

  it('hides a private channel\'s hook from a caller who cannot read the channel', async () => {
    const hook = await as('creator').createIncomingWebhook({ channel_id: channel('private') }).catch(() => undefined);
    expect(hook).toBeUndefined();
    const privateHook = await as(admin()).createIncomingWebhook({ channel_id: channel('private') });
    // The team admin may manage others' hooks but is not in the private channel.
    expect(await failure(as(world.names.teamAdmin).getIncomingWebhook(privateHook.id))).toMatchObject({ status: 403 });
  });
});

describe('PUT /api/v4/hooks/incoming/{hook_id}', () => {
  it('MG-18 MG-19 MG-20 answers 201, keeps username/icon with the overrides off, applies them on, keeps create_at', async () => {
    const hook = await as(admin()).createIncomingWebhook({ channel_id: channel('town-square'), display_name: 'hook1' });
    const updated = await as(admin()).updateIncomingWebhook({ ...hook, display_name: 'hook2', description: 'changed', channel_id: channel('off-topic'), username: 'username', icon_url: 'icon', create_at: 100 });
    expect(updated).toMatchObject({ display_name: 'hook2', description: 'changed', channel_id: channel('off-topic'), username: '', icon_url: '', create_at: hook.create_at });
    expect(updated.update_at).toBeGreaterThan(hook.update_at);
    const response = await raw(admin(), 'PUT', `/api/v4/hooks/incoming/${hook.id}`, { ...updated, display_name: 'hook3' });
    expect(response.status).toBe(201);
    const on = await as(admin(), overridesOn).updateIncomingWebhook({ ...updated, username: 'username', icon_url: 'icon' });
    expect(on).toMatchObject({ username: 'username', icon_url: 'icon' });
    // Overrides off again: the stored values stay.
    expect(await as(admin()).updateIncomingWebhook({ ...on, username: '', icon_url: '' })).toMatchObject({ username: 'username', icon_url: 'icon' });
    expect(await failure(as(admin(), overridesOn).updateIncomingWebhook({ ...on, username: ':invalid:' }))).toMatchObject({ status: 400, id: 'api.incoming_webhook.invalid_username.app_error' });
  });

  it('MG-21 MG-22 answers 404 for unknown ids, 400 for a body id that differs, 403 without permission', async () => {
    const hook = await as(admin()).createIncomingWebhook({ channel_id: channel('town-square') });
    const randomId = newId();
    expect(await failure(as(admin()).updateIncomingWebhook({ ...hook, id: randomId }))).toMatchObject({ status: 404 });
    expect((await raw(admin(), 'PUT', '/api/v4/hooks/incoming/', hook)).status).toBe(404);
    const mismatch = await raw(admin(), 'PUT', `/api/v4/hooks/incoming/${hook.id}`, { ...hook, id: randomId });
    expect([mismatch.status, mismatch.json().id]).toEqual([400, 'api.context.invalid_body_param.app_error']);
    expect((await raw(admin(), 'PUT', '/api/v4/hooks/incoming/abc', hook)).status).toBe(400);
    expect(await failure(as('creator').updateIncomingWebhook(hook))).toMatchObject({ status: 403 });
  });

  it('MG-23 MG-24 MG-25 keeps the lock without bypass, never changes the owner, lets a team admin edit others\' hooks', async () => {
    const own = await as(world.names.own).createIncomingWebhook({ channel_id: channel('town-square') });
    expect((await as(world.names.own).updateIncomingWebhook({ ...own, channel_locked: false })).channel_locked).toBe(true);
    const bypass = await as(world.names.ownBypass).createIncomingWebhook({ channel_id: channel('town-square') });
    const moved = await as(world.names.ownBypass).updateIncomingWebhook({ ...bypass, user_id: world.user('other').id, channel_locked: false });
    expect(moved).toMatchObject({ user_id: world.user(world.names.ownBypass).id, channel_locked: false });
    const adminHook = await as(admin()).createIncomingWebhook({ channel_id: channel('town-square') });
    expect(await failure(as(world.names.ownBypass).updateIncomingWebhook(adminHook))).toMatchObject({ status: 403 });
    expect(await failure(as(world.names.own).updateIncomingWebhook(adminHook))).toMatchObject({ status: 403 });
    const byTeamAdmin = await as(world.names.teamAdmin).updateIncomingWebhook({ ...adminHook, display_name: 'by team admin' });
    expect(byTeamAdmin).toMatchObject({ user_id: world.user(admin()).id, display_name: 'by team admin' });
  });

  it('MG-26 MG-27 MG-28 MG-30 501 when off; channel 404, private unreadable 403, another team 403, another team\'s channel 400', async () => {
    const hook = await as(admin()).createIncomingWebhook({ channel_id: channel('town-square') });
    expect(await failure(as(admin(), disabled).updateIncomingWebhook(hook))).toEqual({ status: 501, id: 'api.incoming_webhook.disabled.app_error' });
    expect(await failure(as(admin()).updateIncomingWebhook({ ...hook, channel_id: 'junk' }))).toMatchObject({ status: 404 });
    // channel_id is required in the PUT body.
    const withoutChannel = await raw(admin(), 'PUT', `/api/v4/hooks/incoming/${hook.id}`, { id: hook.id });
    expect(withoutChannel.status).toBe(404);
    expect(await failure(as(world.names.teamAdmin).updateIncomingWebhook({ ...hook, channel_id: channel('private') }))).toMatchObject({ status: 403 });
    const nonMember = client4(api.url, world.elsewhere.user('creator').token);
    expect(await failure(nonMember.updateIncomingWebhook(hook))).toMatchObject({ status: 403 });
    const otherTeam = await raw(admin(), 'PUT', `/api/v4/hooks/incoming/${hook.id}`, { id: hook.id, channel_id: world.elsewhere.channel('town-square').id });
    expect([otherTeam.status, otherTeam.json().id]).toEqual([400, 'api.context.invalid_body_param.app_error']);
    const teamMismatch = await raw(admin(), 'PUT', `/api/v4/hooks/incoming/${hook.id}`, { ...hook, team_id: world.elsewhere.team.id });
    expect([teamMismatch.status, teamMismatch.json().id]).toEqual([400, 'api.webhook.team_mismatch.app_error']);
    // Hookline validates updates (Mattermost's database would answer 500).
    expect(await failure(as(admin()).updateIncomingWebhook({ ...hook, description: 'd'.repeat(501) }))).toEqual({ status: 400, id: 'model.incoming_hook.description.app_error' });
  });
});

describe('POST /api/v4/hooks/incoming/{hook_id}/move/{user_id}', () => {
  it('hands a hook to a team member with Others; Own alone cannot, even for its own hook', async () => {
    const hook = await as(world.names.own).createIncomingWebhook({ channel_id: channel('town-square') });
    expect((await raw(world.names.own, 'POST', `/api/v4/hooks/incoming/${hook.id}/move/${world.user('other').id}`)).status).toBe(403);
    const moved = await raw(world.names.others, 'POST', `/api/v4/hooks/incoming/${hook.id}/move/${world.user('other').id}`);
    expect(moved.status).toBe(200);
    expect(moved.json()).toMatchObject({ id: hook.id, user_id: world.user('other').id });
    expect((await raw(world.names.others, 'POST', `/api/v4/hooks/incoming/${hook.id}/move/me`)).json().user_id).toBe(world.user(world.names.others).id);
    expect((await raw(admin(), 'POST', `/api/v4/hooks/incoming/${hook.id}/move/junk`)).status).toBe(400);
    expect((await raw(admin(), 'POST', `/api/v4/hooks/incoming/abc/move/me`)).status).toBe(400);
    expect((await raw(admin(), 'POST', `/api/v4/hooks/incoming/${hook.id}/move/${newId()}`)).status).toBe(404);
    const nonMember = await raw(admin(), 'POST', `/api/v4/hooks/incoming/${hook.id}/move/${world.elsewhere.user('creator').id}`);
    expect([nonMember.status, nonMember.json().id]).toEqual([400, 'api.webhook.incoming.user_membership.app_error']);
  });
});

describe('the done-when story', () => {
  it('a team admin creates a hook through Client4, posts through it, deletes it, and posting fails within the cache bound', async () => {
    const ttlSeconds = 1;
    const poster = await startApi({ ENTITY_CACHE_TTL_SECONDS: String(ttlSeconds) });
    try {
      const hook = await as(world.names.teamAdmin).createIncomingWebhook({ channel_id: channel('town-square'), display_name: 'story' });
      // A warm instance serving POST /hooks/{id} caches the hook.
      expect((await poster.postJson(`/hooks/${hook.id}`, { text: 'first' })).status).toBe(200);
      expect((await poster.postJson(`/hooks/${hook.id}`, { text: 'second' })).status).toBe(200);
      expect(await as(world.names.teamAdmin).removeIncomingWebhook(hook.id)).toEqual({ status: 'OK' });
      const deletedAtMs = Date.now();
      let refusedAtMs = 0;
      while (Date.now() - deletedAtMs < (ttlSeconds + 2) * 1000) {
        const response = await poster.postJson(`/hooks/${hook.id}`, { text: 'after delete' });
        if (response.status === 400) {
          expect(response.json().id).toBe('web.incoming_webhook.invalid.app_error');
          refusedAtMs = Date.now();
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(refusedAtMs, 'posting still worked after the cache TTL').toBeGreaterThan(0);
      // The instance cached the hook before the deletion, so its copy expires within the TTL of it;
      // the second of slack is for the requests themselves on a loaded machine.
      expect(refusedAtMs - deletedAtMs).toBeLessThanOrEqual(ttlSeconds * 1000 + 1000);
      // The management API itself sees the deletion at once.
      expect(await failure(as(world.names.teamAdmin).getIncomingWebhook(hook.id))).toMatchObject({ status: 404 });
    } finally {
      await poster.close();
    }
  });

  it('a member cannot touch another member\'s hooks', async () => {
    const theirs = await as(world.names.ownBypass).createIncomingWebhook({ channel_id: channel('town-square') });
    const member = as(world.names.own);
    expect(await failure(member.getIncomingWebhook(theirs.id))).toMatchObject({ status: 403 });
    expect(await failure(member.updateIncomingWebhook({ ...theirs, display_name: 'mine now' }))).toMatchObject({ status: 403 });
    expect(await failure(member.removeIncomingWebhook(theirs.id))).toMatchObject({ status: 403 });
    expect(((await member.getIncomingWebhooks(world.team.id, 0, 200)) as IncomingWebhook[]).map((hook) => hook.id)).not.toContain(theirs.id);
    expect((await as(world.names.ownBypass).getIncomingWebhook(theirs.id)).display_name).toBe('');
  });
});

describe('audit records', () => {
  it('records every change and both outcomes, naming the hook by its hash, never its id', async () => {
    const sinceMs = Date.now() - 1;
    const hook = await as(admin()).createIncomingWebhook({ channel_id: channel('town-square') });
    await as(admin()).getIncomingWebhook(hook.id);
    await as(admin()).updateIncomingWebhook({ ...hook, display_name: 'audited' });
    await raw(admin(), 'POST', `/api/v4/hooks/incoming/${hook.id}/move/${world.user('other').id}`);
    await failure(as('creator').removeIncomingWebhook(hook.id));
    await as(admin()).removeIncomingWebhook(hook.id);
    const records = (await listAuditRecords(api.runtime, { sinceMs, limit: 100_000 })).filter((record) => record.objectId === `hash:${logHash(hook.id)}`).reverse();
    expect(records.map((record) => [record.event, record.status])).toEqual([
      ['createIncomingHook', 'success'],
      ['getIncomingHook', 'success'],
      ['updateIncomingHook', 'success'],
      ['moveIncomingHook', 'success'],
      ['deleteIncomingHook', 'fail'],
      ['deleteIncomingHook', 'success'],
    ]);
    expect(records[0]).toMatchObject({ actorId: world.user(admin()).id, origin: expect.any(String) });
    expect(records[4]!.detail).toMatchObject({ status_code: 403 });
    expect(JSON.stringify(records)).not.toContain(hook.id);
  });
});
