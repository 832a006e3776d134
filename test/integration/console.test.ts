import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Browser, BrowserContext, Locator, Page, chromium } from 'playwright-core';
import { TEST_STATE_DIR } from '../support/env';
import { Receiver } from '../support/receiver';
import { Stack, TestTenant, uniqueId } from '../support/stack';

/**
 * Debian's Chromium, never a browser downloaded by a test tool. CI installs it (`apt-get install -y
 * chromium`); where it is missing this file fails, it does not skip.
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
/** The screenshot in docs/api.md; rewritten only when asked, so a test run leaves the work tree as it was. */
const README_SCREENSHOT = join(__dirname, '..', '..', 'docs', 'console.png');
const UI_TIMEOUT = 30_000;

/** The approval console end to end: a real browser, the real API, worker, Temporal and PostgreSQL. */
describe('approval console', () => {
  let stack: Stack;
  let target: Receiver;
  let tenant: TestTenant;
  let browser: Browser;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`${CHROMIUM} is missing: the console test drives Debian's Chromium. Install it with \`apt-get install -y chromium\`.`);
    }
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
    stack = await Stack.start('console');
    target = await new Receiver().start();
    tenant = await stack.tenant('console');
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
    await target?.stop();
  });

  /** A fresh browser profile (empty sessionStorage) that records every request and every page error. */
  async function openConsole(): Promise<{ context: BrowserContext; page: Page; requests: string[]; errors: string[] }> {
    const context = await browser.newContext({ viewport: { width: 1180, height: 900 }, locale: 'en-GB', timezoneId: 'UTC' });
    const page = await context.newPage();
    const requests: string[] = [];
    const errors: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    // A CSP violation is reported as a console error, as is any script error.
    page.on('console', (m) => {
      if (m.type() === 'error' && !/status of (401|403|404|409)/.test(m.text())) errors.push(`console: ${m.text()}`);
    });
    await page.goto(`${stack.baseUrl}/console`);
    return { context, page, requests, errors };
  }

  async function signIn(page: Page, key: string): Promise<void> {
    await page.getByLabel('API key').fill(key);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { name: 'Incidents' }).waitFor({ timeout: UI_TIMEOUT });
  }

  /** Waits until `locator` holds `text` (the page refreshes on its own). */
  async function waitForText(locator: Locator, text: string | RegExp): Promise<void> {
    await locator.filter({ hasText: text }).first().waitFor({ timeout: UI_TIMEOUT });
  }

  /** Evaluates `expression` in the page (this project's TypeScript has no DOM types). */
  const inPage = (page: Page, expression: string): Promise<unknown> => page.evaluate(expression);

  const problem = (page: Page): Locator => page.getByRole('alert', { name: 'Problem' });
  const incidentStatus = (page: Page): Locator => page.getByRole('status', { name: 'Incident status' });

  function onlyLoopback(requests: string[]): void {
    expect(requests.length).toBeGreaterThan(0);
    const elsewhere = requests.filter((u) => {
      const url = new URL(u);
      return !(url.protocol === 'http:' && url.hostname === '127.0.0.1');
    });
    expect(elsewhere).toEqual([]);
  }

  test('the console is static, same-origin only, under a strict Content-Security-Policy', async () => {
    for (const path of ['/console', '/console/']) {
      const res = await fetch(`${stack.baseUrl}${path}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain('unsafe-inline');
      expect(csp).not.toContain('unsafe-eval');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      const html = await res.text();
      // Every script comes from a file of this origin; no inline script, no inline handler, no CDN.
      expect(html).not.toMatch(/<script(?![^>]*\ssrc="\/console\/)[^>]*>/i);
      expect(html).not.toMatch(/\son[a-z]+=/i);
      expect(html).not.toMatch(/(src|href)="(https?:)?\/\//i);
    }
    const js = await fetch(`${stack.baseUrl}/console/console.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toMatch(/javascript/);
    expect(await js.text()).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(/);
    expect((await fetch(`${stack.baseUrl}/console/console.css`)).headers.get('content-type')).toMatch(/^text\/css/);
    expect((await fetch(`${stack.baseUrl}/console/missing.js`)).status).toBe(404);
    // The console needs no key to load, the API behind it still does.
    expect((await fetch(`${stack.baseUrl}/api/incidents`)).status).toBe(401);
  });

  test('an approver signs in, approves a gated step and sees the incident move on; a viewer is refused', async () => {
    const rb = uniqueId('console');
    const url = (p: string): string => `${target.url}/${rb}/${p}`;
    const runbook = {
      id: rb,
      name: 'Restart checkout on elevated errors',
      triggers: { titlePattern: rb },
      steps: [
        { id: 'page-oncall', name: 'Tell the on-call', action: 'http', params: { method: 'POST', url: url('page-oncall') } },
        {
          id: 'restart',
          name: 'Restart checkout pods',
          action: 'http',
          params: { method: 'POST', url: url('restart') },
          requiresApproval: true,
          risk: 'medium',
        },
        { id: 'verify', name: 'Check the error rate', action: 'http', params: { method: 'POST', url: url('verify') } },
      ],
    };
    expect((await stack.call('POST', '/api/runbooks', tenant.keys.admin, runbook)).status).toBe(201);
    const title = `Checkout error rate above SLO (${rb})`;
    const declared = await stack.call<{ id: string }>('POST', '/api/incidents', tenant.keys.ingest, {
      title,
      severity: 'high',
      summary: '5xx ratio on checkout at 7% for 10 minutes',
      context: { service: 'checkout' },
    });
    expect(declared.status).toBe(201);
    const id = declared.body.id;
    await stack.incidentWhen(tenant, id, (v) => v.incident.status === 'awaiting_approval' && v.live?.pendingApproval?.stepId === 'restart');
    expect(target.paths(rb)).toEqual([`POST /${rb}/page-oncall`]);

    // A newer incident whose title is markup: listed after the one awaiting approval, and shown as text.
    const hostile = `<img src=x onerror="window.__xss=1"> ${uniqueId('xss')}`;
    expect((await stack.call('POST', '/api/incidents', tenant.keys.ingest, { title: hostile, severity: 'low' })).status).toBe(201);

    // ---- a viewer: can look, cannot approve ----
    const viewer = await openConsole();
    let page = viewer.page;
    await page.getByLabel('API key').fill('not-a-key');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await waitForText(problem(page), 'Unauthorized (401)');
    expect(await inPage(page, 'window.sessionStorage.length')).toBe(0);

    await signIn(page, tenant.keys.viewer);
    const rows = page.locator('#incident-rows tr');
    await rows.first().waitFor({ timeout: UI_TIMEOUT });
    expect(await rows.first().getAttribute('data-incident-id')).toBe(id);
    await waitForText(rows.first(), 'awaiting_approval');
    await waitForText(rows.first(), 'high');
    await page.getByRole('link', { name: hostile, exact: true }).waitFor({ timeout: UI_TIMEOUT });
    expect(await page.locator('#incident-rows img').count()).toBe(0);
    expect(await inPage(page, 'window.__xss')).toBeUndefined();
    // The key lives in this tab's sessionStorage only.
    expect(await inPage(page, 'Object.values(window.sessionStorage)')).toEqual([tenant.keys.viewer]);
    expect(await inPage(page, 'window.localStorage.length')).toBe(0);

    await page.getByRole('link', { name: title, exact: true }).click();
    await waitForText(incidentStatus(page), 'awaiting_approval');
    await page.getByRole('button', { name: 'Approve', exact: true }).click();
    await waitForText(problem(page), 'Forbidden (403)');
    await waitForText(problem(page), 'this needs one of the roles: approver');
    expect((await stack.call<{ incident: { status: string } }>('GET', `/api/incidents/${id}`, tenant.keys.viewer)).body.incident.status).toBe(
      'awaiting_approval',
    );

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('API key').waitFor({ timeout: UI_TIMEOUT });
    expect(await inPage(page, 'window.sessionStorage.length')).toBe(0);
    expect(viewer.errors).toEqual([]);
    onlyLoopback(viewer.requests);
    await viewer.context.close();

    // ---- an approver ----
    const approver = await openConsole();
    page = approver.page;
    await signIn(page, tenant.keys.approver);
    await page.getByRole('link', { name: title, exact: true }).click();
    await waitForText(incidentStatus(page), 'awaiting_approval');
    const pending = page.getByRole('region', { name: 'Waiting for approval' });
    await waitForText(pending, 'Step "restart" (Restart checkout pods) waits for approval');
    await waitForText(pending.getByRole('list', { name: 'Why approval is needed' }), /approval/);
    const steps = page.getByRole('table', { name: 'Steps' });
    await waitForText(steps.locator('tr[data-step-id="page-oncall"]'), 'succeeded');
    await waitForText(steps.locator('tr[data-step-id="restart"]'), 'awaiting_approval');
    await waitForText(page.getByRole('list', { name: 'Timeline' }), 'approval.requested');

    await page.getByLabel('Reason').fill('error budget gone; restart approved by the checkout owner');
    mkdirSync(TEST_STATE_DIR, { recursive: true });
    const shot = process.env.AIRE_UPDATE_SCREENSHOTS === '1' ? README_SCREENSHOT : join(TEST_STATE_DIR, 'console.png');
    mkdirSync(join(shot, '..'), { recursive: true });
    await page.screenshot({ path: shot, fullPage: true });
    expect(statSync(shot).size).toBeGreaterThan(10_000);

    await page.getByRole('button', { name: 'Approve', exact: true }).click();
    await waitForText(page.getByRole('status', { name: 'Notice' }), 'Accepted: approve by key:approver-key (approved).');
    // No reload: the open incident refreshes itself every 2 s.
    await waitForText(incidentStatus(page), 'mitigated');
    expect(target.paths(rb)).toEqual([`POST /${rb}/page-oncall`, `POST /${rb}/restart`, `POST /${rb}/verify`]);
    expect(await pending.isHidden()).toBe(true);
    await waitForText(steps.locator('tr[data-step-id="restart"]'), 'succeeded');
    await waitForText(page.getByRole('list', { name: 'Approvals' }), 'approve by key:approver-key for step restart: error budget gone');
    await waitForText(page.getByRole('list', { name: 'Timeline' }), 'approval.granted');

    // Nothing waits any more: the API's 409 is shown, not swallowed.
    await page.getByRole('button', { name: 'Approve', exact: true }).click();
    await waitForText(problem(page), 'Conflict (409)');
    await waitForText(problem(page), 'nothing is waiting for approval');

    await page.getByRole('button', { name: 'Acknowledge', exact: true }).click();
    await waitForText(page.getByRole('status', { name: 'Notice' }), 'Accepted: acknowledge');
    expect(await problem(page).isHidden()).toBe(true);
    await waitForText(page.locator('#incident-acknowledged'), /\d/);

    await page.getByLabel('Reason').fill('made it worse');
    await page.getByRole('button', { name: 'Rollback', exact: true }).click();
    await waitForText(incidentStatus(page), 'rolled_back');
    const done = await stack.incidentWhen(tenant, id, (v) => v.incident.status === 'rolled_back');
    expect(done.actionLog.find((e) => e.kind.startsWith('rollback'))).toMatchObject({ actor: 'key:approver-key' });

    // Back to the list: the incident is no longer first, nothing awaits approval.
    await page.getByRole('link', { name: '← All incidents' }).click();
    await page.getByRole('heading', { name: 'Incidents' }).waitFor({ timeout: UI_TIMEOUT });
    await waitForText(page.locator(`#incident-rows tr[data-incident-id="${id}"]`), 'rolled_back');

    expect(approver.errors).toEqual([]);
    onlyLoopback(approver.requests);
    await approver.context.close();
  });
});
