import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateTriggerId } from '../../lib/integrations/trigger-id.js';
import { routes } from '../../lib/routes.js';
import { replyJson, startCallbackServer, type CallbackServer } from '../support/callback-server.js';
import { bytes, jsonText, oddNumberText, oddString, value } from '../support/fuzz-inputs.js';
import { seedWorld, startApi, type Api, type ApiResponse, type World } from '../support/harness.js';

/**
 * A bounded fuzz run over HTTP: thousands of generated requests to every route of lib/routes.ts
 * through the local gateway (odd path segments and escapes, long ids, headers, JSON, form,
 * multipart and garbage bodies, deep nesting, huge lists and numbers), with real ids mixed in so
 * requests get past authentication and lookups. No request may answer 5xx, and every 4xx must be
 * Mattermost's error JSON. The integrations (a command, an action) answer generated bodies too.
 * The seed is fixed, so a failure is reproducible; loop counts are fixed, so the run is bounded.
 */
/** Fixed, so a failure is reproducible; FUZZ_SEED=<n> explores other inputs. */
const SEED = Number(process.env.FUZZ_SEED ?? 20_260_914);
const REQUESTS_PER_ROUTE = 400;
const ONLY = process.env.FUZZ_ONLY;
const CONCURRENCY = 12;
const WEBSOCKET_FRAMES = 150;

let api: Api;
let world: World;
let integration: CallbackServer;
let actionPostId = '';
/** A post of the creator's for the edit and reaction routes, apart from the action post. */
let editPostId = '';
const responseUrlIds: string[] = [];
/** A system admin, so that token requests get past the permission checks. */
const fuzzAdmin = `fuzzadmin${Date.now().toString(36)}`;
/** Tokens the token routes may get, revoke, disable and enable (never the ones requests authenticate with). */
const fuzzTokenIds: string[] = [];
let managedOutgoingId = '';
/** Signs the trigger ids of the dialog requests, so that some open dialogs and reach the integration. */
let actionSecret = '';

/** Bodies the command and action integrations answer with, drawn in turn. */
const integrationAnswers = fc.sample(fc.oneof(jsonText, value.map((any) => JSON.stringify({ update: { message: 'u', props: any }, ephemeral_text: 'e' }))), { numRuns: 500, seed: SEED });

beforeAll(async () => {
  integration = await startCallbackServer((request, index, response) => {
    if (request.url.startsWith('/command')) {
      const responseUrl = new URLSearchParams(request.body).get('response_url') ?? '';
      const id = responseUrl.split('/').pop();
      if (id) responseUrlIds.push(id);
      // Mattermost answers 500 when a command's integration answers badly; that is not the caller's input, so this one answers well.
      replyJson(response, { text: 'fuzzed', response_type: index % 2 ? 'in_channel' : 'ephemeral' });
      return;
    }
    // A dialog's integration failing answers 502/503 (Mattermost's mapping, pinned in dialogs.test.ts): not the caller's input.
    response.writeHead(index % 7 === 0 && !request.url.startsWith('/dialog') ? 500 : 200, { 'content-type': 'application/json' });
    response.end(integrationAnswers[index % integrationAnswers.length]);
  });
  // A burst no run reaches: the hook's rate limit would otherwise answer most hook requests before decoding.
  api = await startApi({ ALLOWED_UNTRUSTED_INTERNAL_CONNECTIONS: '127.0.0.0/8', OUTGOING_INTEGRATION_REQUESTS_TIMEOUT: '2', INCOMING_WEBHOOK_RATE_LIMIT_BURST: '1000000' });
  world = await seedWorld(api.runtime, (names) => ({
    commands: [
      { team: names.team, trigger: 'fuzz', url: `${integration.url}/command`, method: 'P', creator: names.creator },
      // The command management routes change this one (never the one above, which the execute requests need).
      { team: names.team, trigger: 'fuzzmanaged', url: `${integration.url}/command`, method: 'P', creator: names.creator },
    ],
    users: [{ username: `${names.team}-admin`, roles: ['system_admin'], teams: [names.team] }, { username: fuzzAdmin, roles: ['system_admin'] }],
    // The hook management routes change these (never the hook above, which the hook requests need).
    incoming_webhooks: [{ team: names.team, channel: 'off-topic', creator: names.creator, display_name: 'managed' }],
    outgoing_webhooks: [{ team: names.team, channel: 'off-topic', creator: names.creator, display_name: 'managed', trigger_words: ['fuzzmanaged'], callback_urls: ['https://managed.example.com/x'] }],
  }));
  managedOutgoingId = world.summary.outgoing_webhooks.find((hook) => hook.display_name === 'managed')!.id;
  actionSecret = (await api.runtime.entities.getActionSigningSecret())!;
  for (const description of ['fuzz one', 'fuzz two']) {
    fuzzTokenIds.push((await api.postJson('/api/v4/users/me/tokens', { description }, { authorization: `Bearer ${world.user(fuzzAdmin).token}` })).json().id);
  }
  const posted = await api.postJson(
    world.hook('main').url,
    { text: 'buttons', attachments: [{ actions: [{ id: 'clickme', name: 'Click', integration: { url: `${integration.url}/action`, context: { n: 1 } } }, { id: 'pick', name: 'Pick', type: 'select', options: [{ text: 'a', value: 'a' }], integration: { url: `${integration.url}/action` } }] }] },
    { prefer: 'return=representation' },
  );
  actionPostId = posted.json().post_id;
  editPostId = (await api.postJson('/api/v4/posts', { channel_id: world.channel('town-square').id, message: 'edit me' }, { authorization: `Bearer ${world.user('creator').token}` })).json().id;
});
afterAll(async () => {
  await api?.close();
  await integration?.close();
});

