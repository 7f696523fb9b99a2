import type { WebSocketClient } from '@mattermost/client';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { seedWorld, stackEnvironment, startLiveStack, type Api, type World } from '../support/harness.js';
import { connectLive, type LiveMessage } from '../support/live-client.js';
import { liveFor } from '../../lib/live/live.js';

/**
 * Channels that appear while a user is connected: a direct channel created by REST or by an
 * incoming webhook to `@user` (`direct_added`, then its posts), and channel memberships added by a
 * seed run (`npm run seed`, spawned against the test stack's tables). Clients are
 * `@mattermost/client`'s WebSocketClient against the local gateway.
 */
let api: Api;
let stack: Awaited<ReturnType<typeof startLiveStack>>;
let world: World;
const clients: WebSocketClient[] = [];

const EXTRA_USERS = ['bot', 'alice', 'bob', 'carol', 'dave'] as const;

beforeAll(async () => {
  stack = await startLiveStack();
  api = stack.api;
  world = await seedWorld(api.runtime, (names) => ({
    users: EXTRA_USERS.map((role) => ({ username: `${names.team}-${role}`, teams: [names.team], channels: [`${names.team}/town-square`] })),
    incoming_webhooks: [{ team: names.team, channel: 'town-square', creator: `${names.team}-bot`, display_name: 'bot' }],
  }));
});
afterAll(async () => {
  for (const client of clients) client.close();
  await stack?.close();
});

const user = (role: (typeof EXTRA_USERS)[number]) => world.user(`${world.team.name}-${role}`);
const auth = (token: string) => ({ authorization: `Bearer ${token}` });

function connect(token: string) {
  return connectLive(api.url, token, clients);
}

const postedIn = (channelId: string, postId?: string) => (message: LiveMessage) =>
  message.event === 'posted' && message.broadcast.channel_id === channelId && (postId === undefined || JSON.parse(message.data.post).id === postId);

/** A post by the bot's hook in town-square, which every connected user here receives: what came before it has arrived. */
async function barrier(...connections: Array<ReturnType<typeof connect>>): Promise<void> {
  const response = await api.postJson(world.hook('bot').url, { text: 'barrier' }, { prefer: 'return=representation' });
  expect(response.status, response.text).toBe(200);
  const postId = response.json().post_id as string;
  await Promise.all(connections.map((connection) => connection.waitFor(postedIn(world.channel('town-square').id, postId))));
}

describe('direct channels created while connected', () => {
  it('POST /channels/direct: both members receive direct_added, then the first post; a third user nothing', async () => {
    const bot = connect(user('bot').token);
    const alice = connect(user('alice').token);
    const carol = connect(user('carol').token);
    await Promise.all([bot.ready(), alice.ready(), carol.ready()]);

    const created = await api.postJson('/api/v4/channels/direct', [user('bot').id, user('alice').id], auth(user('bot').token));
    expect(created.status, created.text).toBe(201);
    const channelId = created.json().id as string;
    for (const member of [alice, bot]) {
      const added = await member.waitFor((message) => message.event === 'direct_added');
      expect(added.data).toEqual({ creator_id: user('bot').id, teammate_id: user('alice').id });
      expect(added.broadcast).toMatchObject({ channel_id: channelId, user_id: '', team_id: '' });
    }

    // Right after the creation's answer, as a bot does: not lost to the new channel.
    const sent = await api.postJson('/api/v4/posts', { channel_id: channelId, message: 'hello alice' }, auth(user('bot').token));
    expect(sent.status, sent.text).toBe(201);
    const posted = await alice.waitFor(postedIn(channelId, sent.json().id));
    expect(posted.data).toMatchObject({ channel_type: 'D', channel_name: created.json().name });
    await bot.waitFor(postedIn(channelId, sent.json().id));
    const order = alice.events.filter((message) => message.event !== 'hello').map((message) => message.event);
    expect(order.slice(0, 2)).toEqual(['direct_added', 'posted']);
    expect(alice.events.map((message) => message.seq)).toEqual(alice.events.map((_, index) => index));

    // The channel exists now: asking again creates nothing and announces nothing.
    const again = await api.postJson('/api/v4/channels/direct', [user('alice').id, user('bot').id], auth(user('alice').token));
    expect(again.status, again.text).toBe(201);
    expect(again.json().id).toBe(channelId);
    await barrier(alice, bot, carol);
    expect(alice.events.filter((message) => message.event === 'direct_added')).toHaveLength(1);
    expect(carol.events.filter((message) => message.broadcast.channel_id === channelId)).toEqual([]);
  });

  it("names the two users in the body's order, as Mattermost does, whichever of them calls", async () => {
    const carol = connect(user('carol').token);
    await carol.ready();
    const created = await api.postJson('/api/v4/channels/direct', [user('alice').id, user('carol').id], auth(user('carol').token));
    expect(created.status, created.text).toBe(201);
    const added = await carol.waitFor((message) => message.event === 'direct_added' && message.broadcast.channel_id === created.json().id);
    expect(added.data).toEqual({ creator_id: user('alice').id, teammate_id: user('carol').id });
  });

  it('an incoming webhook to @user creates the channel: direct_added, then the hook\'s post', async () => {
    const bob = connect(user('bob').token);
    const carol = connect(user('carol').token);
    await Promise.all([bob.ready(), carol.ready()]);

    const response = await api.postJson(world.hook('bot').url, { text: 'build 42 passed', channel: `@${user('bob').username}` }, { prefer: 'return=representation' });
    expect(response.status, response.text).toBe(200);
    const postId = response.json().post_id as string;
    const added = await bob.waitFor((message) => message.event === 'direct_added');
    expect(added.data).toEqual({ creator_id: user('bot').id, teammate_id: user('bob').id });
    const channelId = added.broadcast.channel_id as string;
    const posted = await bob.waitFor(postedIn(channelId, postId));
    expect(JSON.parse(posted.data.post).message).toBe('build 42 passed');
    expect(posted.seq).toBeGreaterThan(added.seq);

    // A second post to the same user reuses the channel: no second direct_added.
    const second = await api.postJson(world.hook('bot').url, { text: 'build 43 passed', channel: `@${user('bob').username}` }, { prefer: 'return=representation' });
    expect(second.status, second.text).toBe(200);
    await bob.waitFor(postedIn(channelId, second.json().post_id));
    await barrier(bob, carol);
    expect(bob.events.filter((message) => message.event === 'direct_added')).toHaveLength(1);
    expect(carol.events.filter((message) => message.event === 'direct_added' || message.broadcast.channel_id === channelId)).toEqual([]);
  });
});

