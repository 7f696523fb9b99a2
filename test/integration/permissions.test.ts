import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditCursor, listAuditRecords, parseAuditCursor, recordAudit } from '../../lib/audit.js';
import { exportSeed, exportToYaml } from '../../lib/seed/export.js';
import { applySeed, parseSeedFile, planSeed, SeedValidationError } from '../../lib/seed/seed.js';
import { seedFileSchema } from '../../lib/seed/schema.js';
import {
  canReadChannel,
  hasChannelPermission,
  hasSystemPermission,
  hasTeamPermission,
  operatorCaller,
  requireTeamPermission,
  type Caller,
} from '../../lib/permissions.js';
import type { Runtime } from '../../lib/runtime.js';
import { main as ctl } from '../../infra/ctl/cli.js';
import { client4 } from '../support/client4.js';
import { seedWorld, stackEnvironment, startApi, uniqueName, type Api, type World } from '../support/harness.js';

/**
 * Roles and permissions as seed files declare them and as every management route checks them:
 * system roles, team membership roles (default and custom), channel membership, and the operator
 * CLI's unrestricted caller. Also the audit records every change writes.
 */
let api: Api;
let runtime: Runtime;
let world: World;
let otherWorld: World;
const names = { admin: uniqueName('sysadmin'), teamAdmin: uniqueName('tadmin'), maker: uniqueName('maker'), role: `hook_maker_${uniqueName().toLowerCase()}` };

beforeAll(async () => {
  api = await startApi();
  runtime = api.runtime;
  world = await seedWorld(runtime, (world) => ({
    roles: [{ name: names.role, permissions: ['manage_own_incoming_webhooks'] }],
    users: [
      { username: names.admin, roles: ['system_admin'], teams: [] },
      { username: names.teamAdmin, teams: [{ name: world.team, roles: ['team_admin'] }], channels: [`${world.team}/town-square`] },
      { username: names.maker, teams: [{ name: world.team, roles: [names.role] }] },
    ],
  }));
  otherWorld = await seedWorld(runtime);
});
afterAll(() => api.close());

async function callerOf(username: string): Promise<Caller> {
  const user = await runtime.entities.getUser(world.user(username).id);
  return { user: user!, unrestricted: false, origin: '127.0.0.1' };
}

