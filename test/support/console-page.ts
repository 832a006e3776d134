import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Browser, BrowserContext, Locator, Page, chromium } from 'playwright-core';
import { TEST_STATE_DIR } from './env';

/**
 * Debian's Chromium, never a browser downloaded by a test tool. CI installs it (`apt-get install -y
 * chromium`); where it is missing the console tests fail, they do not skip.
 */
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
export const UI_TIMEOUT = 30_000;

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: the console test drives Debian's Chromium. Install it with \`apt-get install -y chromium\`.`);
  }
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}

export interface ConsoleTab {
  context: BrowserContext;
  page: Page;
  /** Every URL the page asked for. */
  requests: string[];
  /** Page errors, and console errors other than the API's expected refusals (a CSP violation is one). */
  errors: string[];
}

/** The console at `baseUrl` in a fresh browser profile (empty sessionStorage). */
export async function openConsole(browser: Browser, baseUrl: string): Promise<ConsoleTab> {
  const context = await browser.newContext({ viewport: { width: 1180, height: 900 }, locale: 'en-GB', timezoneId: 'UTC' });
  const page = await context.newPage();
  const requests: string[] = [];
  const errors: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of (401|403|404|409)/.test(m.text())) errors.push(`console: ${m.text()}`);
  });
  await page.goto(`${baseUrl}/console`);
  return { context, page, requests, errors };
}

export async function signIn(page: Page, key: string): Promise<void> {
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByRole('heading', { name: 'Incidents' }).waitFor({ timeout: UI_TIMEOUT });
}

/** Waits until `locator` holds `text` (the page refreshes on its own). */
export async function waitForText(locator: Locator, text: string | RegExp): Promise<void> {
  await locator.filter({ hasText: text }).first().waitFor({ timeout: UI_TIMEOUT });
}

/** Evaluates `expression` in the page (this project's TypeScript has no DOM types). */
export const inPage = (page: Page, expression: string): Promise<unknown> => page.evaluate(expression);

export const problem = (page: Page): Locator => page.getByRole('alert', { name: 'Problem' });
export const noticeOf = (page: Page): Locator => page.getByRole('status', { name: 'Notice' });
export const incidentStatus = (page: Page): Locator => page.getByRole('status', { name: 'Incident status' });

/** Nothing the page loaded came from anywhere but the API on 127.0.0.1. */
export function onlyLoopback(requests: string[]): void {
  expect(requests.length).toBeGreaterThan(0);
  const elsewhere = requests.filter((u) => {
    const url = new URL(u);
    return !(url.protocol === 'http:' && url.hostname === '127.0.0.1');
  });
  expect(elsewhere).toEqual([]);
}

/**
 * A full-page screenshot: into docs/ (`docs/<name>`, referenced from docs/api.md) only when
 * AIRE_UPDATE_SCREENSHOTS=1, so a test run leaves the work tree as it was; else into the test state.
 */
export async function screenshot(page: Page, name: string): Promise<void> {
  const shot = process.env.AIRE_UPDATE_SCREENSHOTS === '1' ? join(__dirname, '..', '..', 'docs', name) : join(TEST_STATE_DIR, name);
  mkdirSync(join(shot, '..'), { recursive: true });
  await page.screenshot({ path: shot, fullPage: true });
  expect(statSync(shot).size).toBeGreaterThan(10_000);
}
