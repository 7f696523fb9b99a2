import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { listAuditRecords } from '../../lib/audit.js';
import { operatorCaller } from '../../lib/permissions.js';
import type { Runtime } from '../../lib/runtime.js';
import { main as ctl } from '../../infra/ctl/cli.js';
import { tokenGroup } from '../../infra/ctl/token.js';
import { UsageError, type CtlContext } from '../../infra/ctl/context.js';
import { client4, failure } from '../support/client4.js';
import { stackEnvironment, startApi, withApiAndWorlds, type Api, type World } from '../support/harness.js';

/**
 * `npm run ctl -- token ...`: create prints the token once, list shows a user's tokens without
 * secrets, revoke deletes one; by username or id, as text or JSON; the operator passes every
 * permission check but not ENABLE_USER_ACCESS_TOKENS. Run in-process through the group's entry,
 * and once as the real command (`npx tsx infra/ctl/cli.ts`) against the test stage's tables.
 */
let api: Api;
let world: World;

withApiAndWorlds(1, (started, [seeded]) => ([api, world] = [started, seeded!]));

/** Runs `token ...` in-process as the operator; answers the exit code and what it printed. */
async function tokenCommand(args: string[], options: { json?: boolean; runtime?: Runtime } = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const context: CtlContext = {
    runtime: options.runtime ?? api.runtime,
    caller: operatorCaller('tester'),
    json: options.json ?? false,
    siteUrl: '',
    out: (text) => out.push(text),
    err: (text) => err.push(text),
  };
  const code = await tokenGroup.run(args, context);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('ctl token', () => {
  it('creates a token for a user named by username, prints it once, and the token works', async () => {
    const other = world.user('other');
    const before = Date.now();
    const created = await tokenCommand(['create', other.username, '--description', 'deploy bot']);
    expect(created.code).toBe(0);
    const [token, note] = created.out.split('\n');
    expect(token).toMatch(/^[a-z0-9]{26}$/);
    expect(note).toMatch(/^\(token id [a-z0-9]{26} for .+; the token is shown only this once\)$/);
    expect((await client4(api.url, token!).getMe()).id).toBe(other.id);
    // The operator's change is audited as the CLI's.
    const tokenId = /token id ([a-z0-9]{26})/.exec(note!)![1]!;
    const records = (await listAuditRecords(api.runtime, { sinceMs: before, limit: 10_000 })).filter((record) => record.objectId === tokenId);
    expect(records).toMatchObject([{ event: 'createUserAccessToken', status: 'success', actorName: 'operator', origin: 'cli:tester' }]);
    expect(JSON.stringify(records)).not.toContain(token);
  });

  it('lists and revokes by id, as text and as JSON', async () => {
    const creator = world.user('creator');
    const made = JSON.parse((await tokenCommand(['create', creator.id, '--description', 'json one', '--expires-at', '2099-01-01T00:00:00Z'], { json: true })).out);
    expect(made).toMatchObject({ user_id: creator.id, description: 'json one', is_active: true, expires_at: Date.parse('2099-01-01T00:00:00Z') });
    expect(made.token).toMatch(/^[a-z0-9]{26}$/);
    const text = await tokenCommand(['list', creator.username]);
    expect(text.code).toBe(0);
    expect(text.out).toMatch(new RegExp(`^${made.id}  active    expires 2099-01-01T00:00:00.000Z  "json one"$`, 'm'));
    // The seed's own token is listed too; no secret is.
    expect(text.out).toMatch(/never expires {2}"seed"$/m);
    expect(text.out).not.toContain(made.token);
    const listed = JSON.parse((await tokenCommand(['list', creator.username], { json: true })).out);
    expect(listed.map((token: { id: string }) => token.id)).toContain(made.id);
    expect(listed.every((token: object) => !('token' in token))).toBe(true);
    const revoked = await tokenCommand(['revoke', made.id]);
    expect(revoked).toMatchObject({ code: 0, out: `revoked ${made.id}` });
    expect(await failure(client4(api.url, made.token).getMe())).toEqual({ status: 401, id: 'api.context.session_expired.app_error' });
    expect(JSON.parse((await tokenCommand(['list', creator.username], { json: true })).out).map((token: { id: string }) => token.id)).not.toContain(made.id);
  });

  it('refuses: an unknown token (an AppError), usage mistakes, and create with tokens switched off', async () => {
    await expect(tokenCommand(['revoke', 'aaaaaaaaaaaaaaaaaaaaaaaaaa'])).rejects.toMatchObject({ id: 'app.user_access_token.get_by_user.app_error', statusCode: 404 });
    await expect(tokenCommand(['create', world.user('other').username])).rejects.toBeInstanceOf(UsageError);
    await expect(tokenCommand(['create', 'nobody-at-all', '--description', 'x'])).rejects.toThrow(/unknown user "nobody-at-all"/);
    await expect(tokenCommand(['create', world.user('other').username, '--description', 'x', '--expires-at', 'tomorrowish'])).rejects.toThrow(/not an ISO 8601 date/);
    await expect(tokenCommand(['create', world.user('other').username, '--description', 'x', '--expires-at', '2001-01-01'])).rejects.toMatchObject({ id: 'app.user_access_token.expires_at_in_past.app_error' });
    await expect(tokenCommand(['rotate', 'x'])).rejects.toThrow(/unknown subcommand "rotate"/);
    const off = await startApi({ ENABLE_USER_ACCESS_TOKENS: 'false' });
    try {
      await expect(tokenCommand(['create', world.user('other').username, '--description', 'x'], { runtime: off.runtime })).rejects.toMatchObject({ id: 'app.user_access_token.disabled', statusCode: 501 });
    } finally {
      await off.close();
    }
  });

  it('runs as `npx tsx infra/ctl/cli.ts token ...` against a stage', async () => {
    const environment = stackEnvironment();
    const run = (args: string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        execFile(
          'npx',
          ['tsx', 'infra/ctl/cli.ts', 'token', ...args, '--stage', 'test'],
          {
            // The CLI targets a stage by name; the SDK's endpoint variable points it at DynamoDB Local.
            env: { ...process.env, AWS_ENDPOINT_URL_DYNAMODB: environment.DYNAMODB_ENDPOINT, AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local', HOOKLINE_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'ctl-')) },
          },
          (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
        );
      });
    const outsider = world.user('outsider');
    const created = await run(['create', outsider.username, '--description', 'spawned', '--json']);
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    const token = JSON.parse(created.stdout);
    expect((await client4(api.url, token.token).getMe()).id).toBe(outsider.id);
    const revoked = await run(['revoke', token.id]);
    expect([revoked.code, revoked.stdout.trim()]).toEqual([0, `revoked ${token.id}`]);
  }, 120_000);

  it('answers exit code 1 for a refusal and 2 for a usage mistake through the entry', async () => {
    const lines: string[] = [];
    const io = { out: (text: string) => lines.push(text), err: (text: string) => lines.push(text) };
    const previous = process.env.AWS_ENDPOINT_URL_DYNAMODB;
    process.env.AWS_ENDPOINT_URL_DYNAMODB = stackEnvironment().DYNAMODB_ENDPOINT;
    try {
      expect(await ctl(['token', 'revoke', 'aaaaaaaaaaaaaaaaaaaaaaaaaa', '--stage', 'test'], io)).toBe(1);
      expect(lines.join('\n')).toMatch(/app\.user_access_token\.get_by_user\.app_error, 404/);
      lines.length = 0;
      expect(await ctl(['token', 'list', '--stage', 'test'], io)).toBe(2);
      expect(lines.join('\n')).toMatch(/usage: npm run ctl -- token create USER/);
    } finally {
      if (previous === undefined) delete process.env.AWS_ENDPOINT_URL_DYNAMODB;
      else process.env.AWS_ENDPOINT_URL_DYNAMODB = previous;
    }
  });
});
