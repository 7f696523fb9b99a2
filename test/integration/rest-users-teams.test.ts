import { describe, expect, it } from 'vitest';
import { MAX_USERS_PER_LOOKUP } from '../../lib/limits.js';
import { auth, BAD_ID, seedWorld, uniqueName, withApiAndWorlds, type Api, type World } from '../support/harness.js';
import { client4, failure } from '../support/client4.js';

let api: Api;
let world: World;
/** A second team the creator does not belong to, and its own member. */
let otherWorld: World;

withApiAndWorlds(2, (started, [seeded, other]) => ([api, world, otherWorld] = [started, seeded!, other!]));

const clientFor = (token: string) => client4(api.url, token);

describe('users', () => {
  it('GET /users/me answers the caller in Mattermost\'s user shape, without email or auth data', async () => {
    const creator = world.user('creator');
    const me = await clientFor(creator.token).getMe();
    expect(me).toMatchObject({
      id: creator.id,
      username: creator.username,
      delete_at: 0,
      email: '',
      auth_service: '',
      first_name: '',
      last_name: '',
      nickname: '',
      roles: 'system_user',
      locale: 'en',
      is_bot: false,
    });
    expect(me.create_at).toBeGreaterThan(0);
    expect(me).not.toHaveProperty('password');
    expect(me).not.toHaveProperty('auth_data');
    expect(me).not.toHaveProperty('mfa_secret');
  });

  it('GET /users/{user_id} and /users/username/{username} find another user, with the same shape', async () => {
    const client = clientFor(world.user('creator').token);
    const other = world.user('other');
    const byId = await client.getUser(other.id);
    expect(byId).toMatchObject({ id: other.id, username: other.username, email: '', roles: 'system_user' });
    expect(await client.getUserByUsername(other.username)).toEqual(byId);
    // Mattermost lowercases the name.
    expect((await client.getUserByUsername(other.username.toUpperCase())).id).toBe(other.id);
    // Users of other teams are visible too (Mattermost's default: any user may see any user).
    expect((await client.getUser(otherWorld.user('creator').id)).username).toBe(otherWorld.user('creator').username);
  });

  it('answers 404 for unknown users and 400 for malformed ids and names', async () => {
    const client = clientFor(world.user('creator').token);
    expect(await failure(client.getUser(BAD_ID))).toEqual({ status: 404, id: 'app.user.missing_account.const' });
    expect(await failure(client.getUserByUsername(uniqueName('nobody')))).toEqual({ status: 404, id: 'app.user.get_by_username.app_error' });
    const token = auth(world.user('creator').token);
    for (const path of ['/api/v4/users/abc', `/api/v4/users/${'a'.repeat(27)}`, '/api/v4/users/me%20x', '/api/v4/users/username/-bad', `/api/v4/users/username/${'a'.repeat(65)}`]) {
      const response = await api.request('GET', path, { headers: token });
      expect(response.status, path).toBe(400);
      expect(response.json(), path).toMatchObject({ id: 'api.context.invalid_url_param.app_error', status_code: 400 });
    }
  });

  it('answers 401 without a valid token on every user route', async () => {
    const requests: Array<[string, string, string?]> = [
      ['GET', '/api/v4/users/me'],
      ['GET', `/api/v4/users/${world.user('other').id}`],
      ['GET', `/api/v4/users/username/${world.user('other').username}`],
      ['POST', '/api/v4/users/ids', JSON.stringify([world.user('other').id])],
      ['POST', '/api/v4/users/usernames', JSON.stringify([world.user('other').username])],
      ['GET', '/api/v4/users/me/teams'],
    ];
    for (const [method, path, body] of requests) {
      for (const headers of [{}, auth('not-a-token')]) {
        const response = await api.request(method, path, { headers, ...(body ? { body } : {}) });
        expect(response.status, path).toBe(401);
        expect(response.json()).toMatchObject({ id: 'api.context.session_expired.app_error' });
      }
    }
  });

  it('POST /users/ids and /users/usernames answer the users that exist, unknown ones left out', async () => {
    const client = clientFor(world.user('creator').token);
    const creator = world.user('creator');
    const other = world.user('other');
    const byIds = await client.getProfilesByIds([creator.id, other.id, BAD_ID, other.id]);
    expect(byIds.map((user) => user.id).sort()).toEqual([creator.id, other.id].sort());
    expect(byIds.find((user) => user.id === other.id)).toMatchObject({ username: other.username, email: '', is_bot: false });
    const byNames = await client.getProfilesByUsernames([creator.username, other.username.toUpperCase(), 'no-such-user-here', '!!']);
    expect(byNames.map((user) => user.id).sort()).toEqual([creator.id, other.id].sort());
    expect(await client.getProfilesByUsernames(['nobody-at-all'])).toEqual([]);
  });

  it('refuses empty, malformed and oversized id and username lists with 400', async () => {
    const token = auth(world.user('creator').token);
    const cases: Array<[string, string, string]> = [
      ['/api/v4/users/ids', '[]', 'api.context.invalid_body_param.app_error'],
      ['/api/v4/users/ids', '{"a":1}', 'api.context.invalid_body_param.app_error'],
      ['/api/v4/users/ids', '[1]', 'api.context.invalid_body_param.app_error'],
      ['/api/v4/users/ids', 'not json', 'api.context.invalid_body_param.app_error'],
      ['/api/v4/users/ids', '["abc"]', 'api.context.invalid_body_param.app_error'],
      ['/api/v4/users/ids', JSON.stringify(Array.from({ length: MAX_USERS_PER_LOOKUP + 1 }, (_, index) => `${'a'.repeat(20)}${String(index).padStart(6, '0')}`)), 'api.context.invalid_body_param.app_error'],
      ['/api/v4/users/usernames', '[]', 'api.context.invalid_body_param.app_error'],
      ['/api/v4/users/usernames', '"alice"', 'api.context.invalid_body_param.app_error'],
      ['/api/v4/users/usernames', JSON.stringify(Array.from({ length: MAX_USERS_PER_LOOKUP + 1 }, (_, index) => `user${index}`)), 'api.context.invalid_body_param.app_error'],
    ];
    for (const [path, body, id] of cases) {
      const response = await api.request('POST', path, { body, headers: { ...token, 'content-type': 'application/json' } });
      expect(response.status, `${path} ${body.slice(0, 40)}`).toBe(400);
      expect(response.json()).toMatchObject({ id, status_code: 400 });
    }
    // The cap itself is allowed.
    const atCap = Array.from({ length: MAX_USERS_PER_LOOKUP }, (_, index) => `${'b'.repeat(20)}${String(index).padStart(6, '0')}`);
    const response = await api.request('POST', '/api/v4/users/ids', { body: JSON.stringify([world.user('other').id, ...atCap.slice(1)]), headers: token });
    expect(response.status).toBe(200);
    expect(response.json().map((user: { id: string }) => user.id)).toEqual([world.user('other').id]);
  });
});

