import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, vi } from 'vitest';
import { replyJson, startCallbackServer, type CallbackServer } from '../support/callback-server.js';
import { seedWorld, startLiveEvents, startOutgoingStack, uniqueName, type Api, type World } from '../support/harness.js';
import { launchBrowser } from './browser.js';

/**
 * What the browser tests run against: the API on loopback (real handlers, DynamoDB Local) with
 * overrides on, a seeded team with a direct channel and two slash commands, a loopback server
 * standing in for the integrations (the commands, the buttons and menus, images), and Chromium.
 */
export interface WebAppStack {
  api: Api;
  integration: CallbackServer;
  world: World;
  browser: Browser;
  auth(token?: string): Record<string, string>;
  /** The seeded team admin's username (a user with `team_admin` on the team, in every public channel). */
  admin: string;
  /** Requests the outgoing-hook callback (`/outgoing`) received; the first is answered 503, the rest 200. */
  outgoingCalls(): number;
  /** Posts through the seeded incoming webhook; answers the post's id. */
  hook(body: unknown): Promise<string>;
  close(): Promise<void>;
}

const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkaPhfDwAEhAHAdS0zZQAAAABJRU5ErkJggg==', 'base64');

/** The dialog the test integration opens: one element of each type. */
export const TEST_DIALOG = {
  callback_id: 'release',
  title: 'Release',
  introduction_text: 'Fill in the **release**.',
  submit_label: 'Release it',
  state: 'state-1',
  elements: [
    { display_name: 'Name', name: 'name', type: 'text', placeholder: 'v1.2.3', help_text: 'The version' },
    { display_name: 'Contact', name: 'contact', type: 'text', subtype: 'email', optional: true },
    { display_name: 'Notes', name: 'notes', type: 'textarea', optional: true },
    { display_name: 'Environment', name: 'env', type: 'select', options: [{ text: 'Staging', value: 'staging' }, { text: 'Production', value: 'production' }] },
    { display_name: 'Channel', name: 'channel', type: 'select', data_source: 'channels', optional: true },
    { display_name: 'Notify', name: 'notify', type: 'bool', default: 'true', optional: true },
    { display_name: 'Size', name: 'size', type: 'radio', options: [{ text: 'Small', value: 's' }, { text: 'Large', value: 'l' }] },
  ],
};

