import type { Command as ClientCommand } from '@mattermost/types/integrations';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAuditRecords } from '../../lib/audit.js';
import { newId } from '../../lib/ids.js';
import { keys } from '../../lib/store/keys.js';
import { replyJson, startCallbackServer, type CallbackServer } from '../support/callback-server.js';
import { client4, failure } from '../support/client4.js';
import { seedWorld, startApi, uniqueName, type Api, type World } from '../support/harness.js';

/**
 * Slash command management over HTTP (Mattermost's api4 command tests, MG-45..MG-59): Client4 where
 * it has the method, raw requests for get-by-id, move, and statuses. The permission matrix: a system
 * admin, a team admin, plain members (`basic`, `basic2`), members whose team role grants
 * `manage_own_slash_commands` (Own) or also `manage_others_slash_commands` (Others), and non-members.
 */
let api: Api;
let disabledApi: Api;

interface Matrix {
  world: World;
  teamId: string;
  /** A username by role in this matrix. */
  names: Record<'admin' | 'tadmin' | 'basic' | 'basic2' | 'own' | 'others' | 'nonmember' | 'targetOnly', string>;
  second: World;
  third: World;
}

/**
 * A team T with the matrix's users, a second team T2 where `own` and `others` have the same roles
 * and `targetOnly` has Own without being in T, and a third team T3 none of them is in.
 */
async function seedMatrix(): Promise<Matrix> {
  const second = await seedWorld(api.runtime);
  const third = await seedWorld(api.runtime);
  const roleOwn = uniqueName('cmdown');
  const roleOthers = uniqueName('cmdothers');
  let names!: Matrix['names'];
  const world = await seedWorld(api.runtime, (base) => {
    names = {
      admin: `${base.team}-admin`,
      tadmin: `${base.team}-tadmin`,
      basic: base.creator,
      basic2: base.other,
      own: `${base.team}-own`,
      others: `${base.team}-others`,
      nonmember: second.user('creator').username,
      targetOnly: `${base.team}-target`,
    };
    return {
      roles: [
        { name: roleOwn, permissions: ['manage_own_slash_commands'] },
        { name: roleOthers, permissions: ['manage_own_slash_commands', 'manage_others_slash_commands'] },
      ],
      users: [
        { username: names.admin, roles: ['system_admin'], teams: [] },
        { username: names.tadmin, teams: [{ name: base.team, roles: ['team_admin'] }] },
        { username: names.own, teams: [{ name: base.team, roles: [roleOwn] }, { name: second.team.name, roles: [roleOwn] }] },
        { username: names.others, teams: [{ name: base.team, roles: [roleOthers] }, { name: second.team.name, roles: [roleOthers] }] },
        { username: names.targetOnly, teams: [{ name: second.team.name, roles: [roleOwn] }] },
      ],
    };
  });
  return { world, teamId: world.team.id, names, second, third };
}

let m: Matrix;

beforeAll(async () => {
  api = await startApi();
  disabledApi = await startApi({ ENABLE_COMMANDS: 'false' });
  m = await seedMatrix();
});
afterAll(async () => {
  await api?.close();
  await disabledApi?.close();
});

type Who = keyof Matrix['names'];
const userOf = (who: Who, matrix = m) => (who === 'nonmember' ? matrix.second.user('creator') : matrix.world.user(matrix.names[who]));
const as = (who: Who, matrix = m) => client4(api.url, userOf(who, matrix).token);
const raw = (who: Who | 'anonymous', method: string, path: string, body?: unknown, target = api) =>
  target.request(method, path, {
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    headers: { 'content-type': 'application/json', ...(who === 'anonymous' ? {} : { authorization: `Bearer ${userOf(who).token}` }) },
  });
const trigger = () => uniqueName('cmd');
const RANDOM_ID = () => newId();

/** A command made by the admin for `creator` (default: the admin). */
async function commandOf(creator: Who = 'admin', extra: Partial<ClientCommand> = {}, matrix = m): Promise<ClientCommand> {
  return as('admin', matrix).addCommand({
    team_id: matrix.teamId,
    url: 'http://nowhere.com',
    method: 'P',
    trigger: trigger(),
    ...(creator === 'admin' ? {} : { creator_id: userOf(creator, matrix).id }),
    ...extra,
  } as ClientCommand);
}

