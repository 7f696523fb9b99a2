import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { hashToken } from '../../lib/ids.js';
import { applySeed, parseSeedFile, SeedValidationError } from '../../lib/seed/seed.js';
import { documentClient } from '../../lib/store/dynamo.js';
import { keys } from '../../lib/store/keys.js';
import { stackEnvironment, testRuntime, uniqueName } from '../support/harness.js';

function seedText(team: string, extra = '') {
  return `
teams:
  - name: ${team}
    display_name: Seeded
channels:
  - { team: ${team}, name: town-square, display_name: Town Square, type: O }
  - { team: ${team}, name: secret, type: P }
users:
  - username: ${team}-alice
    teams: [${team}]
    channels: [${team}/town-square, ${team}/secret]
  - username: ${team}-bob
    token: ${team}-bobs-personal-access-token
    teams: [${team}]
    channels: [${team}/town-square]
incoming_webhooks:
  - { team: ${team}, channel: town-square, creator: ${team}-alice, display_name: CI, username: ci-bot }
outgoing_webhooks:
  - team: ${team}
    channel: town-square
    creator: ${team}-alice
    display_name: builds
    trigger_words: [build]
    callback_urls: [https://ci.example.com/hook]
    content_type: application/json
commands:
  - { team: ${team}, trigger: Deploy, url: "https://ops.example.com/deploy", method: P, creator: ${team}-alice, auto_complete: true }
${extra}`;
}

async function itemsOfTable(tableName: string) {
  const environment = stackEnvironment();
  const db = documentClient({ endpoint: environment.DYNAMODB_ENDPOINT, region: 'us-east-1' });
  const items: Record<string, unknown>[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await db.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey: startKey, ConsistentRead: true }));
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items.sort((a, b) => `${a.PK}${a.SK}`.localeCompare(`${b.PK}${b.SK}`));
}

