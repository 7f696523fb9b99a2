import { describe, expect, it } from 'vitest';
import { auth, BAD_ID, uniqueName, withApiAndWorlds, type Api, type World } from '../support/harness.js';
import { client4, failure } from '../support/client4.js';

let api: Api;
let world: World;
let otherWorld: World;

withApiAndWorlds(2, (started, [seeded, other]) => ([api, world, otherWorld] = [started, seeded!, other!]));

const clientFor = (token: string) => client4(api.url, token);

const forbidden = { status: 403, id: 'api.context.permissions.app_error' };
const missingByName = { status: 404, id: 'app.channel.get_by_name.missing.app_error' };

describe('GET /channels/{channel_id}', () => {
  it('answers a member the channel in Mattermost\'s shape', async () => {
    const channel = await clientFor(world.user('creator').token).getChannel(world.channel('private').id);
    expect(channel).toMatchObject({ id: world.channel('private').id, team_id: world.team.id, name: 'private', type: 'P', delete_at: 0, header: '', purpose: '' });
    expect(channel.create_at).toBeGreaterThan(0);
  });

  it('shows a public channel to any team member, a private one only to its members', async () => {
    const outsider = clientFor(world.user('outsider').token);
    expect((await outsider.getChannel(world.channel('town-square').id)).name).toBe('town-square');
    expect(await failure(outsider.getChannel(world.channel('private').id))).toEqual(forbidden);
    // Not in the team: not even the public channel.
    expect(await failure(clientFor(otherWorld.user('creator').token).getChannel(world.channel('town-square').id))).toEqual(forbidden);
  });

  it('answers 404 for an unknown channel, 400 for a malformed id, 401 without a token', async () => {
    expect(await failure(clientFor(world.user('creator').token).getChannel(BAD_ID))).toEqual({ status: 404, id: 'app.channel.get.existing.app_error' });
    const response = await api.request('GET', '/api/v4/channels/abc', { headers: auth(world.user('creator').token) });
    expect(response.status).toBe(400);
    expect(response.json()).toMatchObject({ id: 'api.context.invalid_url_param.app_error' });
    expect((await api.request('GET', `/api/v4/channels/${world.channel('town-square').id}`)).status).toBe(401);
  });
});

describe('channels by name', () => {
  it('finds a channel by team id and by team name, as Zabbix does before posting', async () => {
    const client = clientFor(world.user('other').token);
    const byTeamId = await client.getChannelByName(world.team.id, 'town-square');
    expect(byTeamId).toMatchObject({ id: world.channel('town-square').id, name: 'town-square', type: 'O' });
    expect(await client.getChannelByNameAndTeamName(world.team.name, 'town-square')).toEqual(byTeamId);
    // A public channel the team member has not joined is found too.
    expect((await client.getChannelByName(world.team.id, 'off-topic')).id).toBe(world.channel('off-topic').id);
  });

  it('hides a channel the caller may not read behind the same 404 as a missing one', async () => {
    const other = clientFor(world.user('other').token);
    expect(await failure(other.getChannelByName(world.team.id, 'private'))).toEqual(missingByName);
    expect(await failure(other.getChannelByNameAndTeamName(world.team.name, 'private'))).toEqual(missingByName);
    expect(await failure(other.getChannelByName(world.team.id, 'no-such-channel'))).toEqual(missingByName);
    const stranger = clientFor(otherWorld.user('creator').token);
    expect(await failure(stranger.getChannelByName(world.team.id, 'town-square'))).toEqual(missingByName);
    expect(await failure(other.getChannelByNameAndTeamName(uniqueName('noteam'), 'town-square'))).toEqual({ status: 404, id: 'app.team.get_by_name.missing.app_error' });
    // The creator, a member, does see the private channel.
    expect((await clientFor(world.user('creator').token).getChannelByName(world.team.id, 'private')).type).toBe('P');
  });

  it('answers 400 for malformed team ids, team names and channel names', async () => {
    const headers = auth(world.user('creator').token);
    const cases: Array<[string, string]> = [
      [`/api/v4/teams/abc/channels/name/town-square`, 'team_id'],
      [`/api/v4/teams/${world.team.id}/channels/name/-`, 'channel_name'],
      [`/api/v4/teams/${world.team.id}/channels/name/${'c'.repeat(65)}`, 'channel_name'],
      [`/api/v4/teams/name/-x/channels/name/town-square`, 'team_name'],
      [`/api/v4/teams/name/${world.team.name}/channels/name/a%20b`, 'channel_name'],
    ];
    for (const [path, name] of cases) {
      const response = await api.request('GET', path, { headers });
      expect(response.status, path).toBe(400);
      expect(response.json(), path).toMatchObject({ id: 'api.context.invalid_url_param.app_error', message: expect.stringContaining(name) });
    }
  });
});

