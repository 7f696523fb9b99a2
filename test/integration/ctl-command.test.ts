import { execFile } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { listAuditRecords } from '../../lib/audit.js';
import { main } from '../../infra/ctl/cli.js';
import { seedWorld, stackEnvironment, testRuntime, uniqueName, type World } from '../support/harness.js';

/**
 * `npm run ctl -- command ...` against the test stack's tables (`--stage test`, DynamoDB Local):
 * in-process through the entry's `main`, and once spawned as the operator runs it.
 */
const environment = stackEnvironment();
const runtime = testRuntime();
let world: World;
let second: World;

beforeAll(async () => {
  // The entry reads the target from the environment, as a deployed stage's credentials would come.
  Object.assign(process.env, { DYNAMODB_ENDPOINT: environment.DYNAMODB_ENDPOINT, AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local', USER: 'ops-tester' });
  world = await seedWorld(runtime);
  second = await seedWorld(runtime);
});

async function ctl(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main([...args, '--stage', 'test'], { out: (text) => out.push(text), err: (text) => err.push(text) });
  return { code, stdout: out.join('\n'), stderr: err.join('\n'), json: () => JSON.parse(out.join('\n')) };
}

const create = (trigger: string, ...extra: string[]) =>
  ctl('command', 'create', world.team.name, '--trigger-word', trigger, '--url', 'https://ops.example.com/deploy', '--creator', world.user('creator').username, ...extra, '--json');

describe('ctl command', () => {
  it('creates with mmctl\'s flags, shows, lists and modifies through the API\'s rules', async () => {
    const trigger = uniqueName('Deploy');
    const created = await create(trigger, '--title', 'Deploy', '--description', 'Ships it', '--response-username', 'deployer', '--icon', 'https://ops.example.com/i.png', '--autocomplete', '--autocompleteDesc', 'Ship a build', '--autocompleteHint', '[build]', '--post');
    expect(created.code, created.stderr).toBe(0);
    const command = created.json();
    expect(command).toMatchObject({
      trigger: trigger.toLowerCase(),
      team_id: world.team.id,
      creator_id: world.user('creator').id,
      method: 'P',
      display_name: 'Deploy',
      description: 'Ships it',
      username: 'deployer',
      icon_url: 'https://ops.example.com/i.png',
      auto_complete: true,
      auto_complete_desc: 'Ship a build',
      auto_complete_hint: '[build]',
    });
    expect(command.token).toMatch(/^[a-z0-9]{26}$/);
    expect((await runtime.entities.getCommand(command.id))?.trigger).toBe(trigger.toLowerCase());

    const shown = await ctl('command', 'show', command.id, '--json');
    expect(shown.json()).toEqual(command);
    const listed = await ctl('command', 'list', world.team.name);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(`${command.id}: /${command.trigger} "Deploy"`);
    expect((await ctl('command', 'list', world.team.id, '--json')).json().map((entry: { id: string }) => entry.id)).toContain(command.id);

    const modified = await ctl('command', 'modify', command.id, '--url', 'https://ops.example.com/v2', '--no-post', '--no-autocomplete', '--json');
    expect(modified.code, modified.stderr).toBe(0);
    expect(modified.json()).toMatchObject({ id: command.id, url: 'https://ops.example.com/v2', method: 'G', auto_complete: false, trigger: command.trigger, display_name: 'Deploy', token: command.token });
  });

  it('moves, regenerates the token and deletes; a deleted command is not found', async () => {
    const command = (await create(uniqueName('move'))).json();
    // The creator must be able to manage commands in the target team: a system admin created there.
    const admin = await seedWorld(runtime, (names) => ({ users: [{ username: `${names.team}-root`, roles: ['system_admin'], teams: [] }] }));
    const owned = (await ctl('command', 'create', second.team.name, '--trigger-word', uniqueName('own'), '--url', 'https://a.example', '--creator', admin.user(`${admin.team.name}-root`).username, '--json')).json();
    const moved = await ctl('command', 'move', world.team.name, owned.id);
    expect(moved.code, moved.stderr).toBe(0);
    expect(moved.stdout).toContain(`to team ${world.team.name}`);
    expect((await runtime.entities.getCommand(owned.id))?.team_id).toBe(world.team.id);
    // The creator of the first is a plain member, with no right to commands in the second team.
    const refused = await ctl('command', 'move', second.team.name, command.id);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('api.command.move_command.creator_no_permission.app_error');

    const regenerated = await ctl('command', 'regen-token', command.id, '--json');
    expect(regenerated.json().token).toMatch(/^[a-z0-9]{26}$/);
    expect(regenerated.json().token).not.toBe(command.token);
    expect((await runtime.entities.getIntegrationSecrets('COMMAND', command.id))?.token).toBe(regenerated.json().token);

    expect((await ctl('command', 'delete', command.id)).stdout).toBe(`deleted command ${command.id}`);
    const gone = await ctl('command', 'show', command.id);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('store.sql_command.save.get.app_error');
  });

  it('refuses what the API refuses (exit 1) and command-line mistakes (exit 2), on stderr', async () => {
    const builtIn = await create('echo');
    expect([builtIn.code, builtIn.stdout]).toEqual([1, '']);
    expect(builtIn.stderr).toContain('api.command.duplicate_trigger.app_error');
    const badUrl = await ctl('command', 'create', world.team.name, '--trigger-word', uniqueName('u'), '--url', 'ftp://x', '--creator', world.user('creator').username);
    expect([badUrl.code, badUrl.stderr]).toEqual([1, expect.stringContaining('model.command.is_valid.url_http.app_error')]);
    for (const args of [
      ['command', 'create', world.team.name, '--trigger-word', 'x', '--creator', world.user('creator').username],
      ['command', 'create', `nope-${world.team.name}`, '--trigger-word', 'x', '--url', 'https://a.example', '--creator', world.user('creator').username],
      ['command', 'create', world.team.name, '--trigger-word', 'x', '--url', 'https://a.example', '--creator', 'nobody-at-all'],
      ['command', 'modify', 'a'.repeat(26), '--creator', 'someone'],
      ['command', 'show'],
      ['command', 'frobnicate'],
      ['command', 'create', world.team.name, '--bogus'],
    ]) {
      const result = await ctl(...args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr, args.join(' ')).toContain('usage:');
    }
    expect((await ctl('command', 'show', 'junk')).stderr).toContain('api.context.invalid_url_param.app_error');
  });

  it('audits its changes as the operator, from cli:<os user>', async () => {
    const sinceMs = Date.now() - 1000;
    const command = (await create(uniqueName('audit'))).json();
    await ctl('command', 'delete', command.id);
    const records = (await listAuditRecords(runtime, { sinceMs, limit: 1000 })).filter((record) => record.objectId === command.id).reverse();
    expect(records.map((record) => [record.event, record.status, record.actorName, record.origin])).toEqual([
      ['createCommand', 'success', 'operator', 'cli:ops-tester'],
      ['deleteCommand', 'success', 'operator', 'cli:ops-tester'],
    ]);
  });

  it('runs as the operator runs it: npx tsx infra/ctl/cli.ts command ...', async () => {
    const trigger = uniqueName('spawned');
    const result = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        'npx',
        ['tsx', 'infra/ctl/cli.ts', 'command', 'create', world.team.name, '--trigger-word', trigger, '--url', 'https://a.example/x', '--creator', world.user('creator').username, '--stage', 'test', '--json'],
        { env: { ...process.env, DYNAMODB_ENDPOINT: environment.DYNAMODB_ENDPOINT, AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' } },
        (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
      );
    });
    expect(result.code, result.stderr).toBe(0);
    const command = JSON.parse(result.stdout);
    expect(command).toMatchObject({ trigger, method: 'G', team_id: world.team.id });
    expect((await runtime.entities.getCommand(command.id))?.url).toBe('https://a.example/x');
  }, 60_000);
});