describe('create', () => {
  it('MG-45 refuses a member without permission (403), creates for the admin (201, creator = admin), refuses the same trigger again (400)', async () => {
    const body = { team_id: m.teamId, url: 'http://nowhere.com', method: 'P', trigger: trigger() } as ClientCommand;
    expect(await failure(as('basic').addCommand(body))).toEqual({ status: 403, id: 'api.context.permissions.app_error' });
    const response = await raw('admin', 'POST', '/api/v4/commands', body);
    expect(response.status).toBe(201);
    const created = response.json();
    expect(created).toMatchObject({ creator_id: userOf('admin').id, team_id: m.teamId, trigger: body.trigger, method: 'P', delete_at: 0, plugin_id: '' });
    expect(created.token).toMatch(/^[a-z0-9]{26}$/);
    expect(created.create_at).toBe(created.update_at);
    expect(await failure(as('admin').addCommand(body))).toEqual({ status: 400, id: 'api.command.duplicate_trigger.app_error' });
    expect(await failure(as('admin').addCommand({ ...body, trigger: body.trigger.toUpperCase() }))).toEqual({ status: 400, id: 'api.command.duplicate_trigger.app_error' });
  });

  it('MG-46 refuses a wrong method (400 model.command.is_valid.method) and answers 501 when commands are disabled', async () => {
    const body = { team_id: m.teamId, url: 'http://nowhere.com', method: 'Wrong', trigger: 'testcommand' } as unknown as ClientCommand;
    expect(await failure(as('admin').addCommand(body))).toEqual({ status: 400, id: 'model.command.is_valid.method.app_error' });
    const disabled = await raw('admin', 'POST', '/api/v4/commands', { ...body, method: 'P' }, disabledApi);
    expect(disabled.status).toBe(501);
    expect(disabled.json().id).toBe('api.command.disabled.app_error');
  });

  it('MG-47 lets only Others create for another creator; an unknown creator is a 404', async () => {
    const body = { team_id: m.teamId, url: 'http://nowhere.com', method: 'P', creator_id: userOf('basic2').id } as ClientCommand;
    expect(await failure(as('own').addCommand({ ...body, trigger: trigger() }))).toEqual({ status: 403, id: 'api.context.permissions.app_error' });
    expect((await as('others').addCommand({ ...body, trigger: trigger() })).creator_id).toBe(userOf('basic2').id);
    expect((await failure(as('others').addCommand({ ...body, trigger: trigger(), creator_id: RANDOM_ID() }))).status).toBe(404);
    expect((await failure(as('admin').addCommand({ ...body, trigger: trigger(), creator_id: 'invalid-user' }))).status).toBe(404);
    expect((await as('admin').addCommand({ ...body, trigger: trigger(), creator_id: userOf('basic').id })).creator_id).toBe(userOf('basic').id);
    // Own may name itself.
    expect((await as('own').addCommand({ ...body, trigger: trigger(), creator_id: userOf('own').id })).creator_id).toBe(userOf('own').id);
  });

  it('MG-48 lower-cases the trigger and keeps built-in triggers reserved, whatever their case', async () => {
    const name = `Local${newId().slice(0, 6)}`;
    expect((await commandOf('admin', { trigger: name })).trigger).toBe(name.toLowerCase());
    for (const builtIn of ['echo', 'join', 'Shrug', 'ME', 'away']) {
      expect(await failure(commandOf('admin', { trigger: builtIn })), builtIn).toEqual({ status: 400, id: 'api.command.duplicate_trigger.app_error' });
    }
  });

  it('allows the same trigger in another team, and a team admin creates', async () => {
    const created = await as('tadmin').addCommand({ team_id: m.teamId, url: 'http://nowhere.com', method: 'G', trigger: trigger() } as ClientCommand);
    expect(created.creator_id).toBe(userOf('tadmin').id);
    const inSecond = await as('admin').addCommand({ team_id: m.second.team.id, url: 'http://nowhere.com', method: 'G', trigger: created.trigger } as ClientCommand);
    expect(inSecond.team_id).toBe(m.second.team.id);
  });

  it('refuses a team the caller is not in (403), an empty team (403), a client id (400), bad bodies (400) and no session (401)', async () => {
    const body = { team_id: m.teamId, url: 'http://nowhere.com', method: 'P', trigger: trigger() };
    expect((await raw('nonmember', 'POST', '/api/v4/commands', body)).status).toBe(403);
    expect((await raw('admin', 'POST', '/api/v4/commands', { ...body, team_id: '' })).status).toBe(403);
    const withId = await raw('admin', 'POST', '/api/v4/commands', { ...body, id: RANDOM_ID() });
    expect([withId.status, withId.json().id]).toEqual([400, 'app.command.createcommand.internal_error']);
    for (const bad of ['{', '', '[]', '"text"', '{"trigger": 5}', '{"auto_complete": "yes"}', '{"create_at": 1.5}']) {
      const response = await raw('admin', 'POST', '/api/v4/commands', bad);
      expect([response.status, response.json().id], bad).toEqual([400, 'api.context.invalid_body_param.app_error']);
    }
    expect((await raw('anonymous', 'POST', '/api/v4/commands', body)).status).toBe(401);
    // As Go decodes: keys in any case, unknown keys and bytes after the first value ignored; null is the zero command (no team: 403).
    const lenient = await raw('admin', 'POST', '/api/v4/commands', `{"TEAM_ID":"${m.teamId}","Trigger":"${trigger()}","url":"http://nowhere.com","method":"P","extra":1} trailing`);
    expect(lenient.status).toBe(201);
    expect((await raw('admin', 'POST', '/api/v4/commands', 'null')).status).toBe(403);
  });

  it('validates as Command.IsValid: URL, trigger, lengths in bytes, a client token of 26 bytes', async () => {
    const cases: Array<[Partial<ClientCommand>, string]> = [
      [{ url: '' }, 'model.command.is_valid.url.app_error'],
      [{ url: '1234' }, 'model.command.is_valid.url_http.app_error'],
      [{ url: 'https:////example.com' }, 'model.command.is_valid.url_http.app_error'],
      [{ trigger: '/slash' }, 'model.command.is_valid.trigger.app_error'],
      [{ trigger: 'two words' }, 'model.command.is_valid.trigger.app_error'],
      [{ trigger: 'é'.repeat(65) }, 'model.command.is_valid.trigger.app_error'],
      [{ display_name: 'é'.repeat(33) }, 'model.command.is_valid.display_name.app_error'],
      [{ description: 'a'.repeat(129) }, 'model.command.is_valid.description.app_error'],
      [{ token: 'short' }, 'model.command.is_valid.token.app_error'],
      [{ method: '' }, 'model.command.is_valid.method.app_error'],
    ];
    for (const [change, id] of cases) expect(await failure(commandOf('admin', change)), JSON.stringify(change)).toEqual({ status: 400, id });
    expect((await commandOf('admin', { display_name: 'é'.repeat(32), description: 'a'.repeat(128), token: 't'.repeat(26) })).token).toBe('t'.repeat(26));
    expect((await commandOf('admin', { trigger: `a_b-c.d/e${newId().slice(0, 4)}` })).trigger).toMatch(/^a_b-c\.d\/e/);
  });

  it('lets exactly one of concurrent creates with one trigger win; the others lose with 400 and nothing half-written', async () => {
    const name = trigger();
    const results = await Promise.all(
      Array.from({ length: 6 }, () => raw('admin', 'POST', '/api/v4/commands', { team_id: m.teamId, url: 'http://nowhere.com', method: 'P', trigger: name })),
    );
    const winners = results.filter((response) => response.status === 201);
    expect(winners).toHaveLength(1);
    for (const loser of results.filter((response) => response.status !== 201)) {
      expect([loser.status, loser.json().id]).toEqual([400, 'api.command.duplicate_trigger.app_error']);
    }
    const stored = (await api.runtime.entities.listCommandsOfTeam(m.teamId)).filter((command) => command.trigger === name);
    expect(stored.map((command) => command.id)).toEqual([winners[0]!.json().id]);
    expect((await api.runtime.entities.getRaw(keys.commandTrigger(m.teamId, name)))?.target_id).toBe(winners[0]!.json().id);
  });
});

