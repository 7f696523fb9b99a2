import type { Runtime } from '../../lib/runtime.js';
import { client4 } from './client4.js';
import { seedWorld, uniqueName, type Api, type World } from './harness.js';

/**
 * The world of the hook management tests: the harness's team (town-square, off-topic, private;
 * `creator`, `other`, `outsider` hold no integration permission) plus a system admin, a team admin,
 * and members whose custom team roles grant Own, Own+Bypass and Own+Others for incoming and
 * outgoing hooks (Mattermost's test matrix), and a second team in which none of them is a member.
 */
export interface HookWorld extends World {
  names: { admin: string; teamAdmin: string; own: string; ownBypass: string; others: string };
  elsewhere: World;
}

export async function seedHookWorld(runtime: Runtime): Promise<HookWorld> {
  const suffix = uniqueName('').toLowerCase();
  const roles = { own: `hooks_own_${suffix}`, ownBypass: `hooks_bypass_${suffix}`, others: `hooks_others_${suffix}` };
  const names = { admin: uniqueName('sysadmin'), teamAdmin: uniqueName('tadmin'), own: uniqueName('own'), ownBypass: uniqueName('bypass'), others: uniqueName('others') };
  const own = ['manage_own_incoming_webhooks', 'manage_own_outgoing_webhooks'] as const;
  const world = await seedWorld(runtime, (base) => ({
    roles: [
      { name: roles.own, permissions: [...own] },
      { name: roles.ownBypass, permissions: [...own, 'bypass_incoming_webhook_channel_lock'] },
      { name: roles.others, permissions: [...own, 'manage_others_incoming_webhooks', 'manage_others_outgoing_webhooks'] },
    ],
    users: [
      { username: names.admin, roles: ['system_admin'], teams: [] },
      { username: names.teamAdmin, teams: [{ name: base.team, roles: ['team_admin'] }], channels: [`${base.team}/town-square`] },
      { username: names.own, teams: [{ name: base.team, roles: [roles.own] }], channels: [`${base.team}/town-square`] },
      { username: names.ownBypass, teams: [{ name: base.team, roles: [roles.ownBypass] }], channels: [`${base.team}/town-square`] },
      { username: names.others, teams: [{ name: base.team, roles: [roles.others] }], channels: [`${base.team}/town-square`] },
    ],
  }));
  const elsewhere = await seedWorld(runtime);
  return { ...world, names, elsewhere };
}

/** Client4 and raw requests as a user of the hook world, on an API (the main one by default). */
export function hookClients(getApi: () => Api, getWorld: () => HookWorld) {
  const token = (name: string) => getWorld().user(name).token;
  return {
    as: (name: string, on: Api = getApi()) => client4(on.url, token(name)),
    raw: (name: string | undefined, method: string, path: string, body?: unknown, on: Api = getApi()) =>
      on.request(method, path, {
        headers: { ...(name ? { authorization: `Bearer ${token(name)}` } : {}), 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      }),
    channel: (name: string) => getWorld().channel(name).id,
    admin: () => getWorld().names.admin,
  };
}
