import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { generateTriggerId } from '../../lib/integrations/trigger-id.js';
import { replyJson, startCallbackServer, type CallbackServer } from '../support/callback-server.js';
import { seedWorld, startApi, type Api, type World } from '../support/harness.js';

/**
 * Interactive dialogs through the HTTP API, against a real loopback integration: Mattermost's
 * DG cases (open, submit, lookup, their refusals and the integration's answers) and Hookline's
 * binding of submissions to dialogs opened for the user.
 */
let api: Api;
let world: World;
let integration: CallbackServer;
/** What the integration answers next, by path; 200 `{}` when unset. */
const answers = new Map<string, { status: number; body: string; delayMs?: number }>();
let secret = '';

beforeAll(async () => {
  integration = await startCallbackServer(async (request, _index, response) => {
    const path = request.url.split('?')[0]!;
    if (path === '/command') {
      // The command answers, then (as an integration would) opens a dialog with the trigger id it got.
      const triggerId = new URLSearchParams(request.body).get('trigger_id') ?? '';
      replyJson(response, { text: 'opening a form' });
      setTimeout(() => void openWith(triggerId, `${integration.url}/submit`), 0);
      return;
    }
    const answer = answers.get(path);
    if (answer?.delayMs) await new Promise((resolve) => setTimeout(resolve, answer.delayMs));
    response.writeHead(answer?.status ?? 200, { 'content-type': 'application/json' });
    response.end(answer?.body ?? '{}');
  });
  api = await startApi({ ALLOWED_UNTRUSTED_INTERNAL_CONNECTIONS: '127.0.0.0/8', OUTGOING_INTEGRATION_REQUESTS_TIMEOUT: '2' });
  world = await seedWorld(api.runtime, (names) => ({
    commands: [{ team: names.team, trigger: 'form', url: `${integration.url}/command`, method: 'P', creator: names.creator }],
  }));
  secret = (await api.runtime.entities.getActionSigningSecret())!;
});
afterAll(async () => {
  await api?.close();
  await integration?.close();
});

const auth = (username: string) => ({ authorization: `Bearer ${world.user(username).token}` });
const dialog = {
  callback_id: 'callbackid',
  title: 'Some Title',
  elements: [{ display_name: 'Element Name', name: 'element_name', type: 'text', placeholder: 'Enter a value' }],
  submit_label: 'Submit',
  state: 'somestate',
};

function openWith(triggerId: string, url: string, body: Record<string, unknown> = { dialog }) {
  return api.postJson('/api/v4/actions/dialogs/open', { trigger_id: triggerId, url, ...body });
}

/** Opens a dialog for `username` with a trigger id made as the command and action paths make them. */
function open(username: string, url: string, body: Record<string, unknown> = { dialog }, issuedAtMs = Date.now()) {
  return openWith(generateTriggerId(secret, world.user(username).id, issuedAtMs).triggerId, url, body);
}

function submit(username: string, body: Record<string, unknown>) {
  return api.postJson('/api/v4/actions/dialogs/submit', { channel_id: world.channel('town-square').id, team_id: world.team.id, ...body }, auth(username));
}

function lookup(username: string, body: Record<string, unknown>) {
  return api.postJson('/api/v4/actions/dialogs/lookup', { channel_id: world.channel('town-square').id, team_id: world.team.id, ...body }, auth(username));
}

const lastRequestTo = (path: string) => {
  const found = integration.received.filter((request) => request.url === path).at(-1);
  if (!found) throw new Error(`the integration received nothing at ${path}`);
  return { body: JSON.parse(found.body) as Record<string, unknown>, headers: found.headers as Record<string, string> };
};

describe('open', () => {
  it('opens with a valid trigger id and no session (DG-01, DG-03, DG-05)', async () => {
    expect((await open('creator', `${integration.url}/submit`)).status).toBe(200);
    expect((await open('creator', `${integration.url}/submit`)).json()).toEqual({ status: 'OK' });
    expect((await open('creator', `${integration.url}/submit`, { dialog: { ...dialog, introduction_text: '**Some** _introduction text' } })).status).toBe(200);
    expect((await open('creator', `${integration.url}/submit`, { dialog: { ...dialog, elements: null } })).status).toBe(200);
    expect((await open('creator', `${integration.url}/submit`, { dialog: { ...dialog, elements: [] } })).status).toBe(200);
  });

  it('only warns about an invalid dialog, as Mattermost does (DG-04)', async () => {
    const invalid = { ...dialog, elements: [{ ...dialog.elements[0], display_name: 'Very very long Element Name' }, dialog.elements[0]] };
    expect((await open('creator', `${integration.url}/submit`, { dialog: invalid })).status).toBe(200);
  });

  it('refuses a bad trigger id, an empty url, an expired trigger and a forged one with 400 (DG-02, DG-06, DG-07)', async () => {
    const refused = async (response: Awaited<ReturnType<typeof openWith>>) => {
      expect(response.status).toBe(400);
      return response.json().id as string;
    };
    expect(await refused(await openWith('junk', `${integration.url}/submit`))).toBe('interactive_message.decode_trigger_id.missing_data');
    expect(await refused(await open('creator', ''))).toBe('api.context.invalid_body_param.app_error');
    expect(await refused(await open('creator', `${integration.url}/submit`, { dialog }, Date.now() - 3_000))).toBe('interactive_message.decode_trigger_id.expired');
    const forged = generateTriggerId('not the deployment secret', world.user('creator').id, Date.now()).triggerId;
    expect(await refused(await openWith(forged, `${integration.url}/submit`))).toBe('interactive_message.decode_trigger_id.verify_signature_failed');
    expect(await refused(await api.request('POST', '/api/v4/actions/dialogs/open', { body: '{"trigger_id":', headers: { 'content-type': 'application/json' } }))).toBe(
      'api.context.invalid_body_param.app_error',
    );
  });
});

