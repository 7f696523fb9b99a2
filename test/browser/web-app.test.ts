import type { Browser } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import type { Api, World } from '../support/harness.js';
import { openPage, postWith, screenshot, signIn } from './browser.js';
import { withWebAppStack, type WebAppStack } from './stack.js';

/** The web app in a real browser: serving, signing in, and how posts are drawn. */
let stack: WebAppStack;
let api: Api;
let world: World;
let browser: Browser;
let integration: WebAppStack['integration'];

withWebAppStack((started) => ({ api, world, browser, integration } = stack = started));

const hook = (body: unknown) => api.postJson(world.hook('main').url, body, { prefer: 'return=representation' });

describe('the page', () => {
  it('is served at / with a strict content security policy, and its files as immutable', async () => {
    const index = await api.request('GET', '/');
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toContain('text/html');
    expect(index.headers.get('cache-control')).toBe('no-cache');
    expect(index.headers.get('content-security-policy')).toContain("script-src 'self'");
    const script = /src="(\/static\/[^"]+\.js)"/.exec(index.text)?.[1];
    expect(script).toBeDefined();
    const asset = await api.request('GET', script!);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toContain('immutable');
    expect(asset.headers.get('content-type')).toContain('text/javascript');
    // Gzipped for a browser that takes it (API Gateway's HTTP API does not compress).
    const raw = await fetch(`${api.url}${script}`, { headers: { 'accept-encoding': 'gzip' } });
    expect(raw.headers.get('content-encoding')).toBe('gzip');
    const plain = await fetch(`${api.url}${script}`, { headers: { 'accept-encoding': 'identity' } });
    expect(plain.headers.get('content-encoding')).toBeNull();
    expect(await raw.text()).toBe(await plain.text());
    const missing = await api.request('GET', '/static/nothing-here.js');
    expect(missing.status).toBe(404);
    expect(missing.json()).toMatchObject({ id: 'api.context.404.app_error' });
  });
});

