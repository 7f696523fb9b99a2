import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAuditRecords } from '../../lib/audit.js';
import { hashToken, newId } from '../../lib/ids.js';
import { operatorCaller } from '../../lib/permissions.js';
import { createUserAccessToken } from '../../lib/rest/access-tokens.js';
import { applySeed } from '../../lib/seed/seed.js';
import { seedFileSchema } from '../../lib/seed/schema.js';
import { keys } from '../../lib/store/keys.js';
import { compareRouteSpecificity } from '../../infra/local/gateway.js';
import { client4, failure } from '../support/client4.js';
import { seedWorld, startApi, uniqueName, type Api, type World } from '../support/harness.js';

/**
 * Personal access tokens through Mattermost's token API: create (the secret shown once), lists,
 * get, revoke, disable, enable, search; who may do what; tokens refused when disabled, revoked,
 * expired or switched off; how fast a revocation reaches warm instances; tokens of the old stored
 * shape; and the seed's tokens, which are personal access tokens too.
 */
let api: Api;
let world: World;
const names = { admin: uniqueName('admin'), tokener: uniqueName('tokener'), tokener2: uniqueName('tokener'), plain: uniqueName('plain') };

beforeAll(async () => {
  api = await startApi();
  world = await seedWorld(api.runtime, () => ({
    users: [
      { username: names.admin, roles: ['system_admin'] },
      { username: names.tokener, roles: ['system_user_access_token'] },
      { username: names.tokener2, roles: ['system_user_access_token'] },
      { username: names.plain },
    ],
  }));
});
afterAll(() => api.close());

const user = (name: keyof typeof names) => world.user(names[name]);
const clientOf = (token: string, url = api.url) => client4(url, token);
const auth = (token: string) => ({ authorization: `Bearer ${token}` });
const RANDOM_ID = 'aaaaaaaaaaaaaaaaaaaaaaaaaa';

/** A new token of `owner`, created by the admin. */
async function newToken(owner: keyof typeof names, description = 'test') {
  return clientOf(user('admin').token).createUserAccessToken(user(owner).id, description);
}

describe('create (MG-60)', () => {
  it('answers 400 for an empty description, 200 with a 26-character token shown once, which authenticates', async () => {
    const client = clientOf(user('tokener').token);
    expect(await failure(client.createUserAccessToken('me', ''))).toEqual({ status: 400, id: 'api.context.invalid_body_param.app_error' });
    const created = await client.createUserAccessToken('me', 'ci bot');
    expect(created).toMatchObject({ user_id: user('tokener').id, description: 'ci bot', is_active: true, expires_at: 0 });
    expect(created.token).toMatch(/^[a-z0-9]{26}$/);
    expect(created.id).toMatch(/^[a-z0-9]{26}$/);
    const raw = await api.postJson('/api/v4/users/me/tokens', { description: 'raw' }, auth(user('tokener').token));
    expect(raw.status).toBe(200);
    const fetched = await client.getUserAccessToken(created.id);
    expect(fetched).toMatchObject({ id: created.id, user_id: user('tokener').id, description: 'ci bot', is_active: true });
    expect(fetched).not.toHaveProperty('token');
    expect((await clientOf(created.token!).getMe()).id).toBe(user('tokener').id);
    // Only the hash is stored.
    const stored = await api.runtime.entities.getRaw(keys.userToken(hashToken(created.token!)));
    expect(JSON.stringify(stored)).not.toContain(created.token);
  });

  it('validates the body as Mattermost: description length in bytes, expires_at 0 or future, types, the user', async () => {
    const admin = user('admin').token;
    const create = (body: unknown, userId = user('tokener').id) => api.postJson(`/api/v4/users/${userId}/tokens`, body, auth(admin));
    expect((await create({ description: 'é'.repeat(127) })).status).toBe(200);
    const tooLong = await create({ description: 'é'.repeat(128) });
    expect([tooLong.status, tooLong.json().id]).toEqual([400, 'model.user_access_token.is_valid.description.app_error']);
    const past = await create({ description: 'old', expires_at: Date.now() - 1000 });
    expect([past.status, past.json().id]).toEqual([400, 'app.user_access_token.expires_at_in_past.app_error']);
    const future = Date.now() + 3_600_000;
    const expiring = await create({ DESCRIPTION: 'later', expires_at: future });
    expect(expiring.status).toBe(200);
    expect(expiring.json()).toMatchObject({ description: 'later', expires_at: future });
    for (const body of [{ description: 'x', expires_at: 'soon' }, { description: 'x', expires_at: 1.5 }, { description: 7 }, [], 'text']) {
      const answer = await create(body);
      expect([answer.status, answer.json().id], JSON.stringify(body)).toEqual([400, 'api.context.invalid_body_param.app_error']);
    }
    const notJson = await api.request('POST', `/api/v4/users/${user('tokener').id}/tokens`, { body: '{', headers: auth(admin) });
    expect([notJson.status, notJson.json().id]).toEqual([400, 'api.context.invalid_body_param.app_error']);
    const badId = await create({ description: 'x' }, 'abc');
    expect([badId.status, badId.json().id]).toEqual([400, 'api.context.invalid_url_param.app_error']);
    const unknown = await create({ description: 'x' }, RANDOM_ID);
    expect([unknown.status, unknown.json().id]).toEqual([404, 'app.user.missing_account.const']);
  });
});