// --- generators of requests -----------------------------------------------------------------------

interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer | string;
}

const oddSegment = fc.oneof(
  fc.constantFrom('%', '%zz', '%E0%A4%A', '%ff', '%00', '%2F', '%2e%2e', 'a%20b', '%C0%AF', '~', '@', "'", '"'),
  fc.constantFrom('a'.repeat(27), 'b'.repeat(3_000), 'A'.repeat(26), '0'.repeat(26), 'é'.repeat(26), 'x-y_z'),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }),
  fc.stringMatching(/^[a-z0-9]{1,40}$/),
);

/** A real id (as given) or a hostile one. */
const idOr = (...real: Array<() => string>) => fc.oneof({ weight: 2, arbitrary: fc.constantFrom(...real).map((get) => get()) }, { weight: 3, arbitrary: oddSegment });

const authHeader = fc.oneof(
  { weight: 4, arbitrary: fc.constant(() => `Bearer ${world.user('creator').token}`) },
  { weight: 1, arbitrary: fc.constantFrom(() => `Bearer ${world.user('outsider').token}`, () => 'Bearer nope', () => 'Token ', () => 'Basic Zm9vOmJhcg==', () => `Bearer ${'t'.repeat(5_000)}`, () => '') },
);

const contentType = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=XyZ',
  'multipart/form-data',
  'text/plain',
  'application/json garbage',
  'mimetype/wrong',
  ';;;',
  '',
);

const extraHeaders = fc.dictionary(
  fc.constantFrom('prefer', 'x-forwarded-proto', 'accept', 'x-requested-with', 'x-request-id', 'content-encoding'),
  fc.oneof(fc.constantFrom('return=representation', 'https', 'gzip', '*/*'), fc.stringMatching(/^[\x21-\x7e]{0,40}$/)),
  { maxKeys: 2 },
);

/** A body for a content type: its natural encoding of generated JSON, or garbage of any kind. */
function encodeBody(type: string, json: string, raw: Buffer, pick: number): Buffer | string {
  if (pick % 5 === 0) return raw;
  if (type.startsWith('application/x-www-form-urlencoded')) return new URLSearchParams({ payload: json }).toString();
  if (type.startsWith('multipart/form-data')) return `--XyZ\r\nContent-Disposition: form-data; name="${pick % 3 ? 'text' : 'props'}"\r\n\r\n${json}\r\n--XyZ--\r\n`;
  return json;
}

const body = fc.tuple(contentType, jsonText, bytes, fc.nat());

const adversarial = fc.constantFrom(
  // The adversarial run's findings, each of which used to hog a function or answer 5xx.
  `{"text":"x","attachments":[${'{},'.repeat(90_000)}{}]}`,
  `{"text":"x","props":${'{"a":'.repeat(4_000)}1${'}'.repeat(4_000)}}`,
  `{"text":"x","props":${'['.repeat(60_000)}${']'.repeat(60_000)}}`,
  `{"text":"${'<@aaaaaaaaaaaaaaaaaaaaaaaaaa>'.repeat(5_000)}"}`,
  `{"text":"x","channel":"${'c'.repeat(5_000)}"}`,
  `{"text":"x","channel":"@${'u'.repeat(5_000)}"}`,
  `{"text":"x","root_id":"${'r'.repeat(5_000)}"}`,
  `{"text":${'9'.repeat(400)}}`,
);

function hookRequest(): fc.Arbitrary<FuzzRequest> {
  return fc.tuple(idOr(() => world.hook('main').id), body, extraHeaders, fc.option(adversarial, { freq: 8 }), fc.constantFrom('', '?payload=%7B%22text%22%3A%22q%22%7D', '?x=%zz')).map(([id, [type, json, raw, pick], headers, hostile, query]): FuzzRequest => ({
    method: 'POST',
    path: `/hooks/${id}${query}`,
    headers: { ...headers, ...(type ? { 'content-type': type } : {}) },
    body: hostile ?? encodeBody(type, json, raw, pick),
  }));
}

function responseUrlRequest(): fc.Arbitrary<FuzzRequest> {
  return fc.tuple(idOr(() => responseUrlIds[responseUrlIds.length - 1] ?? 'none', () => responseUrlIds[0] ?? 'none'), body, fc.option(adversarial, { freq: 8 }), value).map(([id, [type, json, raw, pick], hostile, any]): FuzzRequest => ({
    method: 'POST',
    path: `/hooks/commands/${id}`,
    headers: type ? { 'content-type': type.startsWith('multipart') ? 'application/json' : type } : {},
    body: hostile ?? (pick % 3 === 0 ? JSON.stringify({ text: 'r', response_type: 'in_channel', props: any, extra_responses: pick % 2 ? new Array(pick % 40).fill({ text: 'x' }) : [] }) : encodeBody(type, json, raw, pick)),
  }));
}

function createPostRequest(): fc.Arbitrary<FuzzRequest> {
  return fc.tuple(authHeader, body, value, oddString, fc.option(adversarial, { freq: 8 })).map(([auth, [type, json, raw, pick], props, message, hostile]) => ({
    method: 'POST',
    path: '/api/v4/posts',
    headers: { authorization: auth(), ...(type ? { 'content-type': type } : {}) },
    body: hostile ?? (pick % 2 ? JSON.stringify({ channel_id: pick % 4 === 1 ? world.channel('town-square').id : message, message, props, root_id: pick % 8 === 3 ? message : '' }) : encodeBody(type, json, raw, pick)),
  }));
}

