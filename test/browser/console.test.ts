import type { Browser, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import type { Api, World } from '../support/harness.js';
import { openPage, postWith, screenshot, signIn } from './browser.js';
import { withWebAppStack, type WebAppStack } from './stack.js';

/** The integrations console in a real browser, through the management API, as a team admin and as a member. */
let stack: WebAppStack;
let api: Api;
let world: World;
let browser: Browser;

withWebAppStack((started) => ({ api, world, browser } = stack = started), { testMs: 120_000, startMs: 180_000 });

async function openConsole(page: Page) {
  await signIn(page, api.url, world.user(stack.admin).token);
  const entry = page.getByRole('button', { name: 'Integrations' });
  await entry.waitFor({ timeout: 15_000 });
  await entry.click();
  await page.getByRole('heading', { name: /^Integrations of/ }).waitFor();
}

describe('the integrations console', () => {
  it('creates an incoming webhook as a team admin, shows its URL, and a post to it arrives live', async () => {
    const { page, context } = await openPage(browser);
    await openConsole(page);
    await page.getByRole('button', { name: 'Add incoming webhook' }).click();
    const form = page.getByRole('form', { name: 'New incoming webhook' });
    await form.getByLabel('Title').fill('Alerts');
    await form.getByLabel(/^Channel/).selectOption({ label: 'off-topic' });
    await form.getByRole('button', { name: 'Create' }).click();
    const created = page.locator('.console__created');
    await created.waitFor({ timeout: 15_000 });
    const url = await created.getByLabel('Webhook URL').inputValue();
    expect(url).toMatch(new RegExp(`^${api.url}/hooks/[a-z0-9]{26}$`));
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: api.url });
    await created.getByRole('button', { name: 'Copy URL' }).click();
    await created.getByText('Copied').waitFor();
    expect(await page.evaluate(() => (globalThis as any).navigator.clipboard.readText() as Promise<string>)).toBe(url);
    expect(await page.getByRole('article', { name: 'Alerts' }).count()).toBe(1);
    await screenshot(page, 'console-incoming-created');

    // Back to the channel, then post to the new URL: the post arrives live.
    await page.getByRole('button', { name: 'Back to channels' }).click();
    await page.getByRole('button', { name: /off-topic/ }).click();
    await page.getByRole('heading', { name: '#off-topic' }).waitFor();
    await page.locator('.workspace[data-live="open"]').waitFor({ timeout: 15_000 });
    const posted = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: 'Disk is **full**' }) });
    expect(posted.status).toBe(200);
    await postWith(page, 'Disk is full').waitFor({ timeout: 15_000 });
    await context.close();
  });

  it('edits and deletes a slash command, and regenerates its token', async () => {
    const { page, context } = await openPage(browser);
    await openConsole(page);
    await page.getByRole('tab', { name: 'Slash commands' }).click();
    await page.getByRole('button', { name: 'Add slash command' }).click();
    const form = page.getByRole('form', { name: 'New slash command' });
    await form.getByLabel('Title').fill('Weather');
    await form.getByLabel('Trigger word').fill('weather');
    await form.getByLabel('Request URL').fill(`${stack.integration.url}/command`);
    await form.getByRole('button', { name: 'Create' }).click();
    const card = page.getByRole('article', { name: 'Weather' });
    await card.waitFor({ timeout: 15_000 });
    const token = await card.locator('.console__token').textContent();
    await card.getByRole('button', { name: 'Regenerate the token of Weather' }).click();
    await expect.poll(() => card.locator('.console__token').textContent(), { timeout: 15_000 }).not.toBe(token);

    await card.getByRole('button', { name: 'Edit Weather' }).click();
    const edit = page.getByRole('form', { name: 'Edit Weather' });
    await edit.getByLabel('Title').fill('Forecast');
    await edit.getByRole('button', { name: 'Save' }).click();
    const renamed = page.getByRole('article', { name: 'Forecast' });
    await renamed.waitFor({ timeout: 15_000 });
    await renamed.getByRole('button', { name: 'Delete Forecast' }).click();
    await renamed.getByRole('button', { name: 'Yes, delete' }).click();
    await renamed.waitFor({ state: 'detached', timeout: 15_000 });
    const left = await api.request('GET', `/api/v4/commands?team_id=${world.team.id}&custom_only=true`, { headers: stack.auth(world.user(stack.admin).token) });
    expect(left.json().map((command: { trigger: string }) => command.trigger)).not.toContain('weather');
    await context.close();
  });

  it("creates an outgoing webhook, regenerates its token, shows a failed delivery in the log and redelivers it", async () => {
    const { page, context } = await openPage(browser);
    await openConsole(page);
    await page.getByRole('tab', { name: 'Outgoing webhooks' }).click();
    await page.getByRole('button', { name: 'Add outgoing webhook' }).click();
    const form = page.getByRole('form', { name: 'New outgoing webhook' });
    await form.getByLabel('Title').fill('Pinger');
    await form.getByLabel(/^Channel/).selectOption({ label: 'town-square' });
    await form.getByLabel('Trigger words').fill('ping');
    await form.getByLabel('Callback URLs').fill(`${stack.integration.url}/outgoing`);
    await form.getByRole('button', { name: 'Create' }).click();
    const card = page.getByRole('article', { name: 'Pinger' });
    await card.waitFor({ timeout: 15_000 });
    expect(await page.locator('.console__created').textContent()).toMatch(/signing secret, shown this once.*whsec_/);
    const token = await card.locator('.console__token').textContent();
    expect(token).toMatch(/^[a-z0-9]{26}$/);
    await card.getByRole('button', { name: 'Regenerate the token of Pinger' }).click();
    await expect.poll(() => card.locator('.console__token').textContent(), { timeout: 15_000 }).not.toBe(token);
    await card.getByRole('button', { name: 'Rotate the signing secret of Pinger' }).click();
    await card.getByText(/New signing secret, shown this once.*whsec_/).waitFor({ timeout: 15_000 });
    await screenshot(page, 'console-outgoing');

    // A message with the trigger word: the first delivery fails (503), the retry succeeds.
    const sent = await api.postJson('/api/v4/posts', { channel_id: world.channel('town-square').id, message: 'ping the service' }, stack.auth(world.user(stack.admin).token));
    expect(sent.status, sent.text).toBe(201);
    await expect.poll(() => stack.outgoingCalls(), { timeout: 30_000 }).toBeGreaterThanOrEqual(1);

    await card.getByRole('button', { name: 'Delivery log of Pinger' }).click();
    const log = card.getByRole('region', { name: 'Delivery log' });
    await expect
      .poll(
        async () => {
          await log.getByRole('button', { name: 'Refresh' }).click();
          return log.locator('tbody tr').count();
        },
        { timeout: 30_000, interval: 1_000 },
      )
      .toBeGreaterThanOrEqual(1);
    const failed = log.locator('tbody tr').filter({ hasText: '503' });
    await failed.first().waitFor({ timeout: 15_000 });
    await screenshot(page, 'console-delivery-log');

    const redeliver = log.getByRole('button', { name: 'Redeliver' }).first();
    await redeliver.click();
    const note = log.getByText(/Redelivery queued as/);
    await note.waitFor({ timeout: 15_000 });
    const redeliveryId = /queued as (\S+?)\./.exec((await note.textContent()) ?? '')?.[1];
    expect(redeliveryId).toMatch(/^[a-z0-9]+$/);
    // The redelivery is a delivery of its own, which the integration (answering 200 by now) accepts.
    const hookId = (await api.request('GET', `/api/v4/hooks/outgoing?team_id=${world.team.id}`, { headers: stack.auth(world.user(stack.admin).token) })).json()[0].id as string;
    await expect
      .poll(
        async () => {
          const attempts = (await api.request('GET', `/api/v4/hooks/outgoing/${hookId}/deliveries`, { headers: stack.auth(world.user(stack.admin).token) })).json() as Array<{ delivery_id: string; outcome: string }>;
          return attempts.some((attempt) => attempt.delivery_id === redeliveryId && attempt.outcome === 'delivered');
        },
        { timeout: 30_000, interval: 500 },
      )
      .toBe(true);
    await log.getByRole('button', { name: 'Refresh' }).click();
    await log.locator('tbody tr').filter({ hasText: 'Delivered' }).first().waitFor({ timeout: 15_000 });
    await context.close();
  });

  it('offers no console to a plain member, whom the API refuses', async () => {
    const member = world.user('other');
    const refused = await api.request('GET', `/api/v4/hooks/incoming?team_id=${world.team.id}`, { headers: stack.auth(member.token) });
    expect(refused.status).toBe(403);
    const { page, context } = await openPage(browser);
    await signIn(page, api.url, member.token);
    await page.getByRole('heading', { name: '#town-square' }).waitFor();
    // The check runs once the team is known; give it time to answer before looking.
    await page.waitForTimeout(2_000);
    expect(await page.getByRole('button', { name: 'Integrations' }).count()).toBe(0);
    await context.close();
  });
});

describe('the console, built well', () => {
  it('fits 360 px and its tabs follow the arrow keys', async () => {
    const { page, context } = await openPage(browser, { width: 360, height: 740 });
    await openConsole(page);
    await page.getByRole('tab', { name: 'Slash commands' }).click();
    await page.getByRole('article').first().waitFor({ timeout: 15_000 });
    await page.getByRole('button', { name: 'Add slash command' }).click();
    await page.getByRole('form', { name: 'New slash command' }).waitFor();
    await screenshot(page, 'console-360');
    const wide = await page.evaluate(() =>
      [...(globalThis as any).document.querySelectorAll('*')].filter((node: any) => node.getBoundingClientRect().right > 361).map((node: any) => `${node.tagName}.${node.className}`).slice(0, 8),
    );
    expect(wide).toEqual([]);
    await page.getByRole('tab', { name: 'Slash commands' }).focus();
    await page.keyboard.press('ArrowLeft');
    expect(await page.getByRole('tab', { name: 'Outgoing webhooks' }).getAttribute('aria-selected')).toBe('true');
    expect(await page.evaluate(() => (globalThis as any).document.activeElement?.textContent)).toBe('Outgoing webhooks');
    await context.close();
  });
});