describe('permissions', () => {
  it('lets a user with the token role manage their own tokens only; a user without it none; the admin every one', async () => {
    const tokener = clientOf(user('tokener').token);
    const tokener2 = clientOf(user('tokener2').token);
    const plain = clientOf(user('plain').token);
    const own = await tokener.createUserAccessToken('me', 'mine');
    const permissionError = { status: 403, id: 'api.context.permissions.app_error' };
    // Without `system_user_access_token`, not even one's own tokens.
    expect(await failure(plain.createUserAccessToken('me', 'x'))).toEqual(permissionError);
    expect(await failure(plain.getUserAccessTokensForUser(user('plain').id))).toEqual(permissionError);
    // Another user's tokens need edit_other_users.
    expect(await failure(tokener.createUserAccessToken(user('tokener2').id, 'x'))).toEqual(permissionError);
    expect(await failure(tokener2.getUserAccessToken(own.id))).toEqual(permissionError);
    expect(await failure(tokener2.getUserAccessTokensForUser(user('tokener').id))).toEqual(permissionError);
    expect(await failure(tokener2.disableUserAccessToken(own.id))).toEqual(permissionError);
    expect(await failure(tokener2.revokeUserAccessToken(own.id))).toEqual(permissionError);
    // All tokens and search are for system admins.
    expect(await failure(tokener.getUserAccessTokens())).toEqual(permissionError);
    const search = await api.postJson('/api/v4/users/tokens/search', { term: names.tokener }, auth(user('tokener').token));
    expect([search.status, search.json().id]).toEqual([403, permissionError.id]);
    // The admin may do everything, for anyone.
    const admin = clientOf(user('admin').token);
    const forOther = await admin.createUserAccessToken(user('tokener2').id, 'given');
    expect(forOther.user_id).toBe(user('tokener2').id);
    expect((await admin.getUserAccessToken(own.id)).id).toBe(own.id);
    expect((await tokener2.getUserAccessTokensForUser('me')).map((token) => token.id)).toContain(forOther.id);
    // Logged out.
    const anonymous = await api.request('GET', '/api/v4/users/tokens');
    expect([anonymous.status, anonymous.json().id]).toEqual([401, 'api.context.session_expired.app_error']);
  });
});