function getPostRequest(): fc.Arbitrary<FuzzRequest> {
  return fc.tuple(authHeader, idOr(() => actionPostId)).map(([auth, id]) => ({ method: 'GET', path: `/api/v4/posts/${id}`, headers: { authorization: auth() } }));
}

function channelPostsRequest(): fc.Arbitrary<FuzzRequest> {
  const number = fc.oneof(fc.nat({ max: 300 }).map(String), fc.nat().map(String), oddNumberText, fc.constantFrom('-1', '1e9', '0x10', 'NaN', '', '%zz', '200', '201'));
  const param = fc.dictionary(fc.constantFrom('page', 'per_page', 'since', 'before', 'after'), fc.oneof(number, oddSegment, fc.constant(actionPostId ? 'ACTIONPOST' : '')), { maxKeys: 3 });
  return fc.tuple(authHeader, idOr(() => world.channel('town-square').id, () => world.channel('private').id), param).map(([auth, id, query]) => ({
    method: 'GET',
    path: `/api/v4/channels/${id}/posts?${Object.entries(query).map(([name, given]) => `${name}=${given === 'ACTIONPOST' ? actionPostId : given}`).join('&')}`,
    headers: { authorization: auth() },
  }));
}

function actionRequest(): fc.Arbitrary<FuzzRequest> {
  const requestBody = fc.oneof(fc.record({ selected_option: fc.oneof(oddString, fc.constant('a')), cookie: oddString }, { requiredKeys: [] }).map((object) => JSON.stringify(object)), jsonText, fc.constant(''));
  return fc.tuple(authHeader, idOr(() => actionPostId), fc.oneof(fc.constantFrom('clickme', 'pick'), oddSegment), requestBody).map(([auth, postId, actionId, payload]) => ({
    method: 'POST',
    path: `/api/v4/posts/${postId}/actions/${actionId}`,
    headers: { authorization: auth(), 'content-type': 'application/json' },
    body: payload,
  }));
}

function executeRequest(): fc.Arbitrary<FuzzRequest> {
  const text = fc.oneof(oddString, fc.constantFrom(`${'@user '.repeat(10)}`, Array.from({ length: 5_000 }, (_, index) => `@name${index}`).join(' '), `@${'a'.repeat(100)}${'.'.repeat(3_000)}`, `~${'c'.repeat(3_000)}`, '<@aaaaaaaaaaaaaaaaaaaaaaaaaa>'));
  const trigger = fc.oneof(fc.constantFrom('/fuzz', '/FUZZ', '/nope', '/', '', 'fuzz', `/${'t'.repeat(5_000)}`), oddString);
  return fc.tuple(authHeader, trigger, text, idOr(() => world.channel('town-square').id), fc.oneof(fc.constant(''), oddSegment), jsonText, fc.nat()).map(([auth, command, words, channelId, rootId, json, pick]) => ({
    method: 'POST',
    path: '/api/v4/commands/execute',
    headers: { authorization: auth(), 'content-type': 'application/json' },
    body: pick % 4 === 0 ? json : JSON.stringify({ command: `${command} ${words}`, channel_id: channelId, team_id: pick % 3 ? world.team.id : channelId, root_id: pick % 5 === 0 ? rootId : '' }),
  }));
}

function autocompleteRequest(): fc.Arbitrary<FuzzRequest> {
  const suggestions = fc.oneof(fc.constantFrom('', '?user_input=', '?user_input=%2F', '?user_input=%2Fe', '?user_input=%2Fecho%20hi', '?user_input=%zz'), oddSegment.map((input) => `?user_input=${input}&channel_id=${input}`));
  const path = fc.oneof(fc.constant('/commands/autocomplete'), suggestions.map((query) => `/commands/autocomplete_suggestions${query}`));
  return fc.tuple(authHeader, idOr(() => world.team.id), path).map(([auth, id, rest]) => ({ method: 'GET', path: `/api/v4/teams/${id}${rest}`, headers: { authorization: auth() } }));
}

/** Command management as a system admin (past the permission checks) or the usual callers, with real or hostile ids and bodies. */
function commandsManagementRequest(): fc.Arbitrary<FuzzRequest> {
  const commandId = () => world.summary.commands.find((command) => command.trigger === 'fuzzmanaged')!.id;
  const auth = fc.oneof({ weight: 3, arbitrary: fc.constant(() => `Bearer ${world.user(`${world.team.name}-admin`).token}`) }, { weight: 1, arbitrary: authHeader });
  const id = idOr(commandId);
  const team = idOr(() => world.team.id);
  const field = fc.oneof(oddString, value, fc.constantFrom('P', 'G', 'http://127.0.0.1:9/x', 'echo', 'fuzzmanaged', 'x'.repeat(2_000)));
  const command = fc
    .record(
      { id: fc.oneof(fc.constant('COMMANDID'), oddSegment), team_id: fc.oneof(team, value), trigger: field, url: field, method: field, creator_id: fc.oneof(oddSegment, value), token: field, display_name: field, auto_complete: value, create_at: value },
      { requiredKeys: [] },
    )
    .map((object) => JSON.stringify(object));
  const payload = fc.oneof(command, jsonText, fc.record({ team_id: fc.oneof(team, value) }, { requiredKeys: [] }).map((object) => JSON.stringify(object)));
  const target = fc.oneof(
    fc.tuple(fc.constant('POST'), fc.constant('/api/v4/commands')),
    fc.tuple(fc.constant('GET'), fc.tuple(team, fc.constantFrom('true', 'false', '1', 'x', '')).map(([teamId, only]) => `/api/v4/commands?team_id=${teamId}&custom_only=${only}`)),
    fc.tuple(fc.constantFrom('GET', 'PUT'), id.map((commandIdValue) => `/api/v4/commands/${commandIdValue}`)),
    fc.tuple(fc.constant('PUT'), fc.tuple(id, fc.constantFrom('/move', '/regen_token')).map(([commandIdValue, suffix]) => `/api/v4/commands/${commandIdValue}${suffix}`)),
    fc.tuple(fc.constant('DELETE'), oddSegment.map((segment) => `/api/v4/commands/${segment}`)),
  );
  return fc.tuple(auth, target, payload).map(([authorization, [method, path], json]) => ({
    method,
    path,
    headers: { authorization: authorization(), 'content-type': 'application/json' },
    ...(method === 'GET' || method === 'DELETE' ? {} : { body: json.replaceAll('COMMANDID', commandId()) }),
  }));
}

