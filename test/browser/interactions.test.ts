import type { Browser } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import type { Api, World } from '../support/harness.js';
import { openPage, postWith, screenshot, signIn } from './browser.js';
import path from 'node:path';
import { build } from 'esbuild';
import { projectRoot } from '../../infra/local/serverless-definition.js';
import { TEST_DIALOG, withWebAppStack, type WebAppStack } from './stack.js';

/** The web app in a real browser: buttons and menus, slash commands, posting, threads, reactions, small screens, the keyboard. */
let stack: WebAppStack;
let api: Api;
let world: World;
let browser: Browser;

withWebAppStack((started) => ({ api, world, browser } = stack = started));

const buttons = (url: string) => [
  { id: 'approve', name: 'Approve', style: 'primary', integration: { url, context: { decision: 'approve' } } },
  { id: 'reject', name: 'Reject', style: 'danger', integration: { url } },
  { id: 'custom', name: 'Custom', style: '#00aa00', integration: { url } },
  { id: 'environment', name: 'Environment', type: 'select', options: [{ text: 'Staging', value: 'staging' }, { text: 'Production', value: 'production' }], integration: { url } },
  { id: 'person', name: 'Person', type: 'select', data_source: 'users', integration: { url } },
  { id: 'room', name: 'Room', type: 'select', data_source: 'channels', integration: { url } },
];

describe('interactive messages', () => {
  it('draws buttons in their styles, and a click updates the post and shows the ephemeral answer', async () => {
    const { page, context } = await openPage(browser);
    await signIn(page, api.url, world.user('creator').token);
    await stack.hook({ text: 'Release 7 is ready', attachments: [{ text: 'Ship it?', actions: buttons(`${stack.integration.url}/action`) }] });
    const post = postWith(page, 'Release 7 is ready');
    await post.waitFor({ timeout: 15_000 });
    const approve = post.getByRole('button', { name: 'Approve' });
    expect(await approve.getAttribute('class')).toContain('btn--primary');
    expect(await post.getByRole('button', { name: 'Reject' }).getAttribute('class')).toContain('btn--danger');
    expect(await post.getByRole('button', { name: 'Custom' }).evaluate((node) => (globalThis as any).getComputedStyle(node).backgroundColor)).toBe('rgb(0, 170, 0)');
    await screenshot(page, 'buttons');

    const received = stack.integration.received.length;
    await approve.click();
    const updated = postWith(page, `Release approved by @${world.user('creator').username}`);
    await updated.waitFor({ timeout: 15_000 });
    expect(await updated.getByRole('button', { name: 'Approve' }).count()).toBe(0);
    const clicked = JSON.parse(stack.integration.received[received]!.body);
    expect(clicked).toMatchObject({ user_id: world.user('creator').id, context: { decision: 'approve' } });
    // The integration's ephemeral_text, for the clicking user alone.
    const ephemeral = postWith(page, 'You approved.');
    await ephemeral.waitFor({ timeout: 15_000 });
    expect(await ephemeral.locator('.post__visibility').textContent()).toBe('(Only visible to you)');
    await screenshot(page, 'button-clicked');
    await context.close();
  });

  it('sends the picked option of a static menu, a channels menu and a users menu', async () => {
    const { page, context } = await openPage(browser);
    await signIn(page, api.url, world.user('creator').token);
    const url = `${stack.integration.url}/action`;
    const menu = (name: string) => buttons(url).filter((action) => action.name === name);
    await stack.hook({ text: 'Static menu', attachments: [{ actions: menu('Environment') }] });
    await stack.hook({ text: 'Channels menu', attachments: [{ actions: menu('Room') }] });
    await stack.hook({ text: 'Users menu', attachments: [{ actions: menu('Person') }] });

    const staticPost = postWith(page, 'Static menu');
    await staticPost.waitFor({ timeout: 15_000 });
    await staticPost.getByLabel('Environment').selectOption('production');
    await postWith(page, 'Release picked production').waitFor({ timeout: 15_000 });

    const channelsPost = postWith(page, 'Channels menu');
    await channelsPost.getByLabel('Room').selectOption({ label: 'off-topic' });
    await postWith(page, `Release picked ${world.channel('off-topic').id}`).waitFor({ timeout: 15_000 });

    const usersPost = postWith(page, 'Users menu');
    await usersPost.getByLabel('Person').fill(world.user('other').username);
    await usersPost.getByRole('button', { name: 'Choose' }).click();
    await postWith(page, `Release picked ${world.user('other').id}`).waitFor({ timeout: 15_000 });
    await context.close();
  });

  it("shows the API's error when a click is refused", async () => {
    const { page, context } = await openPage(browser);
    await signIn(page, api.url, world.user('creator').token);
    await stack.hook({ text: 'Broken integration', attachments: [{ actions: [{ id: 'broken', name: 'Try', integration: { url: `${stack.integration.url}/missing` } }] }] });
    const post = postWith(page, 'Broken integration');
    await post.waitFor({ timeout: 15_000 });
    await post.getByRole('button', { name: 'Try' }).click();
    await expect.poll(() => post.getByRole('alert').textContent(), { timeout: 15_000 }).toMatch(/integration/i);
    await context.close();
  });
});