describe('roles from the seed file', () => {
  it('stores system roles Mattermost\'s way and answers them on /users/me', async () => {
    expect((await runtime.entities.getUser(world.user(names.admin).id))?.roles).toBe('system_user system_admin');
    expect((await runtime.entities.getUser(world.user('creator').id))?.roles).toBe('system_user');
    expect((await client4(api.url, world.user(names.admin).token).getMe()).roles).toBe('system_user system_admin');
    expect((await runtime.entities.getTeamMember(world.team.id, world.user(names.teamAdmin).id))?.roles).toBe('team_user team_admin');
    expect((await runtime.entities.getTeamMember(world.team.id, world.user('creator').id))?.roles).toBe('team_user');
    expect(await runtime.entities.getRole(names.role)).toEqual({ name: names.role, permissions: ['manage_own_incoming_webhooks'] });
  });

  it('refuses unknown roles, unknown permissions and custom roles named like default ones, writing nothing', async () => {
    const team = uniqueName('team');
    const attempt = (document: Record<string, unknown>) =>
      planSeed('roles.yaml', seedFileSchema.parse({ teams: [{ name: team }], ...document }), { store: runtime.entities, siteUrl: '' });
    const problems = async (document: Record<string, unknown>) => {
      const error = await attempt(document).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(SeedValidationError);
      return (error as SeedValidationError).problems.join('\n');
    };
    expect(await problems({ users: [{ username: uniqueName('u'), roles: ['galactic_admin'] }] })).toMatch(/roles: "galactic_admin" is neither a system role/);
    expect(await problems({ users: [{ username: uniqueName('u'), teams: [{ name: team, roles: ['system_admin'] }] }] })).toMatch(/"system_admin" is neither a team role/);
    expect(await problems({ roles: [{ name: 'maker', permissions: ['manage_everything'] }] })).toMatch(/permissions: unknown "manage_everything"/);
    expect(await problems({ roles: [{ name: 'team_admin', permissions: [] }] })).toMatch(/one of Mattermost's default roles/);
    expect(await runtime.entities.getTeamByName(team)).toBeUndefined();
  });

  it('exports roles so that the export applies with no changes', async () => {
    const exported = exportToYaml(await exportSeed(runtime.entities, { teams: [world.team.name] }), 'roles export');
    expect(exported).toContain(names.role);
    expect(exported).toMatch(/roles:\s+- team_admin/);
    const planned = await planSeed('export.yaml', parseSeedFile('export.yaml', exported), { store: runtime.entities, siteUrl: '' });
    expect(planned.plan.lines).toEqual([]);
  });
});

describe('permission checks', () => {
  it('team permissions: team admins and system admins yes, plain members no, custom roles as granted', async () => {
    const team = world.team.id;
    const check = async (username: string, permission: Parameters<typeof hasTeamPermission>[3], teamId = team) =>
      hasTeamPermission(runtime, await callerOf(username), teamId, permission);
    expect(await check(names.teamAdmin, 'manage_others_incoming_webhooks')).toBe(true);
    expect(await check(names.teamAdmin, 'bypass_incoming_webhook_channel_lock')).toBe(true);
    expect(await check(names.admin, 'manage_others_slash_commands')).toBe(true);
    expect(await check('creator', 'manage_own_incoming_webhooks')).toBe(false);
    expect(await check('creator', 'view_team')).toBe(true);
    expect(await check(names.maker, 'manage_own_incoming_webhooks')).toBe(true);
    expect(await check(names.maker, 'manage_others_incoming_webhooks')).toBe(false);
    // A team admin of one team has only their system roles in another.
    expect(await check(names.teamAdmin, 'manage_own_incoming_webhooks', otherWorld.team.id)).toBe(false);
    // An empty team id passes for no one, not even a system admin or the operator.
    expect(await check(names.admin, 'manage_own_incoming_webhooks', '')).toBe(false);
    expect(await hasTeamPermission(runtime, operatorCaller(), '', 'view_team')).toBe(false);
    expect(await hasTeamPermission(runtime, operatorCaller(), team, 'manage_others_slash_commands')).toBe(true);
    await expect(requireTeamPermission(runtime, await callerOf('creator'), team, 'manage_own_slash_commands')).rejects.toMatchObject({
      statusCode: 403,
      id: 'api.context.permissions.app_error',
    });
  });

  it('system permissions come from system roles only: a team admin does not pass', async () => {
    expect(await hasSystemPermission(runtime, await callerOf(names.admin), 'manage_others_incoming_webhooks')).toBe(true);
    expect(await hasSystemPermission(runtime, await callerOf(names.teamAdmin), 'manage_others_incoming_webhooks')).toBe(false);
    expect(await hasSystemPermission(runtime, await callerOf('creator'), 'create_user_access_token')).toBe(false);
  });

  it('channel permissions: an unknown channel passes for no one; members read, others read public channels only', async () => {
    const privateChannel = (await runtime.entities.getChannel(world.channel('private').id))!;
    const publicChannel = (await runtime.entities.getChannel(world.channel('town-square').id))!;
    expect(await hasChannelPermission(runtime, await callerOf(names.admin), 'aaaaaaaaaaaaaaaaaaaaaaaaaa', 'read_channel')).toBe(false);
    expect(await hasChannelPermission(runtime, await callerOf(names.admin), privateChannel.id, 'read_channel')).toBe(true);
    expect(await canReadChannel(runtime, await callerOf('creator'), privateChannel)).toBe(true);
    expect(await canReadChannel(runtime, await callerOf('outsider'), privateChannel)).toBe(false);
    expect(await canReadChannel(runtime, await callerOf('outsider'), publicChannel)).toBe(true);
    // The team's roles apply to its channels: a team admin may manage hooks in a channel they are not in.
    expect(await hasChannelPermission(runtime, await callerOf(names.teamAdmin), privateChannel.id, 'manage_own_outgoing_webhooks')).toBe(true);
    expect(await hasChannelPermission(runtime, await callerOf('outsider'), privateChannel.id, 'manage_own_outgoing_webhooks')).toBe(false);
  });

  it('a custom role changed by a later seed run applies once the cache interval has passed', async () => {
    const fresh = await startApi({ ENTITY_CACHE_TTL_SECONDS: '1' });
    try {
      const caller = await callerOf(names.maker);
      expect(await hasTeamPermission(fresh.runtime, caller, world.team.id, 'manage_own_outgoing_webhooks')).toBe(false);
      await applySeed('roles.yaml', seedFileSchema.parse({ roles: [{ name: names.role, permissions: ['manage_own_incoming_webhooks', 'manage_own_outgoing_webhooks'] }] }), {
        store: runtime.entities,
        siteUrl: '',
      });
      // Cached for up to a second, then read again.
      await new Promise((resolve) => setTimeout(resolve, 1100));
      expect(await hasTeamPermission(fresh.runtime, caller, world.team.id, 'manage_own_outgoing_webhooks')).toBe(true);
    } finally {
      await fresh.close();
    }
  });
});

describe('audit records', () => {
  it('records who did what, when and from where, and lists them back', async () => {
    const before = runtime.nowMs();
    const objectId = uniqueName('object');
    await recordAudit(runtime, await callerOf(names.admin), { event: 'createIncomingHook', objectId, status: 'success', detail: { channel_id: 'c' } });
    await recordAudit(runtime, operatorCaller('ops'), { event: 'deleteIncomingHook', objectId, status: 'fail' });
    const records = (await listAuditRecords(runtime, { sinceMs: before, limit: 1000 })).filter((record) => record.objectId === objectId);
    // Newest first.
    expect(records).toMatchObject([
      { event: 'deleteIncomingHook', status: 'fail', actorId: '', actorName: 'operator', origin: 'cli:ops' },
      { event: 'createIncomingHook', status: 'success', actorId: world.user(names.admin).id, actorName: names.admin, origin: '127.0.0.1', detail: { channel_id: 'c' } },
    ]);
    expect(records[1]!.timeMs).toBeGreaterThanOrEqual(before);
  });

  /**
   * Six records over three UTC days `daysBack` days back, where no other test writes: two in the same
   * millisecond (their ids order them), one a millisecond before midnight, one at midnight.
   */
  async function recordsOverThreeDays(daysBack: number) {
    const dayMs = 86_400_000;
    const midnight = Math.floor(Date.now() / dayMs) * dayMs - daysBack * dayMs;
    const times = [midnight - dayMs + 5, midnight - 1, midnight, midnight + 43_200_000, midnight + dayMs + 7, midnight + dayMs + 7];
    const objectId = uniqueName('paged');
    const stored = times.map((timeMs, index) => ({ id: `${String(index).padStart(2, '0')}${uniqueName().toLowerCase()}`, time_ms: timeMs }));
    for (const record of stored) {
      await runtime.entities.putAuditRecord({ ...record, event: 'updateCommand', object_id: objectId, status: 'success', actor_id: '', actor_name: 'operator', origin: 'cli:pager', detail: {}, expires_at: Math.floor(Date.now() / 1000) + 3600 });
    }
    const newestFirst = stored.map((record) => record.id).reverse();
    return { sinceMs: times[0]!, newest: { timeMs: times[5]! + 1, id: '' }, newestFirst, times, objectId, hours: (Date.now() - times[0]! + 60_000) / 3_600_000 };
  }

  it('lists newest first a page at a time: each page goes on from the last record of the one before, across days', async () => {
    const { sinceMs, newest, newestFirst } = await recordsOverThreeDays(3);
    const pages: string[][] = [];
    let before = newest;
    for (;;) {
      const page = await listAuditRecords(runtime, { sinceMs, limit: 4, before });
      pages.push(page.map((record) => record.id));
      if (page.length < 4) break;
      before = parseAuditCursor(auditCursor(page.at(-1)!))!;
    }
    expect(pages).toEqual([newestFirst.slice(0, 4), newestFirst.slice(4)]);
    // The same records two at a time: the cursor between the two of one millisecond loses neither.
    const pairs: string[] = [];
    for (before = newest; pairs.length < 6; ) {
      const page = await listAuditRecords(runtime, { sinceMs, limit: 2, before });
      expect(page).toHaveLength(2);
      pairs.push(...page.map((record) => record.id));
      before = page.at(-1)!;
    }
    expect(pairs).toEqual(newestFirst);
    expect(await listAuditRecords(runtime, { sinceMs, limit: 2, before })).toEqual([]);
    // A cursor from before the window: nothing.
    expect(await listAuditRecords(runtime, { sinceMs, limit: 2, before: { timeMs: sinceMs - 1, id: 'z' } })).toEqual([]);
  });

  it('npm run ctl -- audit list ends a full page with the cursor of the next, and takes it with --before', async () => {
    // Days of their own: since the first record, the command lists only these.
    const { newest, times, objectId, hours } = await recordsOverThreeDays(7);
    Object.assign(process.env, { DYNAMODB_ENDPOINT: stackEnvironment().DYNAMODB_ENDPOINT, AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' });
    const list = async (...args: string[]) => {
      const lines: string[] = [];
      const code = await ctl(['audit', 'list', '--hours', String(hours), '--limit', '4', ...args, '--stage', 'test'], { out: (text) => lines.push(text), err: (text) => lines.push(`stderr: ${text}`) });
      expect(code, lines.join('\n')).toBe(0);
      return lines;
    };
    const first = await list('--before', `${newest.timeMs}-0`);
    expect(first).toHaveLength(5);
    const cursor = /^older: --before (\S+)$/.exec(first[4]!)?.[1];
    expect(cursor).toBeDefined();
    const second = await list('--before', cursor!);
    // The last page is short: no cursor after it.
    expect(second).toHaveLength(2);
    const listed = [...first.slice(0, 4), ...second];
    expect(listed.every((line) => line.includes(objectId))).toBe(true);
    expect(listed.map((line) => line.split('  ')[0])).toEqual(times.map((timeMs) => new Date(timeMs).toISOString()).reverse());
  });

  it('ctl refuses a usage mistake with exit code 2 and its usage', async () => {
    const lines: string[] = [];
    const io = { out: (text: string) => lines.push(text), err: (text: string) => lines.push(text) };
    expect(await ctl(['nothing'], io)).toBe(2);
    expect(lines.join('\n')).toMatch(/unknown group "nothing"[\s\S]*usage: npm run ctl/);
    lines.length = 0;
    expect(await ctl(['audit', 'list', '--hours', 'x', '--stage', 'test'], io)).toBe(2);
    expect(lines.join('\n')).toMatch(/--hours and --limit must be positive numbers\nusage: npm run ctl -- audit list/);
    lines.length = 0;
    expect(await ctl(['audit', 'list', '--before', '12-X!', '--stage', 'test'], io)).toBe(2);
    expect(lines.join('\n')).toMatch(/--before: "12-X!" is not a cursor this command printed\nusage: npm run ctl -- audit list/);
  });
});
