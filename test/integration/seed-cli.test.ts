import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { documentClient } from '../../lib/store/dynamo.js';
import { stackEnvironment, testRuntime, uniqueName } from '../support/harness.js';

/**
 * `npm run seed` itself, spawned against the test stack's tables: `--stage test` picks the table
 * `hookline-test-entities`, and the AWS SDK's AWS_ENDPOINT_URL_DYNAMODB points it at DynamoDB Local.
 */
const environment = stackEnvironment();
const store = testRuntime().entities;
const directory = mkdtempSync(path.join(tmpdir(), 'seed-cli-'));

function run(args: string[]) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      'npx',
      ['tsx', 'infra/seed/cli.ts', ...args, '--stage', 'test'],
      { env: { ...process.env, AWS_ENDPOINT_URL_DYNAMODB: environment.DYNAMODB_ENDPOINT, AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' } },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

function writeSeed(name: string, document: unknown): string {
  const file = path.join(directory, name);
  writeFileSync(file, stringify(document));
  return file;
}

function teamDocument(team = uniqueName('cli')) {
  const alice = `${team}-alice`;
  return {
    teams: [{ name: team }],
    channels: [{ team, name: 'town-square' }],
    users: [
      { username: alice, token: `${team}-alice-token-0123456789`, teams: [team], channels: [`${team}/town-square`] },
      { username: `${team}-bob`, teams: [team], channels: [`${team}/town-square`] },
    ],
    incoming_webhooks: [{ key: 'ci', team, channel: 'town-square', creator: alice, display_name: 'CI' }],
    outgoing_webhooks: [{ key: 'builder', team, channel: 'town-square', creator: alice, trigger_words: ['build'], callback_urls: ['https://ci.example.com/hook'] }],
    commands: [{ key: 'deploy', team, trigger: 'deploy', url: 'https://ops.example.com/deploy', creator: alice }] as Record<string, unknown>[],
  };
}

/** The items of the shared table that mention one of `ids`, for before-and-after comparisons. */
async function itemsMentioning(ids: string[]) {
  const db = documentClient({ endpoint: environment.DYNAMODB_ENDPOINT, region: 'us-east-1' });
  const items: Record<string, unknown>[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await db.send(new ScanCommand({ TableName: environment.TABLE_ENTITIES, ExclusiveStartKey: startKey, ConsistentRead: true }));
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items.filter((item) => ids.some((id) => JSON.stringify(item).includes(id))).sort((a, b) => `${a.PK}${a.SK}`.localeCompare(`${b.PK}${b.SK}`));
}

// Each run starts tsx, a second or two; a busy machine needs more than the default 30 s per test.
describe('npm run seed', { timeout: 90_000 }, () => {
  it('targets the test stack table', () => {
    expect(environment.TABLE_ENTITIES).toBe('hookline-test-entities');
  });

  it('prints secrets only in the run that creates them, or all known ones with --show-secrets', async () => {
    const document = teamDocument();
    const file = writeSeed('secrets.yaml', document);
    const first = await run([file]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/^seed plan for .*secrets\.yaml: \d+ to create/);
    const created = JSON.parse(first.stdout);
    expect(created.users.map((user: { token: string | null }) => user.token)).toEqual([document.users[0]!.token, expect.stringMatching(/^[a-z0-9]{52}$/)]);
    expect(created.outgoing_webhooks[0]).toMatchObject({ token: expect.stringMatching(/^[a-z0-9]{26}$/), signing_secret: expect.stringMatching(/^whsec_/) });
    expect(created.commands[0]).toMatchObject({ token: expect.stringMatching(/^[a-z0-9]{26}$/), signing_secret: expect.stringMatching(/^whsec_/) });
    // The plan names what changes, never a secret's value.
    expect(first.stderr).not.toContain(created.outgoing_webhooks[0].signing_secret);
    expect(first.stderr).not.toContain(document.users[0]!.token);

    const again = await run([file]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain('no changes');
    const quiet = JSON.parse(again.stdout);
    expect(quiet.written_items).toBe(0);
    expect(quiet.users.map((user: { token: string | null }) => user.token)).toEqual([null, null]);
    expect(quiet.outgoing_webhooks[0]).toMatchObject({ token: null, signing_secret: null });
    expect(quiet.commands[0]).toMatchObject({ token: null, signing_secret: null });
    expect(quiet.action_signing_secret).toBeNull();
    for (const secret of [created.outgoing_webhooks[0].token, created.outgoing_webhooks[0].signing_secret, created.commands[0].signing_secret, created.users[1].token]) {
      expect(again.stdout).not.toContain(secret);
    }

    const shown = JSON.parse((await run([file, '--show-secrets'])).stdout);
    // User tokens are stored only as hashes: a generated one cannot be shown again.
    expect(shown.users.map((user: { token: string | null }) => user.token)).toEqual([document.users[0]!.token, null]);
    expect(shown.outgoing_webhooks[0]).toMatchObject({ token: created.outgoing_webhooks[0].token, signing_secret: created.outgoing_webhooks[0].signing_secret });
    expect(shown.commands[0]).toMatchObject({ token: created.commands[0].token, signing_secret: created.commands[0].signing_secret });
    expect(shown.action_signing_secret).toBe(await store.getActionSigningSecret());

    const rotated = JSON.parse((await run([writeSeed('rotated.yaml', { ...document, commands: [{ ...document.commands[0], token: 'r'.repeat(26) }] })])).stdout);
    expect(rotated.commands[0]).toMatchObject({ token: 'r'.repeat(26), signing_secret: null });
  });

  it('--dry-run prints the plan and writes nothing; --prune then applies it', async () => {
    const document = teamDocument();
    const first = await run([writeSeed('base.yaml', document)]);
    expect(first.code, first.stderr).toBe(0);
    const created = JSON.parse(first.stdout);
    const ids = [created.teams[0].id, created.channels[0].id, ...created.users.map((user: { id: string }) => user.id)];
    const before = await itemsMentioning(ids);

    const team = document.teams[0]!.name;
    const changed = writeSeed('changed.yaml', { ...document, commands: [], incoming_webhooks: [{ ...document.incoming_webhooks[0], display_name: 'Renamed' }] });
    const dry = await run([changed, '--dry-run', '--prune']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toBe('');
    expect(dry.stderr).toContain(`update incoming_webhook ${team}/town-square "Renamed" (id ${created.incoming_webhooks[0].id}): display_name: "CI" -> "Renamed"`);
    expect(dry.stderr).toContain(`delete command ${team} /deploy (id ${created.commands[0].id})`);
    expect(dry.stderr).toContain('dry run: nothing written');
    expect(await itemsMentioning(ids)).toEqual(before);

    const pruned = await run([changed, '--prune']);
    expect(pruned.code, pruned.stderr).toBe(0);
    expect(pruned.stderr).toContain(`delete command ${team} /deploy`);
    expect(JSON.parse(pruned.stdout).written_items).toBeGreaterThan(0);
    expect((await store.getCommand(created.commands[0].id))?.delete_at).toBeGreaterThan(0);
    expect((await store.getIncomingWebhook(created.incoming_webhooks[0].id))?.display_name).toBe('Renamed');
  });

  it('exports a team without secrets to a file that applies with 0 writes; --with-secrets includes them', async () => {
    const document = teamDocument();
    const created = JSON.parse((await run([writeSeed('export-base.yaml', document)])).stdout);
    const team = document.teams[0]!.name;
    const out = path.join(directory, 'exported.yaml');
    const exported = await run(['export', '--team', team, '--out', out]);
    expect(exported.code, exported.stderr).toBe(0);
    const text = readFileSync(out, 'utf8');
    expect(text).toContain(`name: ${team}`);
    expect(text).toContain(created.commands[0].id);
    for (const secret of [created.outgoing_webhooks[0].token, created.outgoing_webhooks[0].signing_secret, created.commands[0].token, created.commands[0].signing_secret, created.users[1].token, document.users[0]!.token]) {
      expect(text).not.toContain(secret);
    }

    const reapplied = await run([out, '--prune']);
    expect(reapplied.code, reapplied.stderr).toBe(0);
    expect(reapplied.stderr).toContain('no changes');
    expect(JSON.parse(reapplied.stdout).written_items).toBe(0);

    const withSecrets = await run(['export', '--team', team, '--with-secrets']);
    expect(withSecrets.code, withSecrets.stderr).toBe(0);
    expect(withSecrets.stdout).toContain(created.outgoing_webhooks[0].signing_secret);
    expect(withSecrets.stdout).toContain(created.commands[0].token);
    expect(withSecrets.stdout).not.toContain(document.users[0]!.token);

    const misplaced = await run(['export', '--prune']);
    expect(misplaced.code).toBe(2);
    expect(misplaced.stderr).toContain('not an option of export: --prune');

    const unknown = await run(['export', '--team', `${team}-missing`]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain(`unknown team: ${team}-missing`);
  });
});