/** The REST reads: users, teams, channels, threads and reactions, with real or hostile ids and names. */
function restReadRequest(): fc.Arbitrary<FuzzRequest> {
  const user = idOr(() => world.user('creator').id, () => world.user('other').id, () => 'me');
  const team = idOr(() => world.team.id);
  const teamName = idOr(() => world.team.name, () => world.team.name.toUpperCase());
  const channelName = idOr(() => 'town-square', () => 'private', () => 'TOWN-SQUARE');
  const username = idOr(() => world.user('other').username);
  const post = idOr(() => editPostId, () => actionPostId);
  const path = fc.oneof(
    user.map((id) => `/api/v4/users/${id}`),
    user.map((id) => `/api/v4/users/${id}/teams`),
    username.map((name) => `/api/v4/users/username/${name}`),
    team.map((id) => `/api/v4/teams/${id}`),
    teamName.map((name) => `/api/v4/teams/name/${name}`),
    idOr(() => world.channel('town-square').id, () => world.channel('private').id).map((id) => `/api/v4/channels/${id}`),
    fc.tuple(team, channelName).map(([id, name]) => `/api/v4/teams/${id}/channels/name/${name}`),
    fc.tuple(teamName, channelName).map(([name, channel]) => `/api/v4/teams/name/${name}/channels/name/${channel}?include_deleted=${channel.length % 2 ? 'true' : 'x'}`),
    fc.tuple(user, team).map(([id, teamId]) => `/api/v4/users/${id}/teams/${teamId}/channels`),
    post.map((id) => `/api/v4/posts/${id}/thread`),
    post.map((id) => `/api/v4/posts/${id}/reactions`),
  );
  return fc.tuple(authHeader, path).map(([auth, target]) => ({ method: 'GET', path: target, headers: { authorization: auth() } }));
}

/** The REST routes with bodies: id and username lists, direct channels, reactions. */
function restBodyRequest(): fc.Arbitrary<FuzzRequest> {
  const realId = fc.constantFrom(() => world.user('creator').id, () => world.user('other').id, () => editPostId).map((get) => get());
  const entry = fc.oneof(realId, oddSegment, value);
  const list = fc.oneof(fc.array(entry, { maxLength: 5 }).map((items) => JSON.stringify(items)), fc.array(realId, { minLength: 150, maxLength: 260 }).map((items) => JSON.stringify(items)), jsonText);
  const reaction = fc.record({ user_id: fc.oneof(realId, oddSegment), post_id: fc.oneof(realId, oddSegment), emoji_name: fc.oneof(fc.constantFrom('smile', '+1', 'a'.repeat(64)), oddSegment) }, { requiredKeys: [] }).map((object) => JSON.stringify(object));
  const target = fc.oneof(
    fc.tuple(fc.constantFrom('/api/v4/users/ids', '/api/v4/users/usernames', '/api/v4/channels/direct'), list),
    fc.tuple(fc.constant('/api/v4/reactions'), fc.oneof(reaction, jsonText)),
  );
  const remove = fc.tuple(authHeader, idOr(() => world.user('creator').id, () => 'me'), idOr(() => editPostId), fc.oneof(fc.constantFrom('smile', '+1'), oddSegment)).map(([auth, user, post, emoji]) => ({
    method: 'DELETE',
    path: `/api/v4/users/${user}/posts/${post}/reactions/${emoji}`,
    headers: { authorization: auth() },
  }));
  const post = fc.tuple(authHeader, target).map(([auth, [path, body]]) => ({ method: 'POST', path, headers: { authorization: auth(), 'content-type': 'application/json' }, body }));
  return fc.oneof({ weight: 4, arbitrary: post }, { weight: 1, arbitrary: remove });
}

/** Post update and patch with generated bodies (never a delete, so the post stays for the others). */
function postEditRequest(): fc.Arbitrary<FuzzRequest> {
  const body = fc.oneof(
    fc.record({ id: fc.oneof(fc.constant('EDITPOST'), oddSegment), message: fc.oneof(oddString, value), props: value, is_pinned: value }, { requiredKeys: [] }).map((object) => JSON.stringify(object)),
    jsonText,
  );
  return fc.tuple(authHeader, idOr(() => editPostId), fc.constantFrom('', '/patch'), body).map(([auth, id, suffix, payload]) => ({
    method: 'PUT',
    path: `/api/v4/posts/${id}${suffix}`,
    headers: { authorization: auth(), 'content-type': 'application/json' },
    body: payload.replaceAll('EDITPOST', editPostId),
  }));
}

