import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { hashToken } from '../../lib/ids.js';
import { exportSeed, exportToYaml } from '../../lib/seed/export.js';
import { formatPlan } from '../../lib/seed/plan.js';
import { applySeed, parseSeedFile, planSeed, SeedApplyError, SeedValidationError, type SeedOptions } from '../../lib/seed/seed.js';
import { countRequests, documentClient } from '../../lib/store/dynamo.js';
import { EntityStore } from '../../lib/store/entities.js';
import { keys } from '../../lib/store/keys.js';
import { replyJson, startCallbackServer, type CallbackServer } from '../support/callback-server.js';
import { stackEnvironment, startApi, uniqueName, type Api } from '../support/harness.js';

/**
 * The seed file as desired state (docs/seed-format.md): identity, in-place changes, token
 * rotation, prune, dry run and export, through the real seed code on DynamoDB Local, and over HTTP
 * where the behaviour is about requests. The API caches entities for one second here, so "after
 * the cache interval" is a short wait.
 */
const CACHE_SECONDS = 1;
let api: Api;
let server: CallbackServer;
let store: EntityStore;

beforeAll(async () => {
  api = await startApi({
    ENTITY_CACHE_TTL_SECONDS: String(CACHE_SECONDS),
    ALLOWED_UNTRUSTED_INTERNAL_CONNECTIONS: '127.0.0.0/8',
    OUTGOING_INTEGRATION_REQUESTS_TIMEOUT: '2',
  });
  server = await startCallbackServer((request, _index, response) => replyJson(response, { text: `ran ${new URLSearchParams(request.body).get('command')}` }));
  store = api.runtime.entities;
});
afterAll(async () => {
  await server.close();
  await api.close();
});

const afterCacheInterval = () => new Promise((resolve) => setTimeout(resolve, CACHE_SECONDS * 1000 + 300));

/** A team as a seed document (plain objects, so a test can change one field and apply it again). */
function teamDocument(team = uniqueName('conv')) {
  const alice = `${team}-alice`;
  const bob = `${team}-bob`;
  return {
    teams: [{ name: team }],
    channels: [
      { team, name: 'town-square', type: 'O' },
      { team, name: 'builds', type: 'O' },
    ],
    users: [
      { username: alice, token: `${team}-alice-token-0123456789`, teams: [team], channels: [`${team}/town-square`, `${team}/builds`] },
      { username: bob, teams: [team], channels: [`${team}/town-square`] },
    ],
    incoming_webhooks: [{ key: 'ci', team, channel: 'town-square', creator: alice, display_name: 'CI' }] as Record<string, unknown>[],
    outgoing_webhooks: [{ key: 'builder', team, channel: 'town-square', creator: alice, trigger_words: ['build'], callback_urls: [server.url] }] as Record<string, unknown>[],
    commands: [{ key: 'deploy', team, trigger: 'deploy', url: `${server.url}/deploy`, creator: alice }] as Record<string, unknown>[],
  };
}
type TeamDocument = ReturnType<typeof teamDocument>;

const parse = (document: unknown) => parseSeedFile('seed.yaml', stringify(document));
const seed = async (document: unknown, options: Partial<SeedOptions> = {}) => applySeed('seed.yaml', parse(document), { store, siteUrl: '', ...options });
const plan = (document: unknown, options: Partial<SeedOptions> = {}) => planSeed('seed.yaml', parse(document), { store, siteUrl: '', ...options });
const change = (document: TeamDocument, edit: (copy: TeamDocument) => void) => {
  const copy = structuredClone(document);
  edit(copy);
  return copy;
};
const auth = (token: string) => ({ authorization: `Bearer ${token}` });
const postToHook = (id: string) => api.postJson(`/hooks/${id}`, { text: 'hello' });

async function execute(command: string, channelId: string, token: string) {
  return api.postJson('/api/v4/commands/execute', { command, channel_id: channelId }, auth(token));
}

