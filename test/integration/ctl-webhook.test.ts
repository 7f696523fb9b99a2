import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAuditRecords } from '../../lib/audit.js';
import { newId } from '../../lib/ids.js';
import { main as ctl } from '../../infra/ctl/cli.js';
import { client4, failure } from '../support/client4.js';
import { stackEnvironment, startApi, type Api } from '../support/harness.js';
import { seedHookWorld, type HookWorld } from '../support/hook-world.js';

/**
 * `npm run ctl -- webhook ...` against the test stage's tables on DynamoDB Local: once spawned as an
 * operator runs it, the rest in-process through the same entry. The API sees every change at once.
 */
let api: Api;
let world: HookWorld;

beforeAll(async () => {
  api = await startApi();
  world = await seedHookWorld(api.runtime);
  // The CLI targets a stage by name; the SDK's endpoint variable points it at DynamoDB Local.
  process.env.AWS_ENDPOINT_URL_DYNAMODB = stackEnvironment().DYNAMODB_ENDPOINT;
});
afterAll(() => api?.close());

/** Runs the ctl entry in-process on the test stage: exit code, stdout lines, stderr lines. */
async function run(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await ctl(['webhook', ...args, '--stage', 'test'], { out: (text) => out.push(text), err: (text) => err.push(text) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const admin = () => client4(api.url, world.user(world.names.admin).token);
const channelRef = (name: string) => `${world.team.name}:${name}`;

describe('npm run ctl -- webhook', () => {
  it('create-incoming, spawned as an operator runs it: the hook exists for the API at once', async () => {
    const environment = stackEnvironment();
    const result = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        'npx',
        ['tsx', 'infra/ctl/cli.ts', 'webhook', 'create-incoming', '--channel', channelRef('town-square'), '--user', world.user('creator').username, '--display-name', 'from cli', '--json', '--stage', 'test'],
        { env: { ...process.env, AWS_ENDPOINT_URL_DYNAMODB: environment.DYNAMODB_ENDPOINT, AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local', HOOKLINE_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'ctl-')) } },
        (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
      );
    });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const hook = JSON.parse(result.stdout);
    expect(hook).toMatchObject({ channel_id: world.channel('town-square').id, user_id: world.user('creator').id, display_name: 'from cli', team_id: world.team.id });
    // The operator may unlock, as Mattermost's local mode.
    expect(hook.channel_locked).toBe(false);
    expect(await admin().getIncomingWebhook(hook.id)).toEqual(hook);
  }, 60_000);

  it('creates, shows, modifies, lists and deletes an incoming hook with the API\'s rules', async () => {
    const created = await run('create-incoming', '--channel', world.channel('off-topic').id, '--user', world.user('other').id, '--lock-to-channel', '--json');
    expect(created.code, created.err).toBe(0);
    const hook = JSON.parse(created.out);
    expect(hook.channel_locked).toBe(true);
    const text = await run('create-incoming', '--channel', channelRef('off-topic'), '--user', world.user('other').username);
    expect(text.out).toMatch(/^Created incoming webhook [a-z0-9]{26}: POST .*\/hooks\/[a-z0-9]{26}$/);
    expect(JSON.parse((await run('show', hook.id, '--json')).out)).toEqual(hook);
    const modified = await run('modify-incoming', hook.id, '--display-name', 'renamed', '--channel', channelRef('town-square'), '--lock-to-channel', 'false', '--json');
    expect(modified.code, modified.err).toBe(0);
    expect(JSON.parse(modified.out)).toMatchObject({ id: hook.id, display_name: 'renamed', channel_id: world.channel('town-square').id, channel_locked: false, user_id: world.user('other').id });
    expect((await admin().getIncomingWebhook(hook.id)).display_name).toBe('renamed');
    const listed = JSON.parse((await run('list', world.team.name, '--json')).out);
    expect(listed.incoming_webhooks.map((listedHook: { id: string }) => listedHook.id)).toContain(hook.id);
    expect((await run('delete', hook.id)).code).toBe(0);
    expect(await failure(admin().getIncomingWebhook(hook.id))).toMatchObject({ status: 404 });
    const again = await run('delete', hook.id);
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/app\.webhooks\.get_incoming\.app_error/);
  });

  it('creates, modifies, regenerates, rotates and deletes an outgoing hook', async () => {
    const created = await run(
      'create-outgoing', '--team', world.team.name, '--channel', 'town-square', '--user', world.user('creator').username,
      '--trigger-word', 'deploy', '--trigger-word', 'ship', '--trigger-when', 'start', '--url', 'https://ci.example.com/a', '--url', 'https://ci.example.com/b',
      '--content-type', 'application/json', '--display-name', 'cli out', '--json',
    );
    expect(created.code, created.err).toBe(0);
    const hook = JSON.parse(created.out);
    expect(hook).toMatchObject({ trigger_words: ['deploy', 'ship'], trigger_when: 1, callback_urls: ['https://ci.example.com/a', 'https://ci.example.com/b'], creator_id: world.user('creator').id, channel_id: world.channel('town-square').id });
    expect(hook.signing_secret).toMatch(/^whsec_/);
    const modified = JSON.parse((await run('modify-outgoing', hook.id, '--url', 'https://ci.example.com/c', '--trigger-when', 'exact', '--json')).out);
    expect(modified).toMatchObject({ callback_urls: ['https://ci.example.com/c'], trigger_words: ['deploy', 'ship'], trigger_when: 0, token: hook.token });
    const regenerated = JSON.parse((await run('regen-token', hook.id, '--json')).out);
    expect(regenerated.token).not.toBe(hook.token);
    expect((await admin().getOutgoingWebhook(hook.id)).token).toBe(regenerated.token);
    const rotated = JSON.parse((await run('rotate-signing-secret', hook.id, '--json')).out);
    expect(rotated.signing_secret).toMatch(/^whsec_/);
    expect(rotated.signing_secret).not.toBe(hook.signing_secret);
    expect(JSON.parse((await run('show', hook.id, '--json')).out).token).toBe(regenerated.token);
    expect((await run('delete', hook.id)).code).toBe(0);
    expect(await failure(admin().getOutgoingWebhook(hook.id))).toMatchObject({ status: 404 });
  });

  it('refuses what the API refuses (exit 1, the reason on stderr) and usage mistakes (exit 2)', async () => {
    const badUrl = await run('create-outgoing', '--team', world.team.id, '--user', world.user('creator').id, '--trigger-word', 'x', '--url', 'nowhere.com/');
    expect(badUrl.code).toBe(1);
    expect(badUrl.err).toMatch(/model\.outgoing_hook\.is_valid\.url\.app_error/);
    const privateChannel = await run('create-outgoing', '--team', world.team.name, '--channel', 'private', '--user', world.user('creator').id, '--url', 'https://x.example.com');
    expect([privateChannel.code, privateChannel.err]).toEqual([1, expect.stringMatching(/403/)]);
    const unknownChannel = await run('create-incoming', '--channel', channelRef('nowhere'), '--user', world.user('creator').id);
    expect([unknownChannel.code, unknownChannel.err]).toEqual([1, expect.stringMatching(/Unable to find channel "[^"]+:nowhere"/)]);
    const unknownHook = await run('show', newId());
    expect([unknownHook.code, unknownHook.err]).toEqual([1, expect.stringMatching(/app\.webhooks\.get_incoming\.app_error/)]);
    expect((await run('create-incoming', '--channel', channelRef('town-square'))).code).toBe(2);
    expect((await run('create-incoming', '--bogus-flag'))).toMatchObject({ code: 2 });
    expect((await run('frobnicate')).code).toBe(2);
    expect(await run('modify-outgoing', newId(), '--trigger-when', 'exact')).toMatchObject({ code: 1, err: expect.stringMatching(/app\.webhooks\.get_outgoing\.app_error/) });
  });

  it('audits each change as the operator, from the command line', async () => {
    const sinceMs = Date.now() - 1;
    const created = JSON.parse((await run('create-outgoing', '--team', world.team.name, '--user', world.user('creator').id, '--trigger-word', 'audit', '--url', 'https://audit.example.com', '--json')).out);
    await run('delete', created.id);
    const records = (await listAuditRecords(api.runtime, { sinceMs, limit: 100_000 })).filter((record) => record.objectId === created.id).reverse();
    expect(records.map((record) => [record.event, record.status, record.actorName])).toEqual([
      ['createOutgoingHook', 'success', 'operator'],
      // delete tries the incoming hook first, as mmctl does; the outgoing one is found next.
      ['deleteOutgoingHook', 'success', 'operator'],
    ]);
    expect(records[0]!.origin).toMatch(/^cli:/);
  });
});