/** The hook management routes: generated hook bodies, query strings and ids, mostly as a system admin. */
function hookManagementRequest(): fc.Arbitrary<FuzzRequest> {
  const realId = fc.constantFrom(
    () => world.channel('town-square').id,
    () => world.channel('private').id,
    () => world.team.id,
    () => world.user('creator').id,
    () => world.hook('managed').id,
    () => managedOutgoingId,
  ).map((get) => get());
  const field = fc.oneof(realId, oddString, value);
  const list = fc.oneof(fc.array(fc.oneof(fc.constantFrom('build', 'http://x.test/a', ''), oddString), { maxLength: 6 }), fc.array(fc.constant('w'), { minLength: 500, maxLength: 1_200 }), value);
  const hookBody = fc.oneof(
    fc
      .record(
        {
          id: field, channel_id: field, team_id: field, user_id: field, creator_id: field, display_name: field, description: field, username: field, icon_url: field,
          channel_locked: fc.oneof(fc.boolean(), value), trigger_words: list, callback_urls: list, trigger_when: fc.oneof(fc.integer({ min: -2, max: 3 }), value), content_type: field, token: field, create_at: value,
        },
        { requiredKeys: [] },
      )
      .map((object) => JSON.stringify(object)),
    jsonText,
    fc.constantFrom('{"channel_id":"CHANNEL"}', '{"team_id":"TEAM","trigger_words":["x"],"callback_urls":["https://x.example.com"]}'),
  );
  const admin = fc.oneof({ weight: 3, arbitrary: fc.constant(() => `Bearer ${world.user(fuzzAdmin).token}`) }, { weight: 2, arbitrary: authHeader });
  const kind = fc.constantFrom('incoming', 'outgoing');
  const id = idOr(() => world.hook('managed').id, () => managedOutgoingId);
  const query = fc.tuple(fc.oneof(realId, oddSegment), fc.oneof(oddSegment, fc.constantFrom('0', '1', '-1', '999999999', '201')), fc.constantFrom('true', 'T', 'nope', '')).map(
    ([target, number, flag]) => `?team_id=${target}&channel_id=${target}&page=${number}&per_page=${number}&include_total_count=${flag}`,
  );
  const route = fc.oneof(
    fc.tuple(fc.constant('POST'), kind.map((k) => `/api/v4/hooks/${k}`)),
    fc.tuple(fc.constant('GET'), fc.tuple(kind, fc.oneof(query, fc.constant(''))).map(([k, q]) => `/api/v4/hooks/${k}${q}`)),
    fc.tuple(fc.constantFrom('GET', 'PUT', 'DELETE'), fc.tuple(kind, id).map(([k, hook]) => `/api/v4/hooks/${k}/${hook}`)),
    fc.tuple(fc.constant('POST'), fc.tuple(id, idOr(() => world.user('creator').id, () => 'me')).map(([hook, user]) => `/api/v4/hooks/incoming/${hook}/move/${user}`)),
    fc.tuple(fc.constant('POST'), fc.tuple(id, fc.constantFrom('regen_token', 'rotate_signing_secret')).map(([hook, action]) => `/api/v4/hooks/outgoing/${hook}/${action}`)),
  );
  return fc.tuple(admin, route, hookBody).map(([auth, [method, path], payload]) => ({
    method,
    path,
    headers: { authorization: auth(), 'content-type': 'application/json' },
    ...(method === 'GET' || method === 'DELETE' ? {} : { body: payload.replaceAll('CHANNEL', world.channel('town-square').id).replaceAll('TEAM', world.team.id) }),
  }));
}

/** The personal access token routes, mostly as a system admin so that requests reach the lookups and writes. */
function accessTokenRequest(): fc.Arbitrary<FuzzRequest> {
  const tokenAuth = fc.oneof({ weight: 3, arbitrary: fc.constant(() => `Bearer ${world.user(fuzzAdmin).token}`) }, { weight: 2, arbitrary: authHeader });
  const user = idOr(() => world.user('creator').id, () => 'me');
  const tokenId = idOr(() => fuzzTokenIds[0] ?? 'none', () => fuzzTokenIds[1] ?? 'none');
  const number = fc.oneof(fc.nat({ max: 300 }).map(String), fc.nat().map(String), oddNumberText, fc.constantFrom('-1', '1e9', '', '99999999999'));
  const query = fc.dictionary(fc.constantFrom('page', 'per_page', 'pageSize'), fc.oneof(number, oddSegment), { maxKeys: 2 }).map((entries) => Object.entries(entries).map(([name, given]) => `${name}=${given}`).join('&'));
  const json = (arbitrary: fc.Arbitrary<object>) => fc.oneof({ weight: 3, arbitrary: arbitrary.map((object) => JSON.stringify(object)) }, { weight: 1, arbitrary: jsonText });
  const createBody = json(fc.record({ description: fc.oneof(oddString, value, fc.constant('x'.repeat(256))), expires_at: fc.oneof(value, fc.integer(), fc.constant(Date.now() + 86_400_000), fc.constant(1e300)) }, { requiredKeys: [] }));
  const changeBody = json(fc.record({ token_id: fc.oneof(tokenId, value) }, { requiredKeys: [] }));
  const searchBody = json(fc.record({ term: fc.oneof(oddString, value, fc.constantFrom(() => fuzzAdmin, () => fuzzTokenIds[0] ?? '').map((get) => get())) }, { requiredKeys: [] }));
  const headers = (auth: () => string) => ({ authorization: auth(), 'content-type': 'application/json' });
  return fc.oneof(
    fc.tuple(tokenAuth, user, createBody).map(([auth, id, body]) => ({ method: 'POST', path: `/api/v4/users/${id}/tokens`, headers: headers(auth), body })),
    fc.tuple(tokenAuth, user, query).map(([auth, id, params]) => ({ method: 'GET', path: `/api/v4/users/${id}/tokens?${params}`, headers: headers(auth) })),
    fc.tuple(tokenAuth, query).map(([auth, params]) => ({ method: 'GET', path: `/api/v4/users/tokens?${params}`, headers: headers(auth) })),
    fc.tuple(tokenAuth, tokenId).map(([auth, id]) => ({ method: 'GET', path: `/api/v4/users/tokens/${id}`, headers: headers(auth) })),
    fc.tuple(tokenAuth, fc.constantFrom('revoke', 'disable', 'enable'), changeBody).map(([auth, change, body]) => ({ method: 'POST', path: `/api/v4/users/tokens/${change}`, headers: headers(auth), body })),
    fc.tuple(tokenAuth, searchBody).map(([auth, body]) => ({ method: 'POST', path: '/api/v4/users/tokens/search', headers: headers(auth), body })),
  );
}