describe('memberships added by a seed run while connected', () => {
  it('npm run seed adds dave to off-topic: his open connection receives its posts, and forgets it at disconnect', async () => {
    const dave = connect(user('dave').token);
    const hello = await dave.ready();
    const connectionId = hello.data.connection_id as string;
    const offTopic = world.channel('off-topic').id;
    const connections = liveFor(api.runtime)!.connections;

    // Not a member yet: a post there does not reach him.
    const before = await api.postJson(world.hook('main').url, { text: 'before dave', channel: 'off-topic' }, { prefer: 'return=representation' });
    expect(before.status, before.text).toBe(200);
    await barrier(dave);
    expect(dave.events.some(postedIn(offTopic))).toBe(false);

    const file = path.join(mkdtempSync(path.join(tmpdir(), 'live-seed-')), 'seed.yaml');
    writeFileSync(
      file,
      stringify({
        users: [{ username: user('dave').username, token: user('dave').token, teams: [world.team.name], channels: [`${world.team.name}/town-square`, `${world.team.name}/off-topic`] }],
      }),
    );
    const run = await runSeed(file);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain('1 channel membership(s) written, 1 open connection(s) listed in their channels');
    expect((await connections.connectionsOfChannel(offTopic)).map((target) => target.connectionId)).toContain(connectionId);
    // Listed once: a second listing adds nothing (a duplicate would break the disconnect's batch delete).
    expect(await connections.addToChannel(user('dave').id, offTopic)).toBe(0);

    const after = await api.postJson(world.hook('main').url, { text: 'welcome dave', channel: 'off-topic' }, { prefer: 'return=representation' });
    expect(after.status, after.text).toBe(200);
    const posted = await dave.waitFor(postedIn(offTopic, after.json().post_id));
    expect(posted.data.channel_name).toBe('off-topic');
    expect(dave.events.map((message) => message.seq)).toEqual(dave.events.map((_, index) => index));

    // The channel joined the connection's own list: its disconnect removes the new item too.
    expect((await connections.get(connectionId))?.channelIds).toContain(offTopic);
    dave.client.close();
    const deadline = Date.now() + 5_000;
    while ((await connections.get(connectionId)) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await connections.connectionsOfChannel(offTopic)).map((target) => target.connectionId)).not.toContain(connectionId);
  });

  it('a seed run that writes no membership lists nothing', async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'live-seed-')), 'seed.yaml');
    writeFileSync(file, stringify({ users: [{ username: user('carol').username, token: user('carol').token, teams: [world.team.name], channels: [`${world.team.name}/town-square`] }] }));
    const run = await runSeed(file);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).not.toContain('live events:');
  });
});

/** `npm run seed` against the live stack's tables (its stage, DynamoDB Local through the SDK's endpoint variable). */
function runSeed(file: string) {
  const environment = stackEnvironment();
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      'npx',
      ['tsx', 'infra/seed/cli.ts', file, '--stage', stack.stage],
      { env: { ...process.env, AWS_ENDPOINT_URL_DYNAMODB: environment.DYNAMODB_ENDPOINT, AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' } },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}