describe('GET /users/{user_id}/teams/{team_id}/channels', () => {
  it('lists the caller\'s channels of the team with their direct channels, nothing else', async () => {
    const creator = clientFor(world.user('creator').token);
    const direct = await creator.createDirectChannel([world.user('creator').id, world.user('other').id]);
    const mine = await creator.getMyChannels(world.team.id);
    expect(mine.map((channel) => channel.id).sort()).toEqual(
      [world.channel('town-square').id, world.channel('private').id, world.channel('off-topic').id, direct.id].sort(),
    );
    const others = await clientFor(world.user('other').token).getMyChannels(world.team.id);
    expect(others.map((channel) => channel.id).sort()).toEqual([world.channel('town-square').id, direct.id].sort());
    expect(await clientFor(world.user('outsider').token).getMyChannels(world.team.id)).toEqual([]);
  });

  it('refuses another user\'s list and a team the caller is not in with 403', async () => {
    const headers = auth(world.user('creator').token);
    for (const path of [
      `/api/v4/users/${world.user('other').id}/teams/${world.team.id}/channels`,
      `/api/v4/users/me/teams/${otherWorld.team.id}/channels`,
      `/api/v4/users/me/teams/${BAD_ID}/channels`,
    ]) {
      const response = await api.request('GET', path, { headers });
      expect(response.status, path).toBe(403);
      expect(response.json()).toMatchObject({ id: 'api.context.permissions.app_error' });
    }
    expect((await api.request('GET', `/api/v4/users/me/teams/abc/channels`, { headers })).status).toBe(400);
    expect((await api.request('GET', `/api/v4/users/me/teams/${world.team.id}/channels`)).status).toBe(401);
  });
});

describe('POST /channels/direct', () => {
  it('creates the direct channel once and returns it to either user, 201 each time', async () => {
    const a = world.user('other');
    const b = world.user('outsider');
    const first = await clientFor(a.token).createDirectChannel([a.id, b.id]);
    expect(first).toMatchObject({ type: 'D', team_id: '', name: [a.id, b.id].sort().join('__'), delete_at: 0 });
    const again = await api.postJson('/api/v4/channels/direct', [b.id, a.id], auth(b.token));
    expect(again.status).toBe(201);
    expect(again.json().id).toBe(first.id);
    // Both are members: each reads it, a third user does not.
    expect((await clientFor(b.token).getChannel(first.id)).id).toBe(first.id);
    expect(await failure(clientFor(world.user('creator').token).getChannel(first.id))).toEqual(forbidden);
  });

  it('creates a user\'s direct channel with themself, with one member', async () => {
    const me = world.user('outsider');
    const channel = await clientFor(me.token).createDirectChannel([me.id, me.id]);
    expect(channel).toMatchObject({ type: 'D', name: `${me.id}__${me.id}` });
    expect((await clientFor(me.token).getMyChannels(world.team.id)).map((found) => found.id)).toContain(channel.id);
  });

  it('refuses bad bodies with 400, unknown users with 400, others\' channels with 403', async () => {
    const me = world.user('creator');
    const headers = auth(me.token);
    const cases: Array<[unknown, string]> = [
      [[me.id], 'api.context.invalid_body_param.app_error'],
      [[me.id, world.user('other').id, world.user('outsider').id], 'api.context.invalid_body_param.app_error'],
      [[me.id, 'abc'], 'api.context.invalid_body_param.app_error'],
      [[me.id, 5], 'api.context.invalid_body_param.app_error'],
      [{ user_ids: [me.id, me.id] }, 'api.context.invalid_body_param.app_error'],
      [[me.id, BAD_ID], 'api.channel.create_direct_channel.invalid_user.app_error'],
    ];
    for (const [body, id] of cases) {
      const response = await api.postJson('/api/v4/channels/direct', body, headers);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.json()).toMatchObject({ id });
    }
    const notJson = await api.request('POST', '/api/v4/channels/direct', { body: '[', headers });
    expect(notJson.status).toBe(400);
    const theirs = await api.postJson('/api/v4/channels/direct', [world.user('other').id, world.user('outsider').id], headers);
    expect(theirs.status).toBe(403);
    expect(theirs.json()).toMatchObject({ id: 'api.context.permissions.app_error' });
    expect((await api.postJson('/api/v4/channels/direct', [me.id, me.id])).status).toBe(401);
  });
});