describe('submit', () => {
  it('forwards the submission, with the session user and the channel\'s team, signed (DG-09, DG-11)', async () => {
    const url = `${integration.url}/submit`;
    await open('creator', url);
    const response = await submit('creator', {
      url,
      callback_id: 'callbackid',
      state: 'somestate',
      user_id: world.user('other').id,
      team_id: 'aaaaaaaaaaaaaaaaaaaaaaaaaa',
      submission: { somename: 'somevalue' },
    });
    expect(response.status).toBe(200);
    expect(response.json()).toEqual({});
    const sent = lastRequestTo('/submit');
    expect(sent.body).toEqual({
      url: '',
      type: 'dialog_submission',
      callback_id: 'callbackid',
      state: 'somestate',
      user_id: world.user('creator').id,
      channel_id: world.channel('town-square').id,
      team_id: world.team.id,
      submission: { somename: 'somevalue' },
      cancelled: false,
    });
    expect(() => new Webhook(secret).verify(JSON.stringify(sent.body), sent.headers)).not.toThrow();
  });

  it('hands back the integration\'s field errors and general error with 200 (DG-13), and {} for an empty or non-JSON answer (DG-16)', async () => {
    const url = `${integration.url}/validate`;
    await open('creator', url);
    answers.set('/validate', { status: 200, body: JSON.stringify({ error: 'some generic error', errors: { name1: 'some error' }, extra: 'dropped' }) });
    const failed = await submit('creator', { url, submission: { name1: '' } });
    expect(failed.status).toBe(200);
    expect(failed.json()).toEqual({ error: 'some generic error', errors: { name1: 'some error' } });
    answers.set('/validate', { status: 200, body: '' });
    expect((await submit('creator', { url, submission: { name1: 'ok' } })).json()).toEqual({});
    answers.set('/validate', { status: 200, body: 'not json' });
    expect((await submit('creator', { url, submission: { name1: 'ok' } })).json()).toEqual({});
    answers.set('/validate', { status: 200, body: JSON.stringify({ type: 'bogus' }) });
    expect((await submit('creator', { url })).json().id).toBe('app.submit_interactive_dialog.invalid_response');
  });

  it('maps the integration\'s failures as Mattermost does (DG-15)', async () => {
    const url = `${integration.url}/failing`;
    await open('creator', url);
    const statusFor = async (status: number, delayMs = 0) => {
      answers.set('/failing', { status, body: '{}', delayMs });
      const response = await submit('creator', { url });
      if (response.status !== 200) expect(response.json().id).toBe('api.post.do_action.action_integration.app_error');
      return response.status;
    };
    expect(await statusFor(400)).toBe(400);
    expect(await statusFor(404)).toBe(400);
    expect(await statusFor(429)).toBe(429);
    expect(await statusFor(503)).toBe(503);
    expect(await statusFor(500)).toBe(502);
    // Past OUTGOING_INTEGRATION_REQUESTS_TIMEOUT (2 s here).
    expect(await statusFor(200, 2_500)).toBe(400);
    const unreachable = 'http://127.0.0.1:9/submit';
    await open('creator', unreachable);
    expect((await submit('creator', { url: unreachable })).status).toBe(400);
  });

  it('refuses an empty url (400) and an unknown channel (404) (DG-10); a direct channel needs no team (DG-12)', async () => {
    expect((await submit('creator', { url: '' })).json().id).toBe('api.context.invalid_body_param.app_error');
    const url = `${integration.url}/submit`;
    await open('creator', url);
    expect((await submit('creator', { url, channel_id: 'aaaaaaaaaaaaaaaaaaaaaaaaaa' })).status).toBe(404);
    const direct = await api.postJson('/api/v4/channels/direct', [world.user('creator').id, world.user('other').id], auth('creator'));
    expect(direct.status).toBe(201);
    const response = await submit('creator', { url, channel_id: direct.json().id, team_id: '' });
    expect(response.status).toBe(200);
    expect(lastRequestTo('/submit').body.team_id).toBe('');
  });

  it('sends a cancellation with cancelled:true and an empty submission (DG-22)', async () => {
    const url = `${integration.url}/submit`;
    await open('creator', url, { dialog: { ...dialog, notify_on_cancel: true } });
    expect((await submit('creator', { url, callback_id: 'callbackid', state: 'somestate', cancelled: true, submission: {} })).status).toBe(200);
    expect(lastRequestTo('/submit').body).toMatchObject({ cancelled: true, callback_id: 'callbackid', state: 'somestate', submission: {} });
  });

  it('accepts only what was opened for the caller, in a channel they can read (Hookline)', async () => {
    const url = `${integration.url}/private-form`;
    const before = integration.received.length;
    // Never opened: refused, and the integration never called.
    const notOpened = await submit('creator', { url });
    expect(notOpened.status).toBe(403);
    expect(notOpened.json().id).toBe('api.dialog.not_opened.app_error');
    // Opened for creator: another user cannot submit it.
    await open('creator', url);
    expect((await submit('other', { url })).status).toBe(403);
    // A private channel the caller cannot read: 403 before anything else.
    await open('outsider', url);
    expect((await submit('outsider', { url, channel_id: world.channel('private').id })).json().id).toBe('api.context.permissions.app_error');
    expect(integration.received.length).toBe(before);
    // Without a session: 401.
    expect((await api.postJson('/api/v4/actions/dialogs/submit', { url })).status).toBe(401);
  });
});