/** Every item of the entities table that mentions one of `ids` (the table is shared with other test files). */
async function itemsMentioning(ids: string[]) {
  const db = documentClient({ endpoint: stackEnvironment().DYNAMODB_ENDPOINT, region: 'us-east-1' });
  const items: Record<string, unknown>[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await db.send(new ScanCommand({ TableName: api.runtime.config.tables.entities, ExclusiveStartKey: startKey, ConsistentRead: true }));
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items.filter((item) => ids.some((id) => JSON.stringify(item).includes(id))).sort((a, b) => `${a.PK}${a.SK}`.localeCompare(`${b.PK}${b.SK}`));
}

describe('identity and in-place changes', () => {
  it('renames an incoming hook with a key in place: one hook, same URL, new display name', async () => {
    const document = teamDocument();
    const first = await seed(document);
    const renamed = await seed(change(document, (copy) => (copy.incoming_webhooks[0]!.display_name = 'Builds')));
    expect(renamed.incoming_webhooks[0]!.id).toBe(first.incoming_webhooks[0]!.id);
    expect(renamed.incoming_webhooks[0]!.url).toBe(first.incoming_webhooks[0]!.url);
    expect(renamed.written_items).toBe(1);
    const channelId = first.channels.find((channel) => channel.name === 'town-square')!.id;
    const hooks = (await store.listIncomingWebhooksOfChannel(channelId)).filter((hook) => hook.delete_at === 0);
    expect(hooks.map((hook) => [hook.id, hook.display_name])).toEqual([[first.incoming_webhooks[0]!.id, 'Builds']]);
    expect((await postToHook(first.incoming_webhooks[0]!.id)).status).toBe(200);
  });

  it('moves an incoming hook with a key to another channel in place', async () => {
    const document = teamDocument();
    const first = await seed(document);
    await seed(change(document, (copy) => (copy.incoming_webhooks[0]!.channel = 'builds')));
    const builds = first.channels.find((channel) => channel.name === 'builds')!.id;
    expect((await store.getIncomingWebhook(first.incoming_webhooks[0]!.id))?.channel_id).toBe(builds);
  });

  it('changes an outgoing hook trigger words in place: one hook, new triggers', async () => {
    const document = teamDocument();
    const first = await seed(document);
    const teamId = first.teams[0]!.id;
    const second = await seed(change(document, (copy) => (copy.outgoing_webhooks[0]!.trigger_words = ['ship'])));
    expect(second.outgoing_webhooks[0]!.id).toBe(first.outgoing_webhooks[0]!.id);
    const live = (await store.listOutgoingWebhooksOfTeam(teamId)).filter((hook) => hook.delete_at === 0);
    expect(live.map((hook) => [hook.id, hook.trigger_words])).toEqual([[first.outgoing_webhooks[0]!.id, ['ship']]]);
  });

  it('changes a command trigger in place: the old trigger answers 404, the new one calls the command', async () => {
    const document = teamDocument();
    const first = await seed(document);
    const teamId = first.teams[0]!.id;
    const channelId = first.channels.find((channel) => channel.name === 'town-square')!.id;
    const token = first.users[0]!.token!;
    expect((await execute('/deploy now', channelId, token)).status).toBe(200);

    const renamed = await seed(change(document, (copy) => (copy.commands[0]!.trigger = 'ship')));
    expect(renamed.commands[0]!.id).toBe(first.commands[0]!.id);
    // The trigger pointer moved in the same write: the store no longer resolves the old trigger.
    expect(await store.getCommandByTrigger(teamId, 'deploy')).toBeUndefined();
    expect((await store.getCommandByTrigger(teamId, 'ship'))?.id).toBe(first.commands[0]!.id);
    await afterCacheInterval();
    expect((await execute('/deploy now', channelId, token)).status).toBe(404);
    const before = server.received.length;
    const shipped = await execute('/ship it', channelId, token);
    expect(shipped.status).toBe(200);
    expect(server.received.slice(before).map((request) => new URLSearchParams(request.body).get('command'))).toEqual(['/ship']);
  });

  it('adopts the entity an entry named by natural key when the entry gets a key', async () => {
    const document = change(teamDocument(), (copy) => delete copy.incoming_webhooks[0]!.key);
    const natural = await plan(document);
    expect(natural.plan.notes.join('\n')).toMatch(/natural key.*incoming_webhooks\[0\]/);
    const first = await natural.apply();
    const keyed = await seed(change(document, (copy) => (copy.incoming_webhooks[0]!.key = 'ci')));
    expect(keyed.incoming_webhooks[0]!.id).toBe(first.incoming_webhooks[0]!.id);
    const renamed = await seed(change(document, (copy) => Object.assign(copy.incoming_webhooks[0]!, { key: 'ci', display_name: 'Renamed' })));
    expect(renamed.incoming_webhooks[0]!.id).toBe(first.incoming_webhooks[0]!.id);
  });

  it('renames without a key create a new hook; with --prune the old URL answers 400 and the new one posts', async () => {
    const document = change(teamDocument(), (copy) => delete copy.incoming_webhooks[0]!.key);
    const first = await seed(document);
    const oldId = first.incoming_webhooks[0]!.id;
    expect((await postToHook(oldId)).status).toBe(200);

    const renamed = change(document, (copy) => (copy.incoming_webhooks[0]!.display_name = 'Builds'));
    const planned = await plan(renamed, { prune: true });
    const text = formatPlan('seed.yaml', planned.plan);
    expect(text).toMatch(new RegExp(`create incoming_webhook .*"Builds"`));
    expect(text).toContain(`delete incoming_webhook ${document.teams[0]!.name}/town-square "CI" (id ${oldId})`);
    const second = await planned.apply();
    const newId = second.incoming_webhooks[0]!.id;
    expect(newId).not.toBe(oldId);
    await afterCacheInterval();
    expect((await postToHook(oldId)).status).toBe(400);
    expect((await postToHook(newId)).status).toBe(200);
    // Pruning also forgot the old natural key, so naming "CI" again makes a fresh hook, not a dead one.
    expect(await store.getRaw(keys.seedKey('incoming', `${document.teams[0]!.name}/town-square/CI`))).toBeUndefined();
  });
});

describe('token rotation', () => {
  it('revokes the old token in the write that sets the new one; the old one gets 401 after the cache interval', async () => {
    const document = teamDocument();
    const first = await seed(document);
    const channelId = first.channels.find((channel) => channel.name === 'town-square')!.id;
    const oldToken = document.users[0]!.token!;
    const read = (token: string) => api.request('GET', `/api/v4/channels/${channelId}/posts`, { headers: auth(token) });
    expect((await read(oldToken)).status).toBe(200);

    const newToken = `${document.teams[0]!.name}-alice-new-token-0123456789`;
    const rotated = change(document, (copy) => (copy.users[0]!.token = newToken));
    const planned = await plan(rotated);
    expect(formatPlan('seed.yaml', planned.plan)).toMatch(/update user \S+-alice .*token set; old token revoked/);
    const second = await planned.apply();
    expect(second.users[0]!.token).toBe(newToken);
    expect(await store.resolveUserToken(hashToken(oldToken))).toBeUndefined();
    await afterCacheInterval();
    expect((await read(oldToken)).status).toBe(401);
    expect((await read(newToken)).status).toBe(200);
    expect((await seed(rotated)).written_items).toBe(0);
  });

  it('keeps a token that the file stops giving, and refuses a token another user has', async () => {
    const document = teamDocument();
    await seed(document);
    const token = document.users[0]!.token!;
    const withoutToken = change(document, (copy) => delete (copy.users[0] as { token?: string }).token);
    expect((await seed(withoutToken)).written_items).toBe(0);
    expect(await store.resolveUserToken(hashToken(token))).toBeDefined();
    const stolen = change(document, (copy) => ((copy.users[1] as { token?: string }).token = token));
    await expect(seed(stolen)).rejects.toThrow(/users\[1\] \(\S+-bob\): token: same token as users\[0\]/);
  });
});

describe('prune', () => {
  it('deletes integrations, archives channels and removes memberships in the named teams, and leaves other teams alone', async () => {
    const document = teamDocument();
    document.channels.push({ team: document.teams[0]!.name, name: 'old', type: 'O' });
    document.users[1]!.channels.push(`${document.teams[0]!.name}/builds`);
    const other = teamDocument();
    // Bob of the first team also belongs to the other team: prune must not touch that membership.
    other.users.push({ username: document.users[1]!.username, teams: [other.teams[0]!.name], channels: [`${other.teams[0]!.name}/town-square`] });
    const first = await seed(document);
    const otherFirst = await seed(other);
    const otherIds = [otherFirst.teams[0]!.id, ...otherFirst.channels.map((channel) => channel.id)];
    const otherBefore = await itemsMentioning(otherIds);
    expect(otherBefore.length).toBeGreaterThan(10);

    const team = document.teams[0]!.name;
    const teamId = first.teams[0]!.id;
    const pruned = change(document, (copy) => {
      copy.channels = copy.channels.filter((channel) => channel.name !== 'old');
      copy.users[1]!.channels = [`${team}/town-square`];
      copy.users[1]!.teams = [team];
      copy.incoming_webhooks = [];
      copy.outgoing_webhooks = [];
      copy.commands = [];
    });
    // Bob also leaves the team altogether: his entry goes, his user stays.
    pruned.users = pruned.users.slice(0, 1);
    const planned = await plan(pruned, { prune: true });
    const text = formatPlan('seed.yaml', planned.plan);
    for (const line of [
      `archive channel ${team}/old`,
      `delete incoming_webhook ${team}/town-square "CI"`,
      `delete outgoing_webhook ${team} "build"`,
      `delete command ${team} /deploy`,
      `delete membership ${team} <- ${document.users[1]!.username}`,
      `delete membership ${team}/builds <- ${document.users[1]!.username}`,
    ]) {
      expect(text).toContain(line);
    }
    await planned.apply();

    const channel = (name: string) => first.channels.find((entry) => entry.name === name)!.id;
    const bobId = first.users[1]!.id;
    expect((await store.getChannel(channel('old')))?.delete_at).toBeGreaterThan(0);
    expect((await store.getChannel(channel('builds')))?.delete_at).toBe(0);
    expect((await store.getIncomingWebhook(first.incoming_webhooks[0]!.id))?.delete_at).toBeGreaterThan(0);
    expect((await store.getOutgoingWebhook(first.outgoing_webhooks[0]!.id))?.delete_at).toBeGreaterThan(0);
    expect((await store.getCommand(first.commands[0]!.id))?.delete_at).toBeGreaterThan(0);
    expect(await store.getRaw(keys.commandTrigger(teamId, 'deploy'))).toBeUndefined();
    expect(await store.isTeamMember(teamId, bobId)).toBe(false);
    expect(await store.isChannelMember(channel('builds'), bobId)).toBe(false);
    expect(await store.isChannelMember(channel('town-square'), bobId)).toBe(false);
    expect(await store.isChannelMember(channel('town-square'), first.users[0]!.id)).toBe(true);
    expect((await store.getUser(bobId))?.delete_at).toBe(0);
    expect(await itemsMentioning(otherIds)).toEqual(otherBefore);
    expect(await store.isTeamMember(otherFirst.teams[0]!.id, bobId)).toBe(true);

    // Converged: the same file with --prune plans nothing.
    expect((await plan(pruned, { prune: true })).plan.lines).toEqual([]);
    // A freed trigger can be taken by a new command.
    const reused = await seed(change(pruned, (copy) => (copy.commands = [{ key: 'ship', team, trigger: 'deploy', url: `${server.url}/x`, creator: copy.users[0]!.username }])), { prune: true });
    expect(reused.commands[0]!.id).not.toBe(first.commands[0]!.id);
  });

  it('refuses a creator whose team membership the same pruning run removes, so the next run still validates', async () => {
    const document = teamDocument();
    await seed(document);
    const orphaned = change(document, (copy) => {
      copy.incoming_webhooks[0]!.creator = copy.users[1]!.username;
      copy.users[1]!.teams = [];
      copy.users[1]!.channels = [];
    });
    const error = await seed(orphaned, { prune: true }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SeedValidationError);
    expect((error as SeedValidationError).problems.join('\n')).toMatch(/incoming_webhooks\[0\] \(ci\): creator: "\S+-bob" is not a member of team "\S+" in this file/);
    // Without prune the stored membership stays, and counts.
    expect((await seed(orphaned)).written_items).toBe(1);
  });

  it('hands a trigger from one command to another in one run', async () => {
    const document = teamDocument();
    const team = document.teams[0]!.name;
    document.commands.push({ key: 'ship', team, trigger: 'ship', url: `${server.url}/ship`, creator: document.users[0]!.username });
    const first = await seed(document);
    const swapped = change(document, (copy) => {
      copy.commands[0]!.trigger = 'ship';
      copy.commands[1]!.trigger = 'deploy';
    });
    await seed(swapped);
    const teamId = first.teams[0]!.id;
    expect((await store.getCommandByTrigger(teamId, 'ship'))?.id).toBe(first.commands[0]!.id);
    expect((await store.getCommandByTrigger(teamId, 'deploy'))?.id).toBe(first.commands[1]!.id);
    expect((await seed(swapped)).written_items).toBe(0);
  });
});

describe('dry run', () => {
  it('plans without writing: not one write request reaches DynamoDB', async () => {
    const document = teamDocument();
    await seed(document);
    const environment = stackEnvironment();
    const client = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1', endpoint: environment.DYNAMODB_ENDPOINT }), {
      marshallOptions: { removeUndefinedValues: true },
    });
    const requests = countRequests(client);
    const counted = new EntityStore(client, api.runtime.config.tables.entities);
    const changed = change(document, (copy) => {
      copy.incoming_webhooks[0]!.display_name = 'Renamed';
      copy.users[0]!.token = `${copy.teams[0]!.name}-rotated-token-0123456789`;
      copy.commands = [];
    });
    const planned = await planSeed('seed.yaml', parse(changed), { store: counted, siteUrl: '', prune: true });
    expect(planned.plan.itemCount).toBeGreaterThan(0);
    // The counter sees the planning's reads, so it would see a write.
    expect(requests.get('GetItemCommand')).toBeGreaterThan(0);
    for (const name of requests.keys()) expect(name).toMatch(/^(GetItem|Scan|Query|BatchGetItem)Command$/);
  });
});