describe('teams', () => {
  it('GET /teams/{team_id} and /teams/name/{name} answer a member the team in Mattermost\'s shape', async () => {
    const client = clientFor(world.user('outsider').token);
    const team = await client.getTeam(world.team.id);
    expect(team).toMatchObject({ id: world.team.id, name: world.team.name, delete_at: 0, type: 'I', allow_open_invite: false, email: '', invite_id: '' });
    expect(typeof team.display_name).toBe('string');
    expect(await client.getTeamByName(world.team.name)).toEqual(team);
  });

  it('answers 403 to a non-member, 404 for an unknown team, 400 for a malformed id or name', async () => {
    const client = clientFor(world.user('creator').token);
    const forbidden = { status: 403, id: 'api.context.permissions.app_error' };
    expect(await failure(client.getTeam(otherWorld.team.id))).toEqual(forbidden);
    expect(await failure(client.getTeamByName(otherWorld.team.name))).toEqual(forbidden);
    expect(await failure(client.getTeam(BAD_ID))).toEqual({ status: 404, id: 'app.team.get.find.app_error' });
    expect(await failure(client.getTeamByName(uniqueName('noteam')))).toEqual({ status: 404, id: 'app.team.get_by_name.missing.app_error' });
    const token = auth(world.user('creator').token);
    for (const [path, name] of [['/api/v4/teams/abc', 'team_id'], ['/api/v4/teams/name/-x', 'team_name'], ['/api/v4/teams/name/admin', 'team_name'], [`/api/v4/teams/name/${'a'.repeat(65)}`, 'team_name']] as const) {
      const response = await api.request('GET', path, { headers: token });
      expect(response.status, path).toBe(400);
      expect(response.json(), path).toMatchObject({ id: 'api.context.invalid_url_param.app_error', message: expect.stringContaining(name) });
    }
    for (const path of [`/api/v4/teams/${world.team.id}`, `/api/v4/teams/name/${world.team.name}`]) {
      expect((await api.request('GET', path)).status, path).toBe(401);
    }
  });

  it('GET /users/me/teams lists the caller\'s teams only; another user\'s list is 403', async () => {
    // A user in both teams, added through the seed.
    const both = uniqueName('both');
    const seeded = await seedWorld(api.runtime, (names) => ({ users: [{ username: both, teams: [names.team, world.team.name], channels: [] }] }));
    const client = clientFor(seeded.user(both).token);
    const mine = await client.getMyTeams();
    expect(mine.map((team) => team.id).sort()).toEqual([seeded.team.id, world.team.id].sort());
    expect(mine.find((team) => team.id === world.team.id)).toMatchObject({ name: world.team.name, type: 'I' });
    expect((await client.getTeamsForUser(seeded.user(both).id)).map((team) => team.id).sort()).toEqual(mine.map((team) => team.id).sort());
    expect((await clientFor(world.user('other').token).getMyTeams()).map((team) => team.id)).toEqual([world.team.id]);
    expect(await failure(client.getTeamsForUser(world.user('other').id))).toEqual({ status: 403, id: 'api.context.permissions.app_error' });
    const malformed = await api.request('GET', '/api/v4/users/abc/teams', { headers: auth(world.user('other').token) });
    expect(malformed.status).toBe(400);
  });
});