describe('seed', () => {
  it('creates every entity, reports ids, URLs, tokens and secrets, and changes nothing on a second run', async () => {
    const runtime = testRuntime();
    const team = uniqueName('seed');
    const options = { store: runtime.entities, siteUrl: 'https://chat.example.com' };
    const first = await applySeed('seed.yaml', parseSeedFile('seed.yaml', seedText(team)), options);
    expect(first.written_items).toBeGreaterThan(0);
    const alice = first.users.find((user) => user.username === `${team}-alice`)!;
    expect(alice.token).toMatch(/^[a-z0-9]{52}$/);
    expect(first.users.find((user) => user.username === `${team}-bob`)!.token).toBe(`${team}-bobs-personal-access-token`);
    expect(first.incoming_webhooks[0]!.url).toBe(`https://chat.example.com/hooks/${first.incoming_webhooks[0]!.id}`);
    expect(first.outgoing_webhooks[0]!.token).toMatch(/^[a-z0-9]{26}$/);
    expect(first.outgoing_webhooks[0]!.signing_secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(first.commands[0]).toMatchObject({ trigger: 'deploy' });

    // Tokens are stored only as hashes.
    const tokenOwner = await runtime.entities.getRaw(keys.userToken(hashToken(alice.token!)));
    expect(tokenOwner?.target_id).toBe(alice.id);
    const everything = await itemsOfTable(runtime.config.tables.entities);
    expect(JSON.stringify(everything)).not.toContain(alice.token);
    // Other test files write to the same table at the same time: compare only this run's items.
    const ids = [first.teams[0]!.id, ...first.channels.map((channel) => channel.id), ...first.users.map((user) => user.id), first.incoming_webhooks[0]!.id, first.outgoing_webhooks[0]!.id, first.commands[0]!.id];
    const ours = (items: Record<string, unknown>[]) => items.filter((item) => ids.some((id) => JSON.stringify(item).includes(id)));
    const before = ours(everything);
    expect(before.length).toBeGreaterThan(15);

    const second = await applySeed('seed.yaml', parseSeedFile('seed.yaml', seedText(team)), { ...options, nowMs: Date.now() + 60_000 });
    expect(second.written_items).toBe(0);
    expect(second.users.find((user) => user.username === `${team}-alice`)!.token).toBeNull();
    expect(second.incoming_webhooks[0]!.id).toBe(first.incoming_webhooks[0]!.id);
    // Secrets are shown only by the run that creates them.
    expect(second.outgoing_webhooks[0]).toEqual({ ...first.outgoing_webhooks[0], token: null, signing_secret: null });
    expect(second.commands[0]).toEqual({ ...first.commands[0], token: null, signing_secret: null });
    expect(ours(await itemsOfTable(runtime.config.tables.entities))).toEqual(before);
  });

  it('updates what changed and keeps generated ids', async () => {
    const runtime = testRuntime();
    const team = uniqueName('seed');
    const options = { store: runtime.entities, siteUrl: '' };
    const first = await applySeed('s.yaml', parseSeedFile('s.yaml', seedText(team)), options);
    const changed = seedText(team).replace('username: ci-bot', 'username: ci-robot');
    const second = await applySeed('s.yaml', parseSeedFile('s.yaml', changed), options);
    expect(second.written_items).toBe(1);
    expect(second.incoming_webhooks[0]!.id).toBe(first.incoming_webhooks[0]!.id);
    expect((await runtime.entities.getIncomingWebhook(first.incoming_webhooks[0]!.id))?.username).toBe('ci-robot');
  });

  const invalid: Array<[string, (team: string) => string, RegExp]> = [
    ['an unknown team', (team) => seedText(team, `  - { team: nope-${team}, trigger: x, url: "https://a.b", creator: ${team}-alice }`), /commands\[1\].*team: unknown team/],
    ['a bad trigger', (team) => seedText(team).replace('trigger: Deploy', 'trigger: /de ploy'), /commands\[0\].*trigger/],
    ['a built-in trigger', (team) => seedText(team).replace('trigger: Deploy', 'trigger: echo'), /commands\[0\].*built-in/],
    ['a bad URL', (team) => seedText(team).replace('https://ci.example.com/hook', 'ci.example.com/hook'), /outgoing_webhooks\[0\].*callback_urls/],
    ['a duplicate channel name', (team) => seedText(team).replace('name: secret', 'name: town-square'), /channels\[1\].*duplicate/],
    ['a misspelt field', (team) => seedText(team).replace('display_name: Seeded', 'dispaly_name: Seeded'), /teams\[0\].*dispaly_name/],
    ['a wrong type', (team) => seedText(team).replace('type: P', 'type: X'), /channels\[1\]: type/],
    ['an unknown creator', (team) => seedText(team).replace(`creator: ${team}-alice, display_name: CI`, 'creator: nobody, display_name: CI'), /incoming_webhooks\[0\].*creator: unknown user "nobody"/],
    ['a private channel for an outgoing webhook', (team) => seedText(team).replace('    channel: town-square\n    creator', '    channel: secret\n    creator'), /outgoing_webhooks\[0\].*public/],
    ['an outgoing webhook with neither channel nor trigger words', (team) => seedText(team).replace('    channel: town-square\n    creator', '    creator').replace('trigger_words: [build]', 'trigger_words: []'), /outgoing_webhooks\[0\].*either trigger_words or channel/],
    ['a callback URL without scheme (OW-03)', (team) => seedText(team).replace('https://ci.example.com/hook', 'nowhere.com/'), /callback_urls: "nowhere.com\/"/],
    ['a short token', (team) => seedText(team).replace(`${team}-bobs-personal-access-token`, 'short'), /users\[1\].*token/],
  ];
  it.each(invalid)('rejects %s naming file, entry and field, and writes nothing', async (_name, make, message) => {
    const runtime = testRuntime();
    const team = uniqueName('bad');
    let error: unknown;
    try {
      await applySeed('bad.yaml', parseSeedFile('bad.yaml', make(team)), { store: runtime.entities, siteUrl: '' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(SeedValidationError);
    const problems = (error as SeedValidationError).problems.join('\n');
    expect(problems).toMatch(/^bad\.yaml: /);
    expect(problems).toMatch(message);
    // Other test files write to the same table at the same time, so "nothing written" is checked
    // as: no item carries this file's team name (its team, users and seed keys all would).
    const after = await itemsOfTable(runtime.config.tables.entities);
    expect(after.filter((item) => JSON.stringify(item).includes(team))).toEqual([]);
  });

  it('archives a channel marked archived, which deletes its incoming webhooks', async () => {
    const runtime = testRuntime();
    const team = uniqueName('seed');
    const options = { store: runtime.entities, siteUrl: '' };
    const first = await applySeed('s.yaml', parseSeedFile('s.yaml', seedText(team)), options);
    const archived = seedText(team).replace('{ team: ${team}, name: town-square, display_name: Town Square, type: O }'.replace('${team}', team), `{ team: ${team}, name: town-square, display_name: Town Square, type: O, archived: true }`);
    expect(archived).toContain('archived: true');
    const second = await applySeed('s.yaml', parseSeedFile('s.yaml', archived), options);
    expect(second.channels.find((channel) => channel.name === 'town-square')?.archived).toBe(true);
    expect((await runtime.entities.getChannel(first.channels[0]!.id))?.delete_at).toBeGreaterThan(0);
    expect((await runtime.entities.getIncomingWebhook(first.incoming_webhooks[0]!.id))?.delete_at).toBeGreaterThan(0);
    const third = await applySeed('s.yaml', parseSeedFile('s.yaml', archived), options);
    expect(third.written_items).toBe(0);
  });

  it('rejects a file that is not YAML', () => {
    expect(() => parseSeedFile('x.yaml', 'teams: [unclosed')).toThrow(/x\.yaml: not valid YAML/);
  });

  it('runs as npm run seed against a named stage and prints the summary', async () => {
    const { execFile } = await import('node:child_process');
    const environment = stackEnvironment();
    const directory = mkdtempSync(path.join(tmpdir(), 'seed-'));
    const file = path.join(directory, 'seed.yaml');
    const team = uniqueName('cli');
    writeFileSync(file, seedText(team));
    const run = (args: string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        execFile('npx', ['tsx', 'infra/seed/cli.ts', ...args], {
          env: { ...process.env, AWS_ENDPOINT_URL_DYNAMODB: environment.DYNAMODB_ENDPOINT, AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' },
        }, (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }));
      });
    const ok = await run([file, '--stage', 'test', '--site-url', 'https://x.example']);
    expect(ok.code, ok.stderr).toBe(0);
    const summary = JSON.parse(ok.stdout);
    expect(summary.teams[0].name).toBe(team);
    writeFileSync(file, seedText(team).replace('type: P', 'type: Q'));
    const bad = await run([file, '--stage', 'test']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(`${file}: channels[1]: type`);
  });
});