describe('lists and search', () => {
  it('lists a user\'s tokens oldest first, by page, without secrets; the admin lists all of them', async () => {
    const owner = uniqueName('owner');
    const seeded = await applySeed('owner.yaml', seedFileSchema.parse({ users: [{ username: owner, roles: ['system_user_access_token'] }] }), { store: api.runtime.entities, siteUrl: '' });
    const ownerToken = seeded.users[0]!.token!;
    const client = clientOf(ownerToken);
    const made = [];
    for (const description of ['one', 'two', 'three']) made.push(await client.createUserAccessToken('me', description));
    const all = await client.getUserAccessTokensForUser('me', 0, 60);
    // The seed's own token comes first.
    expect(all.map((token) => token.description)).toEqual(['seed', 'one', 'two', 'three']);
    expect(all.every((token) => !('token' in token))).toBe(true);
    expect((await client.getUserAccessTokensForUser('me', 1, 2)).map((token) => token.description)).toEqual(['two', 'three']);
    expect(await client.getUserAccessTokensForUser('me', 0, 0)).toEqual([]);
    expect(await client.getUserAccessTokensForUser('me', 100_000, 200)).toEqual([]);
    const admin = clientOf(user('admin').token);
    const everyone = await admin.getUserAccessTokens(0, 200);
    expect(everyone.every((token) => !('token' in token))).toBe(true);
    let listed: string[] = [];
    for (let page = 0; listed.length < 100_000; page++) {
      const batch = await admin.getUserAccessTokens(page, 200);
      listed = [...listed, ...batch.map((token) => token.id)];
      if (batch.length < 200) break;
    }
    expect(listed).toEqual(expect.arrayContaining(made.map((token) => token.id)));
    // An unknown user has no tokens (Mattermost answers an empty list).
    expect(await admin.getUserAccessTokensForUser(RANDOM_ID)).toEqual([]);
  });

  it('searches by token id, user id and username prefix (admins only), 400 without a term', async () => {
    const created = await newToken('tokener2', 'searchable');
    const search = async (term: unknown) => api.postJson('/api/v4/users/tokens/search', { term }, auth(user('admin').token));
    for (const term of [created.id, user('tokener2').id, names.tokener2, names.tokener2.slice(0, -2).toUpperCase()]) {
      const answer = await search(term);
      expect(answer.status, String(term)).toBe(200);
      expect(answer.json().map((token: { id: string }) => token.id), String(term)).toContain(created.id);
      expect(answer.json().every((token: object) => !('token' in token))).toBe(true);
    }
    expect((await search('zzzzzzzz')).json()).toEqual([]);
    for (const term of ['', 5]) {
      const answer = await search(term);
      expect([answer.status, answer.json().id]).toEqual([400, 'api.context.invalid_body_param.app_error']);
    }
  });
});