describe('export', () => {
  it('exports a team that applies with 0 writes, without secrets unless asked', async () => {
    const document = teamDocument();
    document.channels.push({ team: document.teams[0]!.name, name: 'closed', type: 'O', archived: true } as never);
    document.incoming_webhooks.push({ team: document.teams[0]!.name, channel: 'builds', creator: document.users[0]!.username, display_name: 'natural' });
    const first = await seed(document);
    const team = document.teams[0]!.name;

    const exported = exportToYaml(await exportSeed(store, { teams: [team] }), 'test export');
    const secrets = [
      document.users[0]!.token!,
      first.users[1]!.token!,
      ...first.outgoing_webhooks.flatMap((hook) => [hook.token!, hook.signing_secret!]),
      ...first.commands.flatMap((command) => [command.token!, command.signing_secret!]),
    ];
    for (const secret of secrets) expect(exported).not.toContain(secret);
    expect(exported).not.toMatch(/whsec_|token:|signing_secret:/);
    expect(exported).toContain('key: ci');

    const reapplied = await plan(parseSeedFile('export.yaml', exported), { prune: true });
    expect(formatPlan('export.yaml', reapplied.plan)).toBe('seed plan for export.yaml: no changes');
    expect((await reapplied.apply()).written_items).toBe(0);

    const withSecrets = exportToYaml(await exportSeed(store, { teams: [team], withSecrets: true }), 'with secrets');
    for (const secret of secrets.slice(2)) expect(withSecrets).toContain(secret);
    expect(withSecrets).toContain('action_signing_secret: whsec_');
    expect((await seed(parseSeedFile('export.yaml', withSecrets), { prune: true })).written_items).toBe(0);
  });
});