describe('signing in', () => {
  it('refuses a wrong token with the API message, then signs in, lists the channels and signs out', async () => {
    const { page, context, blocked } = await openPage(browser);
    await page.goto(api.url);
    await page.getByLabel('Personal access token').fill('not-a-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent(), { timeout: 10_000 }).toMatch(/session|token|invalid/i);

    await signIn(page, api.url, world.user('creator').token);
    const nav = page.getByRole('navigation', { name: 'Channels' });
    await nav.getByRole('button', { name: /town-square/ }).waitFor();
    await expect.poll(() => nav.getByRole('button').allTextContents(), { timeout: 10_000 }).toEqual(
      expect.arrayContaining([expect.stringContaining('off-topic'), expect.stringContaining('private'), expect.stringContaining(world.user('other').username)]),
    );
    expect(await nav.getByRole('button', { name: /private \(private\)/ }).count()).toBe(1);
    expect(await nav.getByRole('button', { name: /\(direct message\)/ }).count()).toBe(1);
    // Kept for the tab only, never in the URL.
    expect(await page.evaluate(() => sessionStorage.getItem('hookline.token'))).toBe(world.user('creator').token);
    expect(await page.evaluate(() => localStorage.length)).toBe(0);
    expect(page.url()).not.toContain(world.user('creator').token);
    await screenshot(page, 'signed-in');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Personal access token').waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem('hookline.token'))).toBeNull();
    expect(blocked).toEqual([]);
    await context.close();
  });
});

describe('posts', () => {
  it('shows a webhook post that arrives while the channel is open, with its attachment drawn', async () => {
    const { page, context, blocked, errors } = await openPage(browser);
    await signIn(page, api.url, world.user('creator').token);
    await page.getByRole('heading', { name: /town-square/ }).waitFor();
    const response = await hook({
      text: 'Build 42 passed :tada:',
      username: 'ci-bot',
      icon_url: `${integration.url}/icon.png`,
      attachments: [
        {
          fallback: 'Build 42',
          color: '#ff0000',
          pretext: 'CI finished **build 42**',
          author_name: 'CI',
          author_link: 'https://ci.example.com',
          author_icon: `${integration.url}/author.png`,
          title: 'Build #42',
          title_link: 'https://ci.example.com/42',
          text: 'All *312* tests passed',
          fields: [
            { title: 'Branch', value: 'main', short: true },
            { title: 'Duration', value: '4m', short: true },
            { title: 'Commit', value: '`abc123` Fix the widget', short: false },
          ],
          image_url: `${integration.url}/image.png`,
          thumb_url: `${integration.url}/thumb.png`,
          footer: 'CI **fast**',
          footer_icon: `${integration.url}/footer.png`,
          actions: [{ type: 'button', name: 'Runbook', url: 'https://runbooks.example.com/ci' }],
        },
      ],
    });
    expect(response.status, response.text).toBe(200);

    const post = postWith(page, 'Build 42 passed');
    await post.waitFor({ timeout: 15_000 });
    await expect.poll(() => post.locator('.post__author').textContent(), { timeout: 10_000 }).toBe('ci-bot');
    expect(await post.locator('.tag').textContent()).toBe('BOT');
    expect(await post.locator('.post__avatar img').getAttribute('src')).toBe(`${integration.url}/icon.png`);
    expect(await post.locator('.post__message').textContent()).toContain('🎉');
    const attachment = post.locator('.attachment');
    expect(await attachment.locator('.attachment__content').evaluate((node) => (globalThis as any).getComputedStyle(node).borderLeftColor)).toBe('rgb(255, 0, 0)');
    expect(await attachment.locator('.attachment__pretext strong').textContent()).toBe('build 42');
    expect(await attachment.locator('.attachment__author a').getAttribute('href')).toBe('https://ci.example.com/');
    expect(await attachment.locator('.attachment__title a').getAttribute('href')).toBe('https://ci.example.com/42');
    expect(await attachment.locator('.attachment__text em').textContent()).toBe('312');
    // Two short fields share a row; the long one has its own.
    const rows = attachment.locator('.attachment__fields tr');
    expect(await rows.count()).toBe(2);
    expect(await rows.nth(0).locator('td').count()).toBe(2);
    expect(await rows.nth(1).locator('td code').textContent()).toBe('abc123');
    expect(await attachment.locator('.attachment__image').getAttribute('src')).toBe(`${integration.url}/image.png`);
    expect(await attachment.locator('.attachment__thumb').getAttribute('src')).toBe(`${integration.url}/thumb.png`);
    expect(await attachment.locator('.attachment__footer strong').textContent()).toBe('fast');
    // A link button: a link to its URL, which calls no integration.
    expect(await attachment.getByRole('link', { name: /Runbook/ }).getAttribute('href')).toBe('https://runbooks.example.com/ci');
    await expect.poll(() => attachment.locator('.attachment__image').evaluate((image) => (image as unknown as { naturalWidth: number }).naturalWidth), { timeout: 10_000 }).toBe(1);
    await post.scrollIntoViewIfNeeded();
    await screenshot(page, 'webhook-attachment');
    // The links point outside, but nothing was fetched from outside.
    expect(blocked).toEqual([]);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('keeps the XSS payloads of a post inert: no script runs, no javascript: link survives', async () => {
    const payload = '<img src=x onerror="window.__xss=1"> [click](javascript:window.__xss=2) <script>window.__xss=3</script> <a href="javascript:window.__xss=4">a</a>';
    const response = await hook({
      text: `XSS ${payload}`,
      attachments: [
        {
          pretext: payload,
          text: `${payload} [ok](https://example.com)`,
          title: 'title <img src=x onerror="window.__xss=5">',
          title_link: 'javascript:window.__xss=6',
          author_name: 'author',
          author_link: 'javascript:window.__xss=7',
          fields: [{ title: '<b onmouseover="window.__xss=8">f</b>', value: payload, short: false }],
          footer: payload,
          actions: [{ type: 'button', name: 'Evil link', url: 'javascript:window.__xss=9' }],
        },
      ],
    });
    expect(response.status, response.text).toBe(200);
    const { page, context } = await openPage(browser);
    await signIn(page, api.url, world.user('creator').token);
    const post = postWith(page, 'XSS');
    await post.waitFor();
    // Give any handler every chance to run: hover and click everything in the post.
    for (const link of await post.locator('a, img, b').all()) await link.hover().catch(() => undefined);
    for (const link of await post.locator('a').all()) await link.click({ modifiers: ['Control'] }).catch(() => undefined);
    await page.waitForTimeout(300);
    expect(await page.evaluate(() => (globalThis as { __xss?: number }).__xss)).toBeUndefined();
    const hrefs = await page.locator('a[href]').evaluateAll((links) => links.map((link) => link.getAttribute('href') ?? ''));
    expect(hrefs.filter((href) => /^\s*javascript:/i.test(href))).toEqual([]);
    expect(await post.locator('script, [onerror], [onmouseover]').count()).toBe(0);
    // Mattermost shows a post's HTML as text.
    expect(await post.locator('.post__message').textContent()).toContain('<img src=x onerror=');
    expect(await post.getByRole('link', { name: 'ok' }).getAttribute('href')).toBe('https://example.com');
    // A link button with a javascript: URL is drawn, disabled.
    expect(await post.getByRole('button', { name: 'Evil link' }).isDisabled()).toBe(true);
    await screenshot(page, 'xss');
    await context.close();
  });
});