describe('revoke, disable, enable', () => {
  it('refuses a disabled token at once, accepts it again once enabled, and forgets a revoked one', async () => {
    const created = await newToken('tokener');
    const admin = clientOf(user('admin').token);
    const tokenClient = clientOf(created.token!);
    expect((await tokenClient.getMe()).id).toBe(user('tokener').id);
    expect(await admin.disableUserAccessToken(created.id)).toEqual({ status: 'OK' });
    expect((await admin.getUserAccessToken(created.id)).is_active).toBe(false);
    expect(await failure(tokenClient.getMe())).toEqual({ status: 401, id: 'api.context.session_expired.app_error' });
    expect(await admin.enableUserAccessToken(created.id)).toEqual({ status: 'OK' });
    expect((await tokenClient.getMe()).id).toBe(user('tokener').id);
    // The owner revokes their own token.
    expect(await clientOf(user('tokener').token).revokeUserAccessToken(created.id)).toEqual({ status: 'OK' });
    expect(await failure(tokenClient.getMe())).toEqual({ status: 401, id: 'api.context.session_expired.app_error' });
    expect(await failure(admin.getUserAccessToken(created.id))).toEqual({ status: 404, id: 'app.user_access_token.get_by_user.app_error' });
    expect(await failure(admin.revokeUserAccessToken(created.id))).toEqual({ status: 404, id: 'app.user_access_token.get_by_user.app_error' });
    expect(await failure(admin.enableUserAccessToken(created.id))).toEqual({ status: 404, id: 'app.user_access_token.get_by_user.app_error' });
  });

  it('answers 400 without a token_id, 404 for an unknown or malformed one, 400 for a malformed path id', async () => {
    const adminAuth = auth(user('admin').token);
    for (const route of ['revoke', 'disable', 'enable']) {
      for (const body of ['{}', '{"token_id":""}', '{"token_id":5}', 'not json']) {
        const answer = await api.request('POST', `/api/v4/users/tokens/${route}`, { body, headers: adminAuth });
        expect([answer.status, answer.json().id], `${route} ${body}`).toEqual([400, 'api.context.invalid_body_param.app_error']);
      }
      for (const tokenId of ['junk', RANDOM_ID]) {
        const answer = await api.postJson(`/api/v4/users/tokens/${route}`, { token_id: tokenId }, adminAuth);
        expect([answer.status, answer.json().id]).toEqual([404, 'app.user_access_token.get_by_user.app_error']);
      }
    }
    const badPath = await api.request('GET', '/api/v4/users/tokens/abc', { headers: adminAuth });
    expect([badPath.status, badPath.json().id]).toEqual([400, 'api.context.invalid_url_param.app_error']);
  });

  it('refuses an expired token, and accepts one that expires later', async () => {
    const owner = user('tokener').id;
    const expired = newId();
    const later = newId();
    const nowMs = Date.now();
    await api.runtime.entities.accessTokens.create({ id: newId(), user_id: owner, description: 'expired', is_active: true, expires_at: nowMs - 1, create_at: nowMs - 10 }, hashToken(expired));
    await api.runtime.entities.accessTokens.create({ id: newId(), user_id: owner, description: 'later', is_active: true, expires_at: nowMs + 3_600_000, create_at: nowMs }, hashToken(later));
    expect(await failure(clientOf(expired).getMe())).toEqual({ status: 401, id: 'api.context.session_expired.app_error' });
    expect((await clientOf(later).getMe()).id).toBe(owner);
  });

  it('a revocation reaches warm instances within ENTITY_CACHE_TTL_SECONDS, and the revoking one at once', async () => {
    const slow = await startApi({ ENTITY_CACHE_TTL_SECONDS: '600' });
    const fast = await startApi({ ENTITY_CACHE_TTL_SECONDS: '1' });
    try {
      const created = await newToken('tokener');
      // Every instance has the token in its cache.
      for (const instance of [slow, fast]) expect((await clientOf(created.token!, instance.url).getMe()).id).toBe(user('tokener').id);
      const revoked = await newToken('tokener');
      expect((await clientOf(revoked.token!, slow.url).getMe()).id).toBe(user('tokener').id);
      // Revoked through the long-TTL instance: refused there at once, though its cache had it.
      expect(await clientOf(user('admin').token, slow.url).revokeUserAccessToken(revoked.id)).toEqual({ status: 'OK' });
      expect(await failure(clientOf(revoked.token!, slow.url).getMe())).toEqual({ status: 401, id: 'api.context.session_expired.app_error' });
      // Disabled elsewhere: the other long-TTL instance still trusts its copy; the 1-second one stops within its interval.
      expect(await clientOf(user('admin').token).disableUserAccessToken(created.id)).toEqual({ status: 'OK' });
      expect((await clientOf(created.token!, slow.url).getMe()).id).toBe(user('tokener').id);
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      expect(await failure(clientOf(created.token!, fast.url).getMe())).toEqual({ status: 401, id: 'api.context.session_expired.app_error' });
    } finally {
      await slow.close();
      await fast.close();
    }
  });

  it('writes an audit record for each change, never with the token', async () => {
    const before = Date.now();
    const created = await newToken('tokener2', 'audited');
    const admin = clientOf(user('admin').token);
    await admin.disableUserAccessToken(created.id);
    await admin.enableUserAccessToken(created.id);
    await admin.revokeUserAccessToken(created.id);
    await failure(clientOf(user('tokener').token).revokeUserAccessToken(created.id));
    const records = (await listAuditRecords(api.runtime, { sinceMs: before, limit: 10_000 })).filter((record) => record.objectId === created.id).reverse();
    expect(records.map((record) => [record.event, record.status])).toEqual([
      ['createUserAccessToken', 'success'],
      ['disableUserAccessToken', 'success'],
      ['enableUserAccessToken', 'success'],
      ['revokeUserAccessToken', 'success'],
      ['revokeUserAccessToken', 'fail'],
    ]);
    expect(records[0]).toMatchObject({ actorId: user('admin').id, detail: { user_id: user('tokener2').id } });
    expect(JSON.stringify(records)).not.toContain(created.token);
  });
});

describe('ENABLE_USER_ACCESS_TOKENS', () => {
  it('off: every token is refused with 401, and creation answers 501', async () => {
    const off = await startApi({ ENABLE_USER_ACCESS_TOKENS: 'false' });
    try {
      for (const token of [user('admin').token, user('tokener').token]) {
        expect(await failure(clientOf(token, off.url).getMe())).toEqual({ status: 401, id: 'api.context.session_expired.app_error' });
        expect(await failure(clientOf(token, off.url).createUserAccessToken('me', 'x'))).toEqual({ status: 401, id: 'api.context.session_expired.app_error' });
      }
      // Only the operator reaches create with tokens off.
      const refused = await createUserAccessToken(off.runtime, operatorCaller('ops'), user('tokener').id, { description: 'x' }).catch((error: unknown) => error);
      expect(refused).toMatchObject({ id: 'app.user_access_token.disabled', statusCode: 501 });
    } finally {
      await off.close();
    }
  });
});