describe('update', () => {
  it('MG-49 changes trigger, method and URL; keeps creator and token', async () => {
    const original = await commandOf();
    const edited = await as('admin').editCommand({
      ...original,
      trigger: `Trigger2${newId().slice(0, 5)}`,
      method: 'G',
      url: 'http://nowhere.com/change',
      creator_id: RANDOM_ID(),
      token: 'tokenchange',
    });
    expect(edited).toMatchObject({ id: original.id, method: 'G', url: 'http://nowhere.com/change', creator_id: original.creator_id, token: original.token, create_at: original.create_at });
    expect(edited.trigger).toMatch(/^trigger2/);
    expect(edited.update_at).toBeGreaterThan(original.update_at);
    // The old trigger is free again, the new one taken, in one change.
    expect((await commandOf('admin', { trigger: original.trigger })).trigger).toBe(original.trigger);
    expect(await failure(commandOf('admin', { trigger: edited.trigger }))).toEqual({ status: 400, id: 'api.command.duplicate_trigger.app_error' });
  });

  it('MG-50 answers 404 for unknown ids, 400 for bad ids and team changes, 404 to a member without rights, 401 without a session', async () => {
    const command = await commandOf();
    const randomId = RANDOM_ID();
    expect((await raw('admin', 'PUT', `/api/v4/commands/${randomId}`, { ...command, id: randomId })).status).toBe(404);
    expect((await raw('admin', 'PUT', '/api/v4/commands/junk', { ...command, id: 'junk' })).json().id).toBe('api.context.invalid_url_param.app_error');
    const mismatch = await raw('admin', 'PUT', `/api/v4/commands/${command.id}`, { ...command, team_id: m.second.team.id });
    expect([mismatch.status, mismatch.json().id]).toEqual([400, 'api.command.team_mismatch.app_error']);
    const { team_id: _team, ...withoutTeam } = command;
    expect((await raw('admin', 'PUT', `/api/v4/commands/${command.id}`, withoutTeam)).json().id).toBe('api.command.team_mismatch.app_error');
    const otherId = await raw('admin', 'PUT', `/api/v4/commands/${command.id}`, { ...command, id: randomId });
    expect([otherId.status, otherId.json().id]).toEqual([400, 'api.context.invalid_body_param.app_error']);
    expect(await failure(as('basic').editCommand(command))).toEqual({ status: 404, id: 'store.sql_command.save.get.app_error' });
    expect((await raw('anonymous', 'PUT', `/api/v4/commands/${command.id}`, command)).status).toBe(401);
    const invalid = await raw('admin', 'PUT', `/api/v4/commands/${command.id}`, { ...command, url: 'nope' });
    expect(invalid.json().id).toBe('model.command.is_valid.url_http.app_error');
  });

  it('MG-51 lets Own edit its own, refuses Own on another\'s (403), lets Others; refuses taken and built-in triggers', async () => {
    const owns = await commandOf('own');
    const basic2s = await commandOf('basic2');
    expect((await as('own').editCommand({ ...owns, display_name: 'mine' })).display_name).toBe('mine');
    expect(await failure(as('own').editCommand({ ...basic2s, display_name: 'theirs' }))).toEqual({ status: 403, id: 'api.context.permissions.app_error' });
    expect((await as('others').editCommand({ ...basic2s, display_name: 'theirs' })).creator_id).toBe(userOf('basic2').id);
    expect(await failure(as('others').editCommand({ ...basic2s, trigger: owns.trigger.toUpperCase() }))).toEqual({ status: 400, id: 'api.command.duplicate_trigger.app_error' });
    expect(await failure(as('others').editCommand({ ...basic2s, trigger: 'join' }))).toEqual({ status: 400, id: 'api.command.duplicate_trigger.app_error' });
    // Its own trigger, in another case, is no conflict.
    expect((await as('tadmin').editCommand({ ...basic2s, trigger: basic2s.trigger.toUpperCase() })).trigger).toBe(basic2s.trigger);
  });
});

