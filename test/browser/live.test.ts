import type { Browser, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import type { Api, World } from '../support/harness.js';
import { openPage, postWith, screenshot, signIn } from './browser.js';
import { withWebAppStack, type WebAppStack } from './stack.js';
import { planSeed } from '../../lib/seed/seed.js';
import { seedFileSchema } from '../../lib/seed/schema.js';
import { liveFor } from '../../lib/live/live.js';
import { addMembershipsToConnections, channelMembershipsWritten } from '../../lib/live/memberships.js';

/** The web app on Mattermost's websocket: posts, clicks, ephemeral answers and dialogs arrive live. */
let stack: WebAppStack;
let api: Api;
let world: World;
let browser: Browser;

withWebAppStack((started) => ({ api, world, browser } = stack = started));

/** Every `?since=` read (the polling fallback and the resync after a reconnect) and websocket the page makes. */
function watchTraffic(page: Page) {
  const since: string[] = [];
  const sockets: string[] = [];
  page.on('request', (request) => {
    if (/\/api\/v4\/channels\/[^/]+\/posts\?.*since=/.test(request.url())) since.push(request.url());
  });
  page.on('websocket', (socket) => sockets.push(socket.url()));
  return { since, sockets };
}

async function signInLive(page: Page, token = world.user('creator').token) {
  await signIn(page, api.url, token);
  await page.locator('.workspace[data-live="open"]').waitFor({ timeout: 15_000 });
  // The channel's first read, and the one catch-up read when the socket said hello after it began.
  await page.getByRole('heading', { name: '#town-square' }).waitFor();
  await page.getByText('Loading messages…').waitFor({ state: 'detached' });
  await page.waitForTimeout(500);
}

/** Runs `/release` as a person does: the suggestion is picked from the list, then sent. */
async function runRelease(page: Page) {
  const box = page.getByLabel(/^Write to/);
  await box.fill('/release');
  await page.getByRole('option', { name: /\/release/ }).waitFor({ timeout: 15_000 });
  await box.press('Enter');
  await expect.poll(() => box.inputValue()).toBe('/release ');
  await box.press('Enter');
}

describe('live updates over the websocket', () => {
  it('shows a post sent while the channel is open, without a reload and without polling', async () => {
    const { page, context } = await openPage(browser);
    const traffic = watchTraffic(page);
    await signInLive(page);
    await page.getByRole('heading', { name: '#town-square' }).waitFor();
    expect(traffic.sockets).toEqual([`${api.url.replace('http', 'ws')}/api/v4/websocket`]);
    // Whatever was read before the socket said hello, nothing is polled once it is up.
    const before = traffic.since.length;
    const navigations: string[] = [];
    page.on('framenavigated', (frame) => navigations.push(frame.url()));

    await stack.hook({ text: 'Arrived **live**' });
    await postWith(page, 'Arrived live').waitFor({ timeout: 15_000 });
    // Time in which the 2 s poll would have run at least twice.
    await page.waitForTimeout(4_500);
    expect(traffic.since.length).toBe(before);
    expect(navigations).toEqual([]);
    await screenshot(page, 'live-posted');
    await context.close();
  });

  it('updates a clicked post and shows the ephemeral answer through the socket', async () => {
    const { page, context } = await openPage(browser);
    const traffic = watchTraffic(page);
    await signInLive(page);
    const url = `${stack.integration.url}/action`;
    await stack.hook({ text: 'Release 9 is ready', attachments: [{ text: 'Ship it?', actions: [{ id: 'approve', name: 'Approve', style: 'primary', integration: { url, context: {} } }] }] });
    const post = postWith(page, 'Release 9 is ready');
    await post.waitFor({ timeout: 15_000 });
    const before = traffic.since.length;
    await post.getByRole('button', { name: 'Approve' }).click();
    await postWith(page, `Release approved by @${world.user('creator').username}`).waitFor({ timeout: 15_000 });
    const ephemeral = postWith(page, 'You approved.');
    await ephemeral.waitFor({ timeout: 15_000 });
    expect(await ephemeral.locator('.post__visibility').textContent()).toBe('(Only visible to you)');
    expect(traffic.since.length).toBe(before);
    await context.close();
  });

  it("shows a command's ephemeral answer through the socket", async () => {
    const { page, context } = await openPage(browser);
    const traffic = watchTraffic(page);
    await signInLive(page);
    await page.getByRole('heading', { name: '#town-square' }).waitFor();
    const before = traffic.since.length;
    const box = page.getByLabel(/^Write to/);
    await box.fill('/deploy billing');
    await box.press('Escape');
    await box.press('Enter');
    const answer = postWith(page, 'Deploying billing for you');
    await answer.waitFor({ timeout: 15_000 });
    expect(await answer.locator('.post__visibility').textContent()).toBe('(Only visible to you)');
    expect(traffic.since.length).toBe(before);
    await screenshot(page, 'live-ephemeral');
    await context.close();
  });

  it('opens the dialog a command asks for, shows the field error, and closes when accepted', async () => {
    const { page, context } = await openPage(browser);
    await signInLive(page);
    await page.getByRole('heading', { name: '#town-square' }).waitFor();
    await runRelease(page);
    const dialog = page.getByRole('dialog', { name: 'Release' });
    await dialog.waitFor({ timeout: 15_000 });
    await screenshot(page, 'live-dialog');

    await dialog.getByLabel('Name').fill('v1.0.0');
    await dialog.getByLabel('Environment').selectOption('production');
    await dialog.getByRole('radio', { name: 'Large' }).check();
    await dialog.getByRole('button', { name: 'Release it' }).click();
    // The integration refuses the first submission on a field and in general.
    await dialog.getByText('That name is taken').waitFor({ timeout: 15_000 });
    await dialog.getByText('The release is not ready').waitFor();
    const name = dialog.getByLabel('Name');
    const described = (await name.getAttribute('aria-describedby')) ?? '';
    const descriptions = await Promise.all(described.split(/\s+/).filter(Boolean).map((id) => page.locator(`#${id}`).textContent()));
    expect(descriptions.join(' ')).toContain('That name is taken');
    expect(await name.getAttribute('aria-invalid')).toBe('true');
    await screenshot(page, 'live-dialog-error');

    await name.fill('v1.0.1');
    await dialog.getByRole('button', { name: 'Release it' }).click();
    await dialog.waitFor({ state: 'detached', timeout: 15_000 });
    await context.close();
  });

  it("opens no dialog whose trigger id is not the user's last one", async () => {
    const { page, context } = await openPage(browser);
    await signInLive(page);
    await page.getByRole('heading', { name: '#town-square' }).waitFor();
    // Another tab of the same user runs the command: this tab's last trigger id is not the one.
    const { page: other, context: otherContext } = await openPage(browser);
    await signInLive(other);
    await other.getByRole('heading', { name: '#town-square' }).waitFor();
    await runRelease(other);
    await other.getByRole('dialog', { name: 'Release' }).waitFor({ timeout: 15_000 });
    expect(await page.getByRole('dialog').count()).toBe(0);
    await otherContext.close();
    await context.close();
  });

  it('falls back to polling while the socket cannot connect, and says so', async () => {
    const { page, context } = await openPage(browser);
    const traffic = watchTraffic(page);
    // Every websocket the page opens is closed at once, as by a proxy that refuses upgrades.
    await page.routeWebSocket(/\/api\/v4\/websocket$/, (socket) => socket.close());
    await signIn(page, api.url, world.user('creator').token);
    await page.locator('.workspace[data-live="polling"]').waitFor({ timeout: 15_000 });
    await page.getByRole('status').filter({ hasText: 'Reconnecting…' }).waitFor();
    await page.getByRole('heading', { name: '#town-square' }).waitFor();
    await page.getByText('Loading messages…').waitFor({ state: 'detached' });
    await stack.hook({ text: 'Arrived by polling' });
    await postWith(page, 'Arrived by polling').waitFor({ timeout: 15_000 });
    expect(traffic.since.length).toBeGreaterThan(0);
    await screenshot(page, 'live-polling');
    await context.close();
  });

  it('reconnects on a gap in the numbers and reads what it missed', async () => {
    const { page, context } = await openPage(browser);
    const traffic = watchTraffic(page);
    // The first socket loses its first `posted` event on the way, as a dropped send would.
    let connections = 0;
    await page.routeWebSocket(/\/api\/v4\/websocket$/, (socket) => {
      const first = ++connections === 1;
      let dropped = false;
      const server = socket.connectToServer();
      server.onMessage((message) => {
        if (first && !dropped && typeof message === 'string' && message.includes('"event":"posted"')) {
          dropped = true;
          return;
        }
        socket.send(message);
      });
    });
    await signInLive(page);
    await page.getByRole('heading', { name: '#town-square' }).waitFor();
    await page.getByText('Loading messages…').waitFor({ state: 'detached' });
    const before = traffic.since.length;
    await stack.hook({ text: 'Lost on the way' });
    await stack.hook({ text: 'Out of order' });
    // The second event's number shows the gap: the app reconnects and reads since its newest post.
    await postWith(page, 'Lost on the way').waitFor({ timeout: 20_000 });
    await postWith(page, 'Out of order').waitFor({ timeout: 20_000 });
    expect(connections).toBeGreaterThanOrEqual(2);
    expect(traffic.since.length).toBeGreaterThan(before);
    await page.locator('.workspace[data-live="open"]').waitFor({ timeout: 15_000 });
    await context.close();
  });
});

describe('channels that appear while the page is open', () => {
  it('lists a direct channel another user creates (direct_added) and shows its post, without a reload', async () => {
    const { page, context } = await openPage(browser);
    await signInLive(page);
    const navigations: string[] = [];
    page.on('framenavigated', (frame) => navigations.push(frame.url()));
    const outsider = world.user('outsider');
    const created = await api.postJson('/api/v4/channels/direct', [outsider.id, world.user('creator').id], stack.auth(outsider.token));
    expect(created.status, created.text).toBe(201);
    const direct = page.getByRole('button', { name: `${outsider.username} (direct message)` });
    await direct.waitFor({ timeout: 15_000 });
    const sent = await api.postJson('/api/v4/posts', { channel_id: created.json().id, message: 'A word in private' }, stack.auth(outsider.token));
    expect(sent.status, sent.text).toBe(201);
    await direct.click();
    await page.getByRole('heading', { name: `@${outsider.username}` }).waitFor();
    await postWith(page, 'A word in private').waitFor({ timeout: 15_000 });
    expect(navigations).toEqual([]);
    await context.close();
  });

  it('lists a channel a seed run adds the user to, at its first post, without a reload', async () => {
    const { page, context } = await openPage(browser);
    const outsider = world.user('outsider');
    await signIn(page, api.url, outsider.token);
    await page.locator('.workspace[data-live="open"]').waitFor({ timeout: 15_000 });
    await page.getByRole('button', { name: 'off-topic' }).waitFor({ state: 'detached' });
    const navigations: string[] = [];
    page.on('framenavigated', (frame) => navigations.push(frame.url()));
    // What npm run seed does (infra/seed/cli.ts), on this file's own stage.
    const planned = await planSeed('join.yaml', seedFileSchema.parse({ users: [{ username: outsider.username, token: outsider.token, teams: [world.team.name], channels: [`${world.team.name}/off-topic`] }] }), { store: api.runtime.entities, siteUrl: '' });
    await planned.apply();
    expect(await addMembershipsToConnections(liveFor(api.runtime)!.connections, channelMembershipsWritten(planned.plan.transactions))).toBe(1);
    await stack.hook({ text: 'Welcome to off-topic', channel: 'off-topic' });
    await page.getByRole('button', { name: 'off-topic' }).click({ timeout: 15_000 });
    await postWith(page, 'Welcome to off-topic').waitFor({ timeout: 15_000 });
    expect(navigations).toEqual([]);
    await context.close();
  });
});