describe('stored shapes and the seed', () => {
  it('a token stored as a bare pointer (before tokens had metadata) still authenticates; the seed rewrites it', async () => {
    const username = uniqueName('legacy');
    const file = seedFileSchema.parse({ users: [{ username }] });
    const first = await applySeed('legacy.yaml', file, { store: api.runtime.entities, siteUrl: '' });
    const { id: userId, token } = first.users[0]!;
    const tokenKey = keys.userToken(hashToken(token!));
    const migrated = await api.runtime.entities.getRaw(tokenKey);
    // The old shape: a pointer to the user, no id item.
    await api.runtime.entities.writeTransaction([{ delete: keys.accessTokenId(String(migrated!.id)) }, { put: { ...tokenKey, kind: 'pointer', target_id: userId } }]);
    const noCache = await startApi({ ENTITY_CACHE_TTL_SECONDS: '0' });
    try {
      expect((await clientOf(token!, noCache.url).getMe()).id).toBe(userId);
      // The next run stores it as a personal access token, listed, still the same secret.
      await applySeed('legacy.yaml', file, { store: api.runtime.entities, siteUrl: '' });
      const listed = await clientOf(user('admin').token).getUserAccessTokensForUser(userId);
      expect(listed).toMatchObject([{ user_id: userId, description: 'seed', is_active: true, expires_at: 0 }]);
      expect((await clientOf(token!, noCache.url).getMe()).id).toBe(userId);
      // And a third run writes nothing.
      expect((await applySeed('legacy.yaml', file, { store: api.runtime.entities, siteUrl: '' })).written_items).toBe(0);
    } finally {
      await noCache.close();
    }
  });

  it('a changed seed token revokes the old one, its listing entry included; a disabled one stays disabled', async () => {
    const username = uniqueName('rotate');
    const oldToken = `${newId()}${newId()}`;
    const newToken = `${newId()}${newId()}`;
    const seed = (token: string) => applySeed('rotate.yaml', seedFileSchema.parse({ users: [{ username, token }] }), { store: api.runtime.entities, siteUrl: '' });
    const userId = (await seed(oldToken)).users[0]!.id;
    const admin = clientOf(user('admin').token);
    const [before] = await admin.getUserAccessTokensForUser(userId);
    expect(before).toMatchObject({ description: 'seed', is_active: true });
    await seed(newToken);
    const noCache = await startApi({ ENTITY_CACHE_TTL_SECONDS: '0' });
    try {
      expect(await failure(clientOf(oldToken, noCache.url).getMe())).toEqual({ status: 401, id: 'api.context.session_expired.app_error' });
      expect((await clientOf(newToken, noCache.url).getMe()).id).toBe(userId);
      expect(await failure(admin.getUserAccessToken(before!.id))).toMatchObject({ status: 404 });
      const [after, ...more] = await admin.getUserAccessTokensForUser(userId);
      expect(more).toEqual([]);
      expect(after!.id).not.toBe(before!.id);
      // Disabled through the API, the seed's token stays disabled when the file is applied again.
      await admin.disableUserAccessToken(after!.id);
      expect((await seed(newToken)).written_items).toBe(0);
      expect(await failure(clientOf(newToken, noCache.url).getMe())).toMatchObject({ status: 401 });
    } finally {
      await noCache.close();
    }
  });
});

describe('routes', () => {
  it('/users/tokens reaches the token routes, not /users/{user_id}, locally as on API Gateway', async () => {
    const adminAuth = auth(user('admin').token);
    const all = await api.request('GET', '/api/v4/users/tokens', { headers: adminAuth });
    expect(all.status).toBe(200);
    expect(Array.isArray(all.json())).toBe(true);
    expect((await api.request('GET', `/api/v4/users/${user('tokener').id}`, { headers: adminAuth })).json().username).toBe(names.tokener);
    // Both `/users/tokens/{token_id}` and `/users/{user_id}/teams` match; the literal segment comes first.
    const tie = await api.request('GET', '/api/v4/users/tokens/teams', { headers: adminAuth });
    expect([tie.status, tie.json().id]).toEqual([400, 'api.context.invalid_url_param.app_error']);
    expect(compareRouteSpecificity('/api/v4/users/tokens/{token_id}', '/api/v4/users/{user_id}/teams')).toBeLessThan(0);
    expect(compareRouteSpecificity('/api/v4/users/{user_id}', '/api/v4/users/tokens')).toBeGreaterThan(0);
  });
});