describe('interactive dialogs', () => {
  it('shows a dialog with every element type, its field and general errors, then submits it', async () => {
    // A click whose integration opens a dialog through the real API.
    const postId = await stack.hook({ text: 'Dialog please', attachments: [{ actions: [{ id: 'open', name: 'Open', integration: { url: `${stack.integration.url}/dialog-action` } }] }] });
    const click = await api.postJson(`/api/v4/posts/${postId}/actions/open`, {}, stack.auth());
    expect(click.status, click.text).toBe(200);
    // What the websocket's open_dialog would carry, handed to a page holding only the modal.
    const open = { trigger_id: click.json().trigger_id, url: `${stack.integration.url}/dialog-submit`, dialog: TEST_DIALOG };
    const bundle = await build({
      entryPoints: [path.join(projectRoot, 'web/test-fixtures/dialog-page.tsx')],
      bundle: true,
      write: false,
      format: 'esm',
      jsx: 'automatic',
      jsxImportSource: 'preact',
      outdir: path.join(projectRoot, 'web/dist/test'),
      logLevel: 'error',
    });
    const output = (extension: string) => bundle.outputFiles.find((file) => file.path.endsWith(extension))!.text;
    const { page, context } = await openPage(browser);
    const config = { token: world.user('creator').token, open, channelId: world.channel('town-square').id, teamId: world.team.id };
    await page.route(`${api.url}/dialog-test.js`, (route) => route.fulfill({ contentType: 'text/javascript', body: output('.js') }));
    await page.route(`${api.url}/dialog-test`, (route) =>
      route.fulfill({
        contentType: 'text/html',
        body: `<!doctype html><html lang="en"><head><style>${output('.css')}</style></head><body><div id="app"></div><script>window.__dialogTest = ${JSON.stringify(config)};</script><script type="module" src="/dialog-test.js"></script></body></html>`,
      }),
    );
    await page.goto(`${api.url}/dialog-test`);
    const dialog = page.getByRole('dialog', { name: 'Release' });
    await dialog.waitFor();
    expect(await dialog.locator('.modal__intro strong').textContent()).toBe('release');
    await expect.poll(() => page.evaluate(() => (globalThis as any).document.activeElement?.id), { timeout: 10_000 }).toBe('dialog-name');
    expect(await dialog.getByLabel('Contact (optional)').getAttribute('type')).toBe('email');
    expect(await dialog.getByLabel('Notes (optional)').evaluate((node) => (node as { tagName: string }).tagName)).toBe('TEXTAREA');
    expect(await dialog.getByLabel('Notify (optional)').isChecked()).toBe(true);
    expect(await dialog.getByRole('group', { name: 'Size' }).getByRole('radio').count()).toBe(2);
    await screenshot(page, 'dialog');

    // Required fields are checked before anything is sent.
    const before = stack.integration.received.filter((request) => request.url === '/dialog-submit').length;
    await dialog.getByRole('button', { name: 'Release it' }).click();
    expect(await dialog.locator('#dialog-name-error').textContent()).toBe('This field is required.');
    expect(stack.integration.received.filter((request) => request.url === '/dialog-submit').length).toBe(before);

    await dialog.getByLabel('Name').fill('v1');
    await dialog.getByLabel('Environment').selectOption('production');
    await dialog.getByRole('radio', { name: 'Large' }).check();
    await dialog.getByRole('button', { name: 'Release it' }).click();
    await expect.poll(() => dialog.getByRole('alert').textContent(), { timeout: 10_000 }).toBe('The release is not ready');
    expect(await dialog.locator('#dialog-name-error').textContent()).toBe('That name is taken');
    expect(await dialog.getByLabel('Name').getAttribute('aria-invalid')).toBe('true');
    const sent = JSON.parse(stack.integration.received.filter((request) => request.url === '/dialog-submit').at(-1)!.body);
    expect(sent).toMatchObject({ type: 'dialog_submission', callback_id: 'release', state: 'state-1', user_id: world.user('creator').id, submission: { name: 'v1', env: 'production', notify: true, size: 'l' }, cancelled: false });
    await screenshot(page, 'dialog-errors');

    await dialog.getByLabel('Name').fill('v2');
    await dialog.getByRole('button', { name: 'Release it' }).click();
    await page.locator('body[data-closed=true]').waitFor();
    expect(await page.getByRole('dialog').count()).toBe(0);
    await context.close();
  });
});

