import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/**
 * Debian's chromium driven by playwright-core (`.ci/run` installs it when missing). Every page's
 * traffic is held to loopback: anything else is aborted and recorded, so a test can assert that
 * the app asked for nothing outside.
 */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

export interface TestPage {
  context: BrowserContext;
  page: Page;
  /** Requests the page tried to send anywhere but loopback (aborted). */
  blocked: string[];
  /** Uncaught errors and console errors of the page. */
  errors: string[];
}

export async function openPage(browser: Browser, options: { width?: number; height?: number } = {}): Promise<TestPage> {
  const context = await browser.newContext({ viewport: { width: options.width ?? 1280, height: options.height ?? 800 } });
  const blocked: string[] = [];
  const errors: string[] = [];
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if ((url.protocol === 'http:' || url.protocol === 'https:') && !LOOPBACK.has(url.hostname)) {
      blocked.push(url.href);
      return route.abort('blockedbyclient');
    }
    return route.continue();
  });
  const page = await context.newPage();
  page.on('pageerror', (error) => errors.push(error.message));
  return { context, page, blocked, errors };
}

export async function signIn(page: Page, url: string, token: string): Promise<void> {
  await page.goto(url);
  await page.getByLabel('Personal access token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  // Visible at every width (the channel list hides behind a button on phones).
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

/** The rendered post whose message contains `text`. */
export const postWith = (page: Page, text: string | RegExp) => page.locator('article.post').filter({ hasText: text });

/** Screenshots for a person to look at while developing; `SCREENSHOTS=dir` turns them on. */
export async function screenshot(page: Page, name: string): Promise<void> {
  const dir = process.env.SCREENSHOTS;
  if (dir) await page.screenshot({ path: `${dir}/${name}.png` });
}