describe('move', () => {
  const move = (who: Who | 'anonymous', commandId: string, teamId: string) => raw(who, 'PUT', `/api/v4/commands/${commandId}/move`, { team_id: teamId });

  it('MG-52 moves for the admin; bogus ids 400, an unknown team 404, no rights on the command\'s team 404, no session 401', async () => {
    const command = await commandOf();
    const moved = await move('admin', command.id, m.second.team.id);
    expect([moved.status, moved.json()]).toEqual([200, { status: 'OK' }]);
    expect((await raw('admin', 'GET', `/api/v4/commands/${command.id}`)).json().team_id).toBe(m.second.team.id);
    expect((await move('admin', 'bogus', m.teamId)).json().id).toBe('api.context.invalid_url_param.app_error');
    expect((await move('admin', command.id, RANDOM_ID())).status).toBe(404);
    expect((await move('admin', command.id, 'x'.repeat(3000))).status).toBe(404);
    const other = await commandOf();
    // Own in the target team, nothing in the command's.
    expect((await move('targetOnly', other.id, m.second.team.id)).json().id).toBe('store.sql_command.save.get.app_error');
    // No rights in the target team: 403 before the command is read.
    expect((await move('basic', other.id, m.second.team.id)).status).toBe(403);
    expect((await move('anonymous', other.id, m.second.team.id)).status).toBe(401);
    const badBody = await raw('admin', 'PUT', `/api/v4/commands/${other.id}/move`, '[1]');
    expect([badBody.status, badBody.json().id]).toEqual([400, 'api.context.invalid_body_param.app_error']);
  });

  it('MG-53 needs Others for another\'s command, the creator\'s rights in the target, and a free trigger there', async () => {
    const basic2s = await commandOf('basic2');
    expect((await move('own', basic2s.id, m.second.team.id)).status).toBe(403);
    const owns = await commandOf('own');
    expect((await move('own', owns.id, m.second.team.id)).status).toBe(200);
    const others = await commandOf('own');
    expect((await move('others', others.id, m.second.team.id)).status).toBe(200);
    // The creator (own) is not in T3.
    const stranded = await commandOf('own');
    const refused = await move('admin', stranded.id, m.third.team.id);
    expect([refused.status, refused.json().id]).toEqual([400, 'api.command.move_command.creator_no_permission.app_error']);
    // The target team already has the trigger: refused, and the command stays.
    const clash = await commandOf();
    await as('admin').addCommand({ team_id: m.second.team.id, url: 'http://nowhere.com', method: 'P', trigger: clash.trigger } as ClientCommand);
    expect((await move('admin', clash.id, m.second.team.id)).json().id).toBe('api.command.duplicate_trigger.app_error');
    expect((await raw('admin', 'GET', `/api/v4/commands/${clash.id}`)).json().team_id).toBe(m.teamId);
  });

  it('moves the trigger with the command: free in the old team, taken in the new; the autocomplete lists follow moves and deletes', async () => {
    const command = await commandOf('admin', { auto_complete: true });
    expect((await move('admin', command.id, m.second.team.id)).status).toBe(200);
    expect((await api.runtime.entities.getRaw(keys.commandTrigger(m.teamId, command.trigger)))).toBeUndefined();
    expect((await api.runtime.entities.getRaw(keys.commandTrigger(m.second.team.id, command.trigger)))?.target_id).toBe(command.id);
    const oldList = await as('admin').getAutocompleteCommandsList(m.teamId, 0, 200);
    expect(oldList.map((listed) => listed.id)).not.toContain(command.id);
    const newList = await as('admin').getAutocompleteCommandsList(m.second.team.id, 0, 200);
    expect(newList.map((listed) => listed.id)).toContain(command.id);
    await as('admin').deleteCommand(command.id);
    expect((await as('admin').getAutocompleteCommandsList(m.second.team.id, 0, 200)).map((listed) => listed.id)).not.toContain(command.id);
  });
});