describe('lookup', () => {
  const lookupUrl = () => `${integration.url}/lookup`;
  const dynamicDialog = () => ({
    dialog: { ...dialog, elements: [{ display_name: 'Dynamic', name: 'dynamic_field', type: 'select', data_source: 'dynamic', data_source_url: lookupUrl() }] },
  });

  it('forwards a lookup and returns the items (DG-20)', async () => {
    await open('creator', `${integration.url}/submit`, dynamicDialog());
    answers.set('/lookup', { status: 200, body: JSON.stringify({ items: [{ text: 'One', value: '1' }, { text: 'Two', value: '2' }, { text: 3 }] }) });
    const response = await lookup('creator', { url: lookupUrl(), submission: { query: 'test query', selected_field: 'dynamic_field' } });
    expect(response.status).toBe(200);
    expect(response.json()).toEqual({ items: [{ text: 'One', value: '1' }, { text: 'Two', value: '2' }] });
    expect(lastRequestTo('/lookup').body).toMatchObject({ type: 'dialog_lookup', submission: { query: 'test query', selected_field: 'dynamic_field' }, team_id: world.team.id });
    answers.set('/lookup', { status: 200, body: '' });
    expect((await lookup('creator', { url: lookupUrl() })).json()).toEqual({ items: [] });
    answers.set('/lookup', { status: 200, body: 'invalid json' });
    expect((await lookup('creator', { url: lookupUrl() })).status).toBe(400);
    answers.set('/lookup', { status: 500, body: '{}' });
    expect((await lookup('creator', { url: lookupUrl() })).status).toBe(502);
  });

  it('refuses an empty or invalid url (400), an unknown channel (404), and a URL of no opened dialog (403)', async () => {
    expect((await lookup('creator', { url: '' })).status).toBe(400);
    expect((await lookup('creator', { url: 'relative/path' })).status).toBe(400);
    await open('creator', `${integration.url}/submit`, dynamicDialog());
    expect((await lookup('creator', { url: lookupUrl(), channel_id: 'aaaaaaaaaaaaaaaaaaaaaaaaaa' })).status).toBe(404);
    expect((await lookup('creator', { url: `${integration.url}/elsewhere` })).status).toBe(403);
    // A submit URL is not a lookup URL.
    expect((await lookup('creator', { url: `${integration.url}/submit` })).status).toBe(403);
  });
});

describe('the whole flow', () => {
  it('a command hands the integration a signed trigger id, the integration opens a dialog, the user submits with a field error, then again', async () => {
    const executed = await api.postJson('/api/v4/commands/execute', { command: '/form', channel_id: world.channel('town-square').id }, auth('creator'));
    expect(executed.status).toBe(200);
    // The user's response carries only the client trigger id.
    expect(executed.json().trigger_id).toMatch(/^[a-z0-9]{26}$/);
    const url = `${integration.url}/flow`;
    // The integration opened its dialog with the trigger id it was sent, at /submit; it may open another URL too.
    const sentTrigger = new URLSearchParams(integration.received.filter((request) => request.url === '/command').at(-1)!.body).get('trigger_id')!;
    expect(Buffer.from(sentTrigger, 'base64').toString().startsWith(`${executed.json().trigger_id}:${world.user('creator').id}:`)).toBe(true);
    expect((await openWith(sentTrigger, url)).status).toBe(200);
    answers.set('/flow', { status: 200, body: JSON.stringify({ errors: { element_name: 'too short' } }) });
    expect((await submit('creator', { url, callback_id: 'callbackid', state: 'somestate', submission: { element_name: 'x' } })).json()).toEqual({
      errors: { element_name: 'too short' },
    });
    answers.set('/flow', { status: 200, body: '{}' });
    expect((await submit('creator', { url, callback_id: 'callbackid', state: 'somestate', submission: { element_name: 'long enough' } })).json()).toEqual({});
    expect(lastRequestTo('/flow').body.submission).toEqual({ element_name: 'long enough' });
  });
});