describe('the message box', () => {
  it('lists the slash commands as / is typed, picks one with the keyboard, and shows the ephemeral answer', async () => {
    const { page, context } = await openPage(browser);
    await signIn(page, api.url, world.user('creator').token);
    const box = page.getByLabel(/^Write to/);
    await box.fill('/dep');
    const list = page.getByRole('listbox', { name: 'Slash commands' });
    await list.waitFor();
    const options = list.getByRole('option');
    await expect.poll(() => options.count(), { timeout: 10_000 }).toBe(2);
    expect(await options.nth(0).textContent()).toContain('/deploy [service]');
    expect(await options.nth(0).textContent()).toContain('Deploy a service');
    expect(await options.nth(0).getAttribute('aria-selected')).toBe('true');
    await screenshot(page, 'autocomplete');
    await box.press('ArrowDown');
    expect(await options.nth(1).getAttribute('aria-selected')).toBe('true');
    await box.press('ArrowUp');
    await box.press('Enter');
    expect(await box.inputValue()).toBe('/deploy ');
    await box.pressSequentially('web');
    await box.press('Enter');
    const answer = postWith(page, 'Deploying web for you');
    await answer.waitFor({ timeout: 15_000 });
    expect(await answer.locator('.post__visibility').textContent()).toBe('(Only visible to you)');
    expect(await answer.locator('strong').textContent()).toBe('web');
    expect(await box.inputValue()).toBe('');
    await screenshot(page, 'ephemeral-answer');

    // goto_location: the integration's http(s) URL opens in a new tab.
    const opened = context.waitForEvent('page');
    await box.fill('/visit');
    await box.press('Enter');
    expect((await opened).url()).toBe(`${stack.integration.url}/dashboard.png`);

    // An unknown command: the API's message under the box.
    await box.fill('/nosuchcommand');
    await box.press('Enter');
    await expect.poll(() => page.locator('.message-box [role=alert]').textContent(), { timeout: 10_000 }).toContain("Command with a trigger of '/nosuchcommand' not found");
    await context.close();
  });

  it('posts a message, replies in its thread, and reacts to it', async () => {
    const { page, context } = await openPage(browser);
    await signIn(page, api.url, world.user('creator').token);
    const box = page.getByLabel(/^Write to/);
    await box.fill('Hello from the **browser**');
    await page.getByRole('button', { name: 'Send' }).first().click();
    const post = postWith(page, 'Hello from the browser');
    await post.waitFor();
    expect(await post.locator('strong').textContent()).toBe('browser');
    const stored = (await api.request('GET', `/api/v4/channels/${world.channel('town-square').id}/posts`, { headers: stack.auth() })).json();
    expect(Object.values(stored.posts as Record<string, { message: string }>).some((candidate) => candidate.message === 'Hello from the **browser**')).toBe(true);

    await post.getByRole('button', { name: 'Reply' }).click();
    const thread = page.getByRole('complementary', { name: 'Thread' });
    await thread.waitFor();
    await thread.getByLabel('Reply in the thread').fill('A reply');
    await thread.getByLabel('Reply in the thread').press('Enter');
    await thread.locator('article.post').filter({ hasText: 'A reply' }).waitFor();
    await expect.poll(() => post.getByRole('button', { name: '1 reply' }).count(), { timeout: 15_000 }).toBe(1);
    await screenshot(page, 'thread');
    await thread.getByRole('button', { name: 'Close the thread' }).click();

    await post.getByRole('button', { name: 'Add a reaction' }).click();
    await post.getByRole('button', { name: 'tada' }).click();
    const reaction = post.getByRole('button', { name: /^tada: 1, including you/ });
    await reaction.waitFor();
    expect(await reaction.getAttribute('aria-pressed')).toBe('true');
    const reactions = (await api.request('GET', `/api/v4/posts/${await post.getAttribute('data-post-id')}/reactions`, { headers: stack.auth() })).json();
    expect(reactions).toMatchObject([{ emoji_name: 'tada', user_id: world.user('creator').id }]);
    await reaction.click();
    await expect.poll(() => post.getByRole('button', { name: /^tada:/ }).count(), { timeout: 10_000 }).toBe(0);
    await context.close();
  });
});