describe('delete', () => {
  it('MG-54 deletes for the admin, then it is gone; 400, 404, 404 without rights, 401; Own only its own; Others any', async () => {
    const command = await commandOf();
    expect(await as('admin').deleteCommand(command.id)).toEqual({ status: 'OK' });
    expect((await raw('admin', 'GET', `/api/v4/commands/${command.id}`)).status).toBe(404);
    expect((await raw('admin', 'DELETE', `/api/v4/commands/${command.id}`)).status).toBe(404);
    expect((await raw('admin', 'DELETE', '/api/v4/commands/junk')).status).toBe(400);
    expect((await raw('admin', 'DELETE', `/api/v4/commands/${RANDOM_ID()}`)).status).toBe(404);
    const kept = await commandOf();
    expect(await failure(as('basic').deleteCommand(kept.id))).toEqual({ status: 404, id: 'store.sql_command.save.get.app_error' });
    expect((await raw('anonymous', 'DELETE', `/api/v4/commands/${kept.id}`)).status).toBe(401);
    const owns = await commandOf('own');
    const basic2s = await commandOf('basic2');
    expect(await as('own').deleteCommand(owns.id)).toEqual({ status: 'OK' });
    expect(await failure(as('own').deleteCommand(basic2s.id))).toEqual({ status: 403, id: 'api.context.permissions.app_error' });
    expect(await as('others').deleteCommand(basic2s.id)).toEqual({ status: 'OK' });
    // A soft delete: the row stays, marked; the trigger is free again.
    expect((await api.runtime.entities.getCommand(command.id))?.delete_at).toBeGreaterThan(0);
    expect((await commandOf('admin', { trigger: command.trigger })).trigger).toBe(command.trigger);
  });
});