describe('transactions', () => {
  it('splits a large run into transactions of whole entities, and a rerun completes a run that stopped part-way', async () => {
    const document = teamDocument();
    const team = document.teams[0]!.name;
    for (let index = 0; index < 40; index++) {
      document.users.push({ username: `${team}-user${index}`, token: `${team}-user${index}-token-0123456789`, teams: [team], channels: [`${team}/town-square`] } as never);
    }
    /** Fails the second transaction, as throttling or a lost connection would. */
    class FailingStore extends EntityStore {
      transactions = 0;
      override async writeTransaction(changes: Parameters<EntityStore['writeTransaction']>[0]) {
        if (++this.transactions === 2) throw new Error('connection lost');
        return super.writeTransaction(changes);
      }
    }
    const failing = new FailingStore(documentClient({ endpoint: stackEnvironment().DYNAMODB_ENDPOINT, region: 'us-east-1' }), api.runtime.config.tables.entities);
    const planned = await planSeed('seed.yaml', parse(document), { store: failing, siteUrl: '' });
    expect(planned.plan.transactions.length).toBeGreaterThan(1);
    for (const transaction of planned.plan.transactions) expect(transaction.length).toBeLessThanOrEqual(100);
    const error = await planned.apply().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SeedApplyError);
    expect((error as SeedApplyError).message).toMatch(/stopped after 1 of \d+ transactions: connection lost/);

    // What landed is whole: every user that exists has its token.
    let landed = 0;
    for (let index = 0; index < 40; index++) {
      const user = await store.getUserByUsername(`${team}-user${index}`);
      if (!user) continue;
      landed++;
      expect(await store.resolveUserToken(hashToken(`${team}-user${index}-token-0123456789`))).toBe(user.id);
    }
    expect(landed).toBeGreaterThan(0);
    expect(landed).toBeLessThan(40);
    const rerun = await plan(document);
    expect(rerun.plan.itemCount).toBe(planned.plan.itemCount - planned.plan.transactions[0]!.length);
    await rerun.apply();
    expect((await plan(document)).plan.itemCount).toBe(0);
  });
});