/** Dialogs: open with valid and hostile trigger ids, then submit and lookup with generated requests. */
function dialogRequest(): fc.Arbitrary<FuzzRequest> {
  const dialogUrl = fc.oneof({ weight: 3, arbitrary: fc.constantFrom('/dialog', '/dialog/lookup').map((path) => () => `${integration.url}${path}`) }, { weight: 1, arbitrary: oddString.map((url) => () => url) });
  const trigger = fc.oneof(
    { weight: 3, arbitrary: fc.constant(() => generateTriggerId(actionSecret, world.user('creator').id, Date.now()).triggerId) },
    { weight: 1, arbitrary: fc.constantFrom(() => generateTriggerId(actionSecret, world.user('creator').id, 1).triggerId, () => 'junk', () => Buffer.from('a:b:99999999999999:').toString('base64')) },
    { weight: 1, arbitrary: oddString.map((text) => () => text) },
  );
  const dialog = fc.oneof(value, fc.record({ title: fc.oneof(oddString, value), elements: fc.oneof(value, fc.array(fc.record({ name: oddString, type: fc.constantFrom('text', 'select', 'bool', 'x'), data_source: fc.constantFrom('dynamic', ''), data_source_url: fc.constant(`lookup`) }, { requiredKeys: [] }), { maxLength: 5 })) }, { requiredKeys: [] }));
  const ids = fc.oneof(fc.constantFrom(() => world.channel('town-square').id, () => world.channel('private').id, () => world.team.id).map((get) => get()), oddString, value);
  const open = fc.tuple(trigger, dialogUrl, dialog, fc.boolean()).map(([makeTrigger, url, body, asJson]) => ({
    method: 'POST',
    path: '/api/v4/actions/dialogs/open',
    headers: { 'content-type': 'application/json' },
    body: asJson ? JSON.stringify({ trigger_id: makeTrigger(), url: url(), dialog: body }) : `{"trigger_id":${JSON.stringify(makeTrigger())}`,
  }));
  const forwarded = fc
    .tuple(authHeader, fc.constantFrom('submit', 'lookup'), dialogUrl, ids, ids, value, fc.oneof(fc.boolean(), value), fc.oneof({ weight: 4, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }))
    .map(([auth, kind, url, channel, team, submission, cancelled, garbage]) => ({
      method: 'POST',
      path: `/api/v4/actions/dialogs/${kind}`,
      headers: { authorization: auth(), 'content-type': 'application/json' },
      body: garbage ? '{"url":' : JSON.stringify({ url: url(), channel_id: channel, team_id: team, callback_id: 'cb', state: 's', submission, cancelled }),
    }));
  return fc.oneof(open, forwarded);
}

/** An outgoing hook's delivery log and redelivery, as its manager and as others. */
function deliveryLogRequest(): fc.Arbitrary<FuzzRequest> {
  const auth = fc.oneof({ weight: 3, arbitrary: fc.constant(() => `Bearer ${world.user(fuzzAdmin).token}`) }, { weight: 2, arbitrary: authHeader });
  const hook = idOr(() => managedOutgoingId);
  const query = fc.tuple(fc.oneof(fc.constantFrom('0', '1', '-1', '200', '999999999'), oddSegment), fc.oneof(fc.constantFrom('0', '5', '201', '-3'), oddSegment)).map(([page, perPage]) => `?page=${page}&per_page=${perPage}`);
  return fc.oneof(
    fc.tuple(auth, hook, fc.oneof(query, fc.constant(''))).map(([authorization, id, params]) => ({ method: 'GET', path: `/api/v4/hooks/outgoing/${id}/deliveries${params}`, headers: { authorization: authorization() } })),
    fc.tuple(auth, hook, idOr(() => managedOutgoingId), bytes).map(([authorization, id, delivery, payload]) => ({
      method: 'POST',
      path: `/api/v4/hooks/outgoing/${id}/deliveries/${delivery}/redeliver`,
      headers: { authorization: authorization() },
      body: payload,
    })),
  );
}