describe('list', () => {
  let list: Matrix;
  let adminCommand: ClientCommand;
  let ownCommand: ClientCommand;
  let basic2Command: ClientCommand;

  beforeAll(async () => {
    list = await seedMatrix();
    adminCommand = await commandOf('admin', {}, list);
    ownCommand = await commandOf('own', {}, list);
    basic2Command = await commandOf('basic2', { auto_complete: true }, list);
  });
  const ids = (commands: ClientCommand[]) => commands.filter((command) => command.id !== '').map((command) => command.id).sort();
  const triggers = (commands: ClientCommand[]) => commands.map((command) => command.trigger);

  it('MG-55 lists built-ins and custom commands for the admin, sanitized; custom_only in full; members and non-members as Mattermost', async () => {
    const all = await as('admin', list).getCommandsList(list.teamId);
    expect(triggers(all)).toEqual(expect.arrayContaining(['echo', 'shrug', adminCommand.trigger]));
    expect(ids(all)).toEqual([adminCommand.id, ownCommand.id, basic2Command.id].sort());
    for (const command of all) expect(command).toMatchObject({ token: '', url: '', method: '', creator_id: '', username: '', icon_url: '' });
    const custom = await as('admin', list).getCustomTeamCommands(list.teamId);
    expect(ids(custom)).toEqual([adminCommand.id, ownCommand.id, basic2Command.id].sort());
    expect(custom.find((command) => command.id === adminCommand.id)).toMatchObject({ token: adminCommand.token, url: adminCommand.url, method: 'P' });

    expect(await failure(as('basic', list).getCustomTeamCommands(list.teamId))).toEqual({ status: 403, id: 'api.context.permissions.app_error' });
    const basics = await as('basic', list).getCommandsList(list.teamId);
    expect(triggers(basics)).toContain('echo');
    // Only the custom commands with auto_complete, sanitized.
    expect(ids(basics)).toEqual([basic2Command.id]);
    expect(basics.find((command) => command.id === basic2Command.id)?.token).toBe('');
    expect((await failure(as('nonmember', list).getCommandsList(list.teamId))).status).toBe(403);
    expect((await failure(as('nonmember', list).getCustomTeamCommands(list.teamId))).status).toBe(403);
    expect((await raw('anonymous', 'GET', `/api/v4/commands?team_id=${list.teamId}`)).status).toBe(401);
    const missing = await raw('admin', 'GET', '/api/v4/commands');
    expect([missing.status, missing.json().id]).toEqual([400, 'api.context.invalid_body_param.app_error']);
    expect((await raw('admin', 'GET', `/api/v4/commands?team_id=${'z'.repeat(3000)}`)).status).toBe(200);
  });

  it('MG-56 filters to the caller\'s own commands for Own, in both modes; Others sees every one', async () => {
    expect(ids(await as('own', list).getCommandsList(list.teamId))).toEqual([ownCommand.id]);
    expect(ids(await as('own', list).getCustomTeamCommands(list.teamId))).toEqual([ownCommand.id]);
    expect(ids(await as('others', list).getCommandsList(list.teamId))).toEqual([adminCommand.id, ownCommand.id, basic2Command.id].sort());
    expect(ids(await as('others', list).getCustomTeamCommands(list.teamId))).toEqual([adminCommand.id, ownCommand.id, basic2Command.id].sort());
    expect(ids(await as('tadmin', list).getCustomTeamCommands(list.teamId))).toHaveLength(3);
  });

  it('MG-57 autocomplete lists built-ins and custom commands with auto_complete only (also for the admin); 403 for non-members, 401 without a session', async () => {
    for (const who of ['admin', 'basic'] as const) {
      const listed = await as(who, list).getAutocompleteCommandsList(list.teamId, 0, 60);
      expect(triggers(listed)).toEqual(expect.arrayContaining(['echo', 'shrug', basic2Command.trigger]));
      expect(ids(listed)).toEqual([basic2Command.id]);
    }
    expect((await failure(as('nonmember', list).getAutocompleteCommandsList(list.teamId, 0, 60))).status).toBe(403);
    expect((await raw('anonymous', 'GET', `/api/v4/teams/${list.teamId}/commands/autocomplete`)).status).toBe(401);
  });

  it('MG-57 suggests commands for what the user typed: "/" all of them, "/e" echo and not shrug; sorted, with hint and description', async () => {
    const suggest = (input: string) => as('basic', list).getCommandAutocompleteSuggestionsList(input, list.teamId, { channel_id: '', root_id: '' } as never);
    const all = (await suggest('/')) as unknown as Array<{ Complete: string; Suggestion: string; Hint: string; Description: string; IconData: string }>;
    const suggested = all.map((suggestion) => suggestion.Suggestion);
    expect(suggested).toEqual(expect.arrayContaining(['echo', 'shrug', basic2Command.trigger]));
    expect(suggested).toEqual([...suggested].sort((a, b) => a.localeCompare(b)));
    expect(all.find((suggestion) => suggestion.Suggestion === 'echo')).toMatchObject({ Complete: 'echo', IconData: '' });
    const e = ((await suggest('/e')) as unknown as Array<{ Suggestion: string }>).map((suggestion) => suggestion.Suggestion);
    expect(e).toContain('echo');
    expect(e).not.toContain('shrug');
    expect(e.every((trigger) => trigger.startsWith('e'))).toBe(true);
    expect(await suggest('/echo hello')).toEqual([]);
    const missingInput = await api.request('GET', `/api/v4/teams/${list.teamId}/commands/autocomplete_suggestions`, { headers: { authorization: `Bearer ${userOf('basic', list).token}` } });
    expect(missingInput.status).toBe(400);
    expect((await failure(as('nonmember', list).getCommandAutocompleteSuggestionsList('/', list.teamId, {} as never))).status).toBe(403);
  });
});