describe('validation of identities', () => {
  const invalid: Array<[string, (document: TeamDocument) => void, RegExp]> = [
    ['a duplicate key', (copy) => copy.incoming_webhooks.push({ ...copy.incoming_webhooks[0]!, display_name: 'Other' }), /incoming_webhooks\[1\] \(ci\): key: duplicate key "ci"/],
    ['a malformed key', (copy) => (copy.commands[0]!.key = 'Not A Key'), /commands\[0\] \(Not A Key\): key: "Not A Key" must be/],
    ['two entries naming one hook', (copy) => copy.outgoing_webhooks.push({ ...copy.outgoing_webhooks[0]!, key: undefined, id: 'a'.repeat(26) }, { ...copy.outgoing_webhooks[0]!, key: undefined, id: 'a'.repeat(26) }), /outgoing_webhooks\[2\].*id: names the same outgoing webhook/],
    ['two commands with one trigger', (copy) => copy.commands.push({ ...copy.commands[0]!, key: 'other' }), /commands\[1\] \(other\): trigger: "\/deploy" is also the trigger of commands\[0\]/],
    ['a misspelt key field', (copy) => Object.assign(copy.incoming_webhooks[0]!, { kee: 'x' }), /incoming_webhooks\[0\]: .*kee/],
  ];
  it.each(invalid)('rejects %s, naming file, entry and field, and writes nothing', async (_name, edit, message) => {
    const document = change(teamDocument(), edit);
    const error = await seed(document).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SeedValidationError);
    expect((error as SeedValidationError).problems.join('\n')).toMatch(message);
    expect(await store.getTeamByName(document.teams[0]!.name)).toBeUndefined();
  });
});