function pingRequest(): fc.Arbitrary<FuzzRequest> {
  return fc.tuple(fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH'), fc.constantFrom('', '?%zz', '?a=%'), extraHeaders).map(([method, query, headers]) => ({ method, path: `/api/v4/system/ping${query}`, headers }));
}

/** The web app: its page and files, with odd file names, queries and encodings. */
function webAppRequest(): fc.Arbitrary<FuzzRequest> {
  const path = fc.oneof(fc.constant('/'), oddSegment.map((segment) => `/static/${segment}`), fc.constantFrom('/static/main.js', '/static/..%2Findex.html', '/static/%2e%2e'));
  const encoding = fc.constantFrom('gzip', 'identity', 'br, gzip;q=0', '*', 'x'.repeat(2000));
  return fc.tuple(path, fc.constantFrom('', '?%zz', '?a=%'), encoding, extraHeaders).map(([where, query, acceptEncoding, headers]) => ({
    method: 'GET',
    path: `${where}${query}`,
    headers: { ...headers, 'accept-encoding': acceptEncoding },
  }));
}

/** Any method on any route's path with odd segments, or a path no route has. */
function strayRequest(): fc.Arbitrary<FuzzRequest> {
  const template = fc.constantFrom(...routes.map((route) => route.path), '/api/v4/{x}', '/{x}', '/hooks/{x}/{x}', '/api/v4/posts/{x}/actions');
  return fc.tuple(fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'), template, fc.array(oddSegment, { minLength: 3, maxLength: 3 }), bytes).map(([method, path, segments, payload]) => {
    let index = 0;
    return {
      method,
      path: path.replace(/\{\w+\}/g, () => segments[index++ % segments.length]!),
      headers: {},
      ...(method === 'GET' ? {} : { body: payload }),
    };
  });
}

const generators: Array<[string, () => fc.Arbitrary<FuzzRequest>]> = [
  ['POST /hooks/{hook_id}', hookRequest],
  ['POST /api/v4/commands/execute', executeRequest],
  ['POST /hooks/commands/{id}', responseUrlRequest],
  ['POST /api/v4/posts', createPostRequest],
  ['GET /api/v4/posts/{post_id}', getPostRequest],
  ['GET /api/v4/channels/{channel_id}/posts', channelPostsRequest],
  ['POST /api/v4/posts/{post_id}/actions/{action_id}', actionRequest],
  ['GET /api/v4/teams/{team_id}/commands/autocomplete[_suggestions]', autocompleteRequest],
  ['command management (/api/v4/commands...)', commandsManagementRequest],
  ['GET /api/v4/system/ping', pingRequest],
  ['GET / and /static/{file}', webAppRequest],
  ['REST reads (users, teams, channels, threads, reactions)', restReadRequest],
  ['REST bodies (user lists, direct channels, reactions)', restBodyRequest],
  ['PUT /api/v4/posts/{post_id}[/patch]', postEditRequest],
  ['hook management (/api/v4/hooks/incoming, /api/v4/hooks/outgoing)', hookManagementRequest],
  ['personal access tokens (/api/v4/users/.../tokens)', accessTokenRequest],
  ['dialogs (/api/v4/actions/dialogs/open, submit, lookup)', dialogRequest],
  ['delivery log (/api/v4/hooks/outgoing/{hook_id}/deliveries...)', deliveryLogRequest],
  ['any method, odd paths', strayRequest],
];

// --- the run --------------------------------------------------------------------------------------

function checkAnswer(request: FuzzRequest, response: ApiResponse): string | undefined {
  const sent = request.body === undefined ? '' : String(request.body).slice(0, 300);
  const described = `${request.method} ${request.path.slice(0, 200)} ${JSON.stringify(request.headers)} ${sent} -> ${response.status} ${response.text.slice(0, 300)}`;
  if (response.status >= 500) return described;
  if (response.status < 400) return undefined;
  // Mattermost's rate limiter answers in plain text.
  if (response.status === 429 && response.text === 'limit exceeded') return undefined;
  let error: Record<string, unknown>;
  try {
    error = response.json();
  } catch {
    return `not JSON: ${described}`;
  }
  const keys = Object.keys(error).sort().join(',');
  if (keys !== 'detailed_error,id,message,request_id,status_code') return `not Mattermost's error JSON: ${described}`;
  if (error.status_code !== response.status || typeof error.id !== 'string' || error.id === '' || typeof error.message !== 'string') return `inconsistent error JSON: ${described}`;
  return undefined;
}

describe('fuzzing every route over HTTP', () => {
  it(`answers ${generators.length * REQUESTS_PER_ROUTE} generated requests without a 5xx, every 4xx in Mattermost's error JSON`, async () => {
    const failures: string[] = [];
    const statuses = new Map<string, Map<number, number>>();
    for (const [name, generator] of generators) {
      if (ONLY && name !== ONLY) continue;
      const counts = new Map<number, number>();
      statuses.set(name, counts);
      const requests = fc.sample(generator(), { numRuns: REQUESTS_PER_ROUTE, seed: SEED });
      for (let start = 0; start < requests.length; start += CONCURRENCY) {
        await Promise.all(
          requests.slice(start, start + CONCURRENCY).map(async (request) => {
            const response = await api.request(request.method, request.path, { headers: request.headers, ...(request.body !== undefined ? { body: request.body } : {}) });
            counts.set(response.status, (counts.get(response.status) ?? 0) + 1);
            const failure = checkAnswer(request, response);
            if (failure) failures.push(`${name}: ${failure}`);
          }),
        );
      }
    }
    const summary = [...statuses].map(([name, counts]) => `${name}: ${[...counts].sort(([a], [b]) => a - b).map(([status, count]) => `${status}x${count}`).join(' ')}`);
    expect(failures, `${failures.slice(0, 15).join('\n')}\n\nstatuses:\n${summary.join('\n')}`).toEqual([]);
    // The run reached past the refusals: real ids got real answers on the main routes.
    for (const name of ['POST /hooks/{hook_id}', 'POST /api/v4/posts', 'GET /api/v4/channels/{channel_id}/posts', 'POST /api/v4/commands/execute', 'REST reads (users, teams, channels, threads, reactions)', 'REST bodies (user lists, direct channels, reactions)', 'PUT /api/v4/posts/{post_id}[/patch]', 'command management (/api/v4/commands...)', 'hook management (/api/v4/hooks/incoming, /api/v4/hooks/outgoing)', 'personal access tokens (/api/v4/users/.../tokens)']) {
      if (!statuses.has(name)) continue;
      const successes = [...statuses.get(name)!].filter(([status]) => status < 300).reduce((sum, [, count]) => sum + count, 0);
      expect(successes, `${name}: ${summary.join('\n')}`).toBeGreaterThan(0);
    }
  }, 180_000);
});