describe('get', () => {
  const get = (who: Who | 'anonymous', id: string) => raw(who, 'GET', `/api/v4/commands/${id}`);

  it('MG-58 answers the whole command to those who manage it; 404 to everyone else', async () => {
    const command = await commandOf();
    const got = await get('admin', command.id);
    expect(got.status).toBe(200);
    expect(got.json()).toEqual(command);
    expect((await get('admin', 'z'.repeat(26))).json().id).toBe('store.sql_command.save.get.app_error');
    expect((await get('basic', command.id)).status).toBe(404);
    expect((await get('nonmember', command.id)).status).toBe(404);
    expect((await get('anonymous', command.id)).status).toBe(401);
    const owns = await commandOf('own');
    const basic2s = await commandOf('basic2');
    expect((await get('own', owns.id)).status).toBe(200);
    expect((await get('own', basic2s.id)).status).toBe(404);
    expect((await get('others', owns.id)).status).toBe(200);
    expect((await get('others', basic2s.id)).status).toBe(200);
  });

  it('keeps POST /api/v4/commands/execute for execution, and GET /api/v4/commands/execute is a command id that is not one', async () => {
    const execute = await raw('admin', 'POST', '/api/v4/commands/execute', { command: '' });
    expect(execute.json().id).toBe('api.command.execute_command.start.app_error');
    const asId = await raw('admin', 'GET', '/api/v4/commands/execute');
    expect([asId.status, asId.json().id]).toEqual([400, 'api.context.invalid_url_param.app_error']);
  });
});

describe('regen_token', () => {
  const regen = (who: Who, id: string) => raw(who, 'PUT', `/api/v4/commands/${id}/regen_token`);

  it('MG-59 answers only the new token; 404 without rights; Own only its own (403); Others any', async () => {
    const command = await commandOf();
    const response = await regen('admin', command.id);
    expect(response.status).toBe(200);
    expect(Object.keys(response.json())).toEqual(['token']);
    expect(response.json().token).toMatch(/^[a-z0-9]{26}$/);
    expect(response.json().token).not.toBe(command.token);
    expect((await raw('admin', 'GET', `/api/v4/commands/${command.id}`)).json().token).toBe(response.json().token);
    const hidden = await regen('basic', command.id);
    expect([hidden.status, hidden.json().token]).toEqual([404, undefined]);
    const owns = await commandOf('own');
    const basic2s = await commandOf('basic2');
    expect((await as('own').regenCommandToken(owns.id)).token).not.toBe(owns.token);
    expect(await failure(as('own').regenCommandToken(basic2s.id))).toEqual({ status: 403, id: 'api.context.permissions.app_error' });
    expect((await as('others').regenCommandToken(basic2s.id)).token).not.toBe(basic2s.token);
    expect((await as('others').regenCommandToken(owns.id)).token).toMatch(/^[a-z0-9]{26}$/);
  });
});

describe('commands disabled', () => {
  it('answers 501 to create and custom_only lists, lists without custom commands, and hides every command behind 404', async () => {
    const command = await commandOf('admin', { auto_complete: true });
    const on = (method: string, path: string, body?: unknown) => raw('admin', method, path, body, disabledApi);
    expect((await on('GET', `/api/v4/commands?team_id=${m.teamId}&custom_only=true`)).status).toBe(501);
    const plain = await on('GET', `/api/v4/commands?team_id=${m.teamId}`);
    expect(plain.status).toBe(200);
    expect(plain.json().every((listed: ClientCommand) => listed.id === '')).toBe(true);
    expect(plain.json().map((listed: ClientCommand) => listed.trigger)).toContain('echo');
    for (const [method, path, body] of [
      ['GET', `/api/v4/commands/${command.id}`, undefined],
      ['PUT', `/api/v4/commands/${command.id}`, command],
      ['PUT', `/api/v4/commands/${command.id}/move`, { team_id: m.second.team.id }],
      ['PUT', `/api/v4/commands/${command.id}/regen_token`, undefined],
      ['DELETE', `/api/v4/commands/${command.id}`, undefined],
    ] as const) {
      const response = await on(method, path, body);
      expect([response.status, response.json().id], `${method} ${path}`).toEqual([404, 'store.sql_command.save.get.app_error']);
    }
    const autocomplete = await raw('admin', 'GET', `/api/v4/teams/${m.teamId}/commands/autocomplete`, undefined, disabledApi);
    expect(autocomplete.json().some((listed: ClientCommand) => listed.id === command.id)).toBe(false);
  });
});