/** The stack on a stage of its own, with the whole outgoing pipeline (short retry delays) for the delivery log. */
export async function startWebAppStack(): Promise<WebAppStack> {
  const integrationUrl = () => integration.url;
  let apiUrl = '';
  let dialogSubmissions = 0;
  let outgoingCalls = 0;
  const integration = await startCallbackServer(async (request, _index, response) => {
    if (request.url === '/outgoing') {
      // The first delivery fails, so the log has a failed attempt; every later one succeeds.
      if (++outgoingCalls === 1) {
        response.writeHead(503).end('busy');
        return;
      }
      replyJson(response, { text: `pong ${outgoingCalls}` });
      return;
    }
    if (request.url === '/dialog-command') {
      // A command that answers by opening a dialog with the trigger id it received.
      const form = new URLSearchParams(request.body);
      const opened = await fetch(`${apiUrl}/api/v4/actions/dialogs/open`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ trigger_id: form.get('trigger_id'), url: `${integrationUrl()}/dialog-submit`, dialog: TEST_DIALOG }),
      });
      if (opened.status !== 200) throw new Error(`dialog open: ${opened.status} ${await opened.text()}`);
      replyJson(response, {});
      return;
    }
    if (request.url.endsWith('.png')) {
      response.writeHead(200, { 'content-type': 'image/png' });
      response.end(PNG);
      return;
    }
    if (request.url === '/dialog-action') {
      // The integration answers a click by opening a dialog for the user, with the click's trigger id.
      const click = JSON.parse(request.body) as { trigger_id: string };
      const opened = await fetch(`${apiUrl}/api/v4/actions/dialogs/open`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ trigger_id: click.trigger_id, url: `${integrationUrl()}/dialog-submit`, dialog: TEST_DIALOG }),
      });
      if (opened.status !== 200) throw new Error(`dialog open: ${opened.status} ${await opened.text()}`);
      replyJson(response, {});
      return;
    }
    if (request.url === '/dialog-submit') {
      // The first submission is refused on a field and in general; the next is accepted.
      const refused = ++dialogSubmissions === 1;
      replyJson(response, refused ? { error: 'The release is not ready', errors: { name: 'That name is taken' } } : {});
      return;
    }
    if (request.url === '/visit') {
      replyJson(response, { response_type: 'ephemeral', text: 'Opening the dashboard', goto_location: `${integrationUrl()}/dashboard.png` });
      return;
    }
    if (request.url === '/command') {
      const form = new URLSearchParams(request.body);
      replyJson(response, { response_type: 'ephemeral', text: `Deploying **${form.get('text')}** for you` });
      return;
    }
    if (request.url === '/action') {
      const click = JSON.parse(request.body) as { user_name: string; context: { selected_option?: string } };
      const choice = click.context.selected_option ? `picked ${click.context.selected_option}` : 'approved';
      replyJson(response, { update: { message: `Release ${choice} by @${click.user_name}`, props: {} }, ephemeral_text: `You ${choice}.` });
      return;
    }
    response.writeHead(404).end();
  });
  const settings = {
    ALLOWED_UNTRUSTED_INTERNAL_CONNECTIONS: '127.0.0.0/8',
    ENABLE_POST_USERNAME_OVERRIDE: 'true',
    ENABLE_POST_ICON_OVERRIDE: 'true',
    OUTGOING_INTEGRATION_REQUESTS_TIMEOUT: '5',
  };
  // A stage of its own: the shared test tables' stream is read by every other file's live-events
  // consumer, which would push this file's events a second time, out of order.
  const outgoing = await startOutgoingStack(settings);
  const api = outgoing.api;
  const live = await startLiveEvents(api);
  apiUrl = api.url;
  const admin = uniqueName('admin');
  const world = await seedWorld(api.runtime, (names) => ({
    users: [{ username: admin, teams: [{ name: names.team, roles: ['team_admin'] }], channels: [`${names.team}/town-square`, `${names.team}/off-topic`] }],
    commands: [
      { team: names.team, trigger: 'deploy', url: `${integration.url}/command`, creator: names.creator, auto_complete: true, auto_complete_desc: 'Deploy a service', auto_complete_hint: '[service]' },
      { team: names.team, trigger: 'visit', url: `${integration.url}/visit`, creator: names.creator },
      { team: names.team, trigger: 'deploy-status', url: `${integration.url}/command`, creator: names.creator, auto_complete: true, auto_complete_desc: 'Show what is deployed' },
      { team: names.team, trigger: 'release', url: `${integration.url}/dialog-command`, creator: names.creator, auto_complete: true, auto_complete_desc: 'Open the release dialog' },
    ],
  }));
  const auth = (token = world.user('creator').token) => ({ authorization: `Bearer ${token}` });
  const direct = await api.postJson('/api/v4/channels/direct', [world.user('creator').id, world.user('other').id], auth());
  expect(direct.status, direct.text).toBe(201);
  const browser = await launchBrowser();
  return {
    api,
    integration,
    world,
    browser,
    auth,
    admin,
    outgoingCalls: () => outgoingCalls,
    hook: async (body) => {
      const response = await api.postJson(world.hook('main').url, body, { prefer: 'return=representation' });
      expect(response.status, response.text).toBe(200);
      return response.json().post_id as string;
    },
    close: async () => {
      await browser.close();
      await live.stop();
      await outgoing.close();
      await integration.close();
    },
  };
}

/**
 * What every browser test file does around its tests: more time per test than the suite's default
 * (a browser on a busy machine), the stack started before them (in `startTimeoutMs`, Chromium's
 * start included) and handed to `use`, and closed after them.
 */
export function withWebAppStack(use: (stack: WebAppStack) => void, timeouts: { testMs?: number; startMs?: number } = {}): void {
  vi.setConfig({ testTimeout: timeouts.testMs ?? 90_000 });
  let stack: WebAppStack | undefined;
  beforeAll(async () => {
    stack = await startWebAppStack();
    use(stack);
  }, timeouts.startMs ?? 120_000);
  afterAll(async () => {
    await stack?.close();
  });
}