// --- the websocket ----------------------------------------------------------------------------------

/** Frames a client might send, well-formed or not: Mattermost's actions with odd seqs and data, JSON of any shape, garbage. */
const websocketFrame = fc.oneof(
  fc.record(
    {
      seq: fc.oneof(fc.integer(), fc.double(), oddString, fc.constant(null), fc.constant(1)),
      action: fc.oneof(fc.constantFrom('authentication_challenge', 'ping', 'user_typing', 'presence', 'get_statuses', 'get_statuses_by_ids', 'user_update_active_status', ''), oddString, value),
      data: fc.oneof(value, fc.record({ token: fc.oneof(oddString, fc.constant('TOKEN'), fc.constant('t'.repeat(5_000))) }, { requiredKeys: [] })),
    },
    { requiredKeys: [] },
  ).map((frame) => JSON.stringify(frame)),
  jsonText,
  bytes.map((raw) => raw.toString('latin1')),
  fc.constantFrom('', '{', 'null', '[]', '"x"', `{"seq":1,"action":"ping","data":${'['.repeat(10_000)}${']'.repeat(10_000)}}`, 'x'.repeat(200_000)),
);

describe('fuzzing the websocket routes', () => {
  it('answers generated $connect headers and $default frames in every connection state without a 5xx', async () => {
    const { createHandler } = await import('../../functions/websocket.js');
    const { liveFor } = await import('../../lib/live/live.js');
    const handler = createHandler(api.runtime);
    const connections = liveFor(api.runtime)!.connections;
    const failures: string[] = [];
    const authorizations = fc.sample(fc.tuple(authHeader, fc.constantFrom('authorization', 'Authorization', 'x-other')), { numRuns: 100, seed: SEED });
    for (const [index, [auth, name]] of authorizations.entries()) {
      const result = await handler({ requestContext: { routeKey: '$connect', connectionId: `fuzzconnect${index}=` }, headers: { [name]: auth() } });
      if (result.statusCode !== 200 && result.statusCode !== 401) failures.push(`$connect ${name}: ${auth().slice(0, 40)} -> ${result.statusCode}`);
    }
    // Each frame costs a connection of its own (a few DynamoDB writes), so fewer than per HTTP route.
    const frames = fc.sample(websocketFrame, { numRuns: WEBSOCKET_FRAMES, seed: SEED });
    const creator = world.user('creator');
    for (const [index, frame] of frames.entries()) {
      // Each frame meets a connection in one of its states; none has a socket, so every send finds it gone.
      const connectionId = `fuzzframe${index}=`;
      const state = index % 3;
      await connections.create(connectionId, state === 0 ? undefined : creator.id, Date.now());
      if (state === 2) {
        await connections.claimHello(connectionId, creator.id);
        await connections.list(connectionId, creator.id, [world.channel('town-square').id], Date.now());
        await connections.open(connectionId);
      }
      const body = frame.replaceAll('TOKEN', creator.token);
      const result = await handler({ requestContext: { routeKey: '$default', connectionId }, body: index % 7 === 0 ? Buffer.from(body).toString('base64') : body, isBase64Encoded: index % 7 === 0 });
      if (result.statusCode >= 500) failures.push(`$default ${body.slice(0, 200)} -> ${result.statusCode}`);
      const disconnected = await handler({ requestContext: { routeKey: '$disconnect', connectionId } });
      if (disconnected.statusCode !== 200) failures.push(`$disconnect -> ${disconnected.statusCode}`);
    }
    expect(failures.slice(0, 15)).toEqual([]);
  }, 180_000);

  it('keeps serving a real socket after garbage frames: a new connection still gets its hello', async () => {
    const frames = fc.sample(websocketFrame, { numRuns: 100, seed: SEED + 1 });
    const socketUrl = `${api.url.replace(/^http/, 'ws')}/api/v4/websocket`;
    const raw = new WebSocket(socketUrl);
    await new Promise((resolve) => (raw.onopen = resolve));
    for (const frame of frames) if (raw.readyState === WebSocket.OPEN) raw.send(frame);
    const hello = await new Promise<any>((resolve, reject) => {
      const fresh = new WebSocket(socketUrl);
      const timer = setTimeout(() => reject(new Error('no hello')), 10_000);
      fresh.onopen = () => fresh.send(JSON.stringify({ seq: 1, action: 'authentication_challenge', data: { token: world.user('creator').token } }));
      fresh.onmessage = (message) => {
        const parsed = JSON.parse(String(message.data));
        if (parsed.event === 'hello') {
          clearTimeout(timer);
          fresh.close();
          resolve(parsed);
        }
      };
    });
    raw.close();
    expect(hello.seq).toBe(0);
  }, 60_000);
});