describe('audit', () => {
  it('records every change with its outcome and actor, never the token', async () => {
    const sinceMs = Date.now() - 1000;
    const command = await commandOf();
    await as('admin').editCommand({ ...command, display_name: 'audited' });
    const { token } = await as('admin').regenCommandToken(command.id);
    expect((await raw('own', 'DELETE', `/api/v4/commands/${command.id}`)).status).toBe(403);
    expect((await raw('admin', 'PUT', `/api/v4/commands/${command.id}/move`, { team_id: m.second.team.id })).status).toBe(200);
    await as('admin').deleteCommand(command.id);
    const records = (await listAuditRecords(api.runtime, { sinceMs, limit: 1000 })).filter((record) => record.objectId === command.id).reverse();
    expect(records.map((record) => [record.event, record.status, record.actorName])).toEqual([
      ['createCommand', 'success', m.names.admin],
      ['updateCommand', 'success', m.names.admin],
      ['regenCommandToken', 'success', m.names.admin],
      ['deleteCommand', 'fail', m.names.own],
      ['moveCommand', 'success', m.names.admin],
      ['deleteCommand', 'success', m.names.admin],
    ]);
    expect(records.find((record) => record.status === 'fail')?.detail).toMatchObject({ error_id: 'api.context.permissions.app_error' });
    const text = JSON.stringify(records);
    for (const secret of [command.token, token]) expect(text).not.toContain(secret);
    const name = trigger();
    expect((await raw('basic', 'POST', '/api/v4/commands', { team_id: m.teamId, url: 'http://nowhere.com', method: 'P', trigger: name, token: 'q'.repeat(26) })).status).toBe(403);
    const refused = (await listAuditRecords(api.runtime, { sinceMs, limit: 1000 })).filter((record) => record.event === 'createCommand' && record.detail?.trigger === name);
    expect(refused.map((record) => [record.status, record.actorName, record.objectId, record.detail?.error_id])).toEqual([['fail', m.names.basic, '', 'api.context.permissions.app_error']]);
    expect(JSON.stringify(refused)).not.toContain('q'.repeat(26));
  });
});

describe('execution sees changes within ENTITY_CACHE_TTL_SECONDS', () => {
  const TTL_SECONDS = 1;
  let cached: Api;
  let server: CallbackServer;
  let world: World;

  beforeAll(async () => {
    cached = await startApi({ ENTITY_CACHE_TTL_SECONDS: String(TTL_SECONDS), ALLOWED_UNTRUSTED_INTERNAL_CONNECTIONS: '127.0.0.0/8' });
    server = await startCallbackServer((_request, _index, response) => replyJson(response, { text: 'ok' }));
    world = await seedWorld(cached.runtime, (names) => ({ users: [{ username: `${names.team}-admin`, roles: ['system_admin'], teams: [names.team], channels: [`${names.team}/town-square`] }] }));
  });
  afterAll(async () => {
    await cached?.close();
    await server?.close();
  });

  const admin = () => world.user(`${world.team.name}-admin`);
  const execute = (name: string) =>
    cached.postJson('/api/v4/commands/execute', { command: `/${name}`, channel_id: world.channel('town-square').id }, { authorization: `Bearer ${admin().token}` });
  /** Polls until `done`; answers how long it took. */
  async function within(boundMs: number, done: () => Promise<boolean>): Promise<number> {
    const startedMs = Date.now();
    while (!(await done())) {
      if (Date.now() - startedMs > boundMs) throw new Error(`not within ${boundMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return Date.now() - startedMs;
  }
  const create = () =>
    client4(cached.url, admin().token).addCommand({ team_id: world.team.id, trigger: trigger(), url: `${server.url}/command`, method: 'P' } as ClientCommand);

  it('stops executing a deleted command within the bound', async () => {
    const command = await create();
    expect((await execute(command.trigger)).status).toBe(200);
    await client4(cached.url, admin().token).deleteCommand(command.id);
    await within(TTL_SECONDS * 1000 + 500, async () => (await execute(command.trigger)).status === 404);
    const gone = await execute(command.trigger);
    expect(gone.json().id).toBe('api.command.execute_command.not_found.app_error');
  });

  it('sends the regenerated token within the bound', async () => {
    const command = await create();
    expect((await execute(command.trigger)).status).toBe(200);
    expect(new URLSearchParams(server.received.at(-1)!.body).get('token')).toBe(command.token);
    const { token } = await client4(cached.url, admin().token).regenCommandToken(command.id);
    await within(TTL_SECONDS * 1000 + 500, async () => {
      expect((await execute(command.trigger)).status).toBe(200);
      return new URLSearchParams(server.received.at(-1)!.body).get('token') === token;
    });
  });

  it('follows a renamed trigger within the bound', async () => {
    const command = await create();
    expect((await execute(command.trigger)).status).toBe(200);
    const renamed = await client4(cached.url, admin().token).editCommand({ ...command, trigger: trigger() });
    await within(TTL_SECONDS * 1000 + 500, async () => (await execute(command.trigger)).status === 404);
    expect((await execute(renamed.trigger)).status).toBe(200);
  });
});