describe('history', () => {
  it('shows the newest 60 posts, and older ones on demand', async () => {
    const channelId = world.channel('private').id;
    for (let i = 0; i < 65; i++) {
      const response = await api.postJson('/api/v4/posts', { channel_id: channelId, message: `History ${i}.` }, stack.auth());
      expect(response.status, response.text).toBe(201);
    }
    const { page, context } = await openPage(browser);
    await signIn(page, api.url, world.user('creator').token);
    await page.getByRole('navigation', { name: 'Channels' }).getByRole('button', { name: /private/ }).click();
    await postWith(page, 'History 64.').waitFor();
    expect(await postWith(page, 'History 0.').count()).toBe(0);
    await page.getByRole('button', { name: 'Load older messages' }).click();
    await postWith(page, 'History 0.').waitFor();
    expect(await page.getByRole('button', { name: 'Load older messages' }).count()).toBe(0);
    await context.close();
  });
});

describe('built well', () => {
  it('is usable 360 px wide: no sideways scrolling, the channel list behind a button, the message box in reach', async () => {
    const { page, context } = await openPage(browser, { width: 360, height: 740 });
    await stack.hook({ text: 'Narrow screens', attachments: [{ text: 'A long attachment text that must wrap on a phone screen without pushing the page sideways', fields: [{ title: 'A', value: 'a', short: true }, { title: 'B', value: 'b', short: true }], actions: buttons(`${stack.integration.url}/action`) }] });
    await signIn(page, api.url, world.user('creator').token);
    await postWith(page, 'Narrow screens').waitFor({ timeout: 15_000 });
    const overflow = await page.evaluate(() => (globalThis as any).document.documentElement.scrollWidth - (globalThis as any).innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    const sidebar = page.getByRole('navigation', { name: 'Channels' });
    expect(await sidebar.isVisible()).toBe(false);
    await screenshot(page, 'narrow');
    await page.getByRole('button', { name: 'Channels', exact: true }).click();
    await sidebar.getByRole('button', { name: /off-topic/ }).click();
    expect(await sidebar.isVisible()).toBe(false);
    await page.getByRole('heading', { name: /off-topic/ }).waitFor();
    const box = await page.getByLabel(/^Write to/).boundingBox();
    expect(box!.y + box!.height).toBeLessThanOrEqual(740);
    expect(box!.width).toBeGreaterThan(200);
    await context.close();
  });

  it('is operable by keyboard: sign in, change channel, send, all without a mouse', async () => {
    const { page, context } = await openPage(browser);
    await page.goto(api.url);
    await page.getByLabel('Personal access token').focus();
    await page.keyboard.type(world.user('creator').token);
    await page.keyboard.press('Enter');
    const nav = page.getByRole('navigation', { name: 'Channels' });
    await nav.getByRole('button', { name: /off-topic/ }).waitFor();
    // Tab from the top of the page (the skip link first) reaches the channel list.
    await page.evaluate(() => (globalThis as any).document.activeElement?.blur());
    let reached = false;
    for (let i = 0; i < 15 && !reached; i++) {
      await page.keyboard.press('Tab');
      reached = await page.evaluate(() => {
        const active = (globalThis as any).document.activeElement;
        return active?.tagName === 'BUTTON' && Boolean(active.closest('nav')) && String(active.textContent).includes('off-topic');
      });
    }
    expect(reached).toBe(true);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: /off-topic/ }).waitFor();
    expect(await nav.getByRole('button', { name: /off-topic/ }).getAttribute('aria-current')).toBe('page');
    // The message box has the focus after a channel opens.
    await expect.poll(() => page.evaluate(() => (globalThis as any).document.activeElement?.tagName), { timeout: 10_000 }).toBe('TEXTAREA');
    await page.keyboard.type('Typed without a mouse');
    await page.keyboard.press('Enter');
    await postWith(page, 'Typed without a mouse').waitFor();
    await context.close();
  });
});
