import { Browser } from 'playwright-core';
import {
  ConsoleTab,
  UI_TIMEOUT,
  incidentStatus,
  inPage,
  launchChromium,
  noticeOf,
  onlyLoopback,
  openConsole,
  problem,
  screenshot,
  signIn,
  waitForText,
} from '../support/console-page';
import { Receiver } from '../support/receiver';
import { Stack, TestTenant, uniqueId } from '../support/stack';

/** The approval console end to end: a real browser (Debian's Chromium), the real API, worker, Temporal and PostgreSQL. */
describe('approval console', () => {
  let stack: Stack;
  let target: Receiver;
  let tenant: TestTenant;
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchChromium();
    stack = await Stack.start('console');
    target = await new Receiver().start();
    tenant = await stack.tenant('console');
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
    await target?.stop();
  });

  const open = (): Promise<ConsoleTab> => openConsole(browser, stack.baseUrl);

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
    for (const script of ['console.js', 'command.js']) {
      const js = await fetch(`${stack.baseUrl}/console/${script}`);
      expect(js.status).toBe(200);
      expect(js.headers.get('content-type')).toMatch(/javascript/);
      expect(js.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect(await js.text()).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(/);
    }
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
    const viewer = await open();
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
    const approver = await open();
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
    await screenshot(page, 'console.png');

    await page.getByRole('button', { name: 'Approve', exact: true }).click();
    await waitForText(noticeOf(page), 'Accepted: approve by key:approver-key (approved).');
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
    await waitForText(noticeOf(page), 'Accepted: acknowledge');
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

  test('incident command from the page: roles, root cause, deadline, a suggested runbook run (409 while one runs), a note, a status update', async () => {
    const own = await stack.tenant('command');
    const first = uniqueId('cmd');
    const second = uniqueId('flush');
    const http = (rb: string, id: string, extra: Record<string, unknown> = {}) => ({
      id,
      name: id,
      action: 'http',
      params: { method: 'POST', url: `${target.url}/${rb}/${id}` },
      ...extra,
    });
    // The incident's own runbook (its title names it) waits for approval; the second is only suggested:
    // its text matches the title's words, its trigger does not.
    const runbooks = [
      {
        id: first,
        name: 'Restart the checkout cache',
        triggers: { titlePattern: first },
        steps: [http(first, 'drain'), http(first, 'restart', { requiresApproval: true })],
      },
      {
        id: second,
        name: 'Flush the checkout cache',
        description: 'When checkout serves stale cache entries',
        triggers: { titlePattern: second },
        steps: [http(second, 'flush'), http(second, 'warm')],
      },
    ];
    for (const rb of runbooks) expect((await stack.call('POST', '/api/runbooks', own.keys.admin, rb)).status).toBe(201);
    const title = `Checkout cache stale (${first})`;
    const declared = await stack.call<{ id: string }>('POST', '/api/incidents', own.keys.ingest, { title, severity: 'high' });
    expect(declared.status).toBe(201);
    const id = declared.body.id;
    const waiting = await stack.incidentWhen(own, id, (v) => v.live?.pendingApproval?.stepId === 'restart');
    expect((waiting.incident.suggestions as { runbookId: string }[]).map((s) => s.runbookId).sort()).toEqual([first, second].sort());
    const roles = await stack.call('POST', `/api/incidents/${id}/roles`, own.keys.responder, { role: 'comms', person: 'key:responder-key' });
    expect(roles.status).toBe(200);
    const rootCause = 'a deploy shipped a cache key without the tenant';
    expect((await stack.call('PATCH', `/api/incidents/${id}`, own.keys.responder, { rootCause })).status).toBe(200);

    const tab = await open();
    const page = tab.page;
    await signIn(page, own.keys.approver);
    await page.getByRole('link', { name: title, exact: true }).click();
    await waitForText(incidentStatus(page), 'awaiting_approval');
    const fact = (elementId: string): ReturnType<typeof page.locator> => page.locator(`#${elementId}`);
    await waitForText(fact('role-comms'), 'key:responder-key');
    expect(await fact('role-commander').textContent()).toBe('—');
    await waitForText(fact('root-cause'), rootCause);
    // Not acknowledged yet: the deadline the workflow keeps (live.ackBy) is shown.
    await page.locator('#ack-by-fact').waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    expect(await fact('incident-ack-by').locator('time').getAttribute('datetime')).toBe(waiting.live?.ackBy);
    expect(await fact('incident-ack-by').textContent()).toMatch(/^\d\d\/\d\d\/\d{4}, \d\d:\d\d:\d\d$/);

    // While the incident's own runbook waits, the workflow refuses another: the 409 is shown.
    const run = page.getByRole('button', { name: 'Run Flush the checkout cache', exact: true });
    await run.click();
    await waitForText(problem(page), 'Conflict (409)');
    await waitForText(problem(page), "the incident's own runbook has not finished");

    await page.getByRole('button', { name: 'Approve', exact: true }).click();
    await waitForText(incidentStatus(page), 'mitigated');
    await page.getByRole('button', { name: 'Acknowledge', exact: true }).click();
    // The acknowledger becomes the commander; the deadline no longer matters.
    await waitForText(fact('role-commander'), 'key:approver-key');
    await page.locator('#ack-by-fact').waitFor({ state: 'hidden', timeout: UI_TIMEOUT });

    await run.click();
    await waitForText(noticeOf(page), 'Accepted: runbook by key:approver-key (runbook queued).');
    const steps = page.getByRole('table', { name: 'Steps' });
    await waitForText(steps.locator('tr[data-step-id="r2-warm"]'), 'succeeded');
    await waitForText(steps.locator('tr[data-step-id="r2-flush"]'), 'succeeded');
    await waitForText(page.locator('#more-runbooks'), `${second} v1 by key:approver-key (steps r2-…)`);
    expect(target.paths(second)).toEqual([`POST /${second}/flush`, `POST /${second}/warm`]);

    const note = 'cache flushed; error rate back under 0.1% within a minute';
    await page.getByLabel('Note', { exact: true }).fill(note);
    await page.getByLabel('Key note').check();
    await page.getByRole('button', { name: 'Add note' }).click();
    await waitForText(noticeOf(page), 'Note added by key:approver-key (key note).');
    const timeline = page.getByRole('list', { name: 'Timeline' });
    await waitForText(timeline.locator('li.note'), note);
    await waitForText(timeline.locator('li.note'), 'key note');
    expect(await page.getByLabel('Note', { exact: true }).inputValue()).toBe('');
    const recorded = await stack.call<{ items: { kind: string; actor: string; text: string }[] }>('GET', `/api/incidents/${id}/timeline`, own.keys.viewer);
    expect(recorded.body.items.filter((e) => e.kind === 'note.added')).toEqual([
      expect.objectContaining({ actor: 'key:approver-key', text: `key:approver-key (key note): ${note}` }),
    ]);

    // External updates are refused until the tenant allows them; an internal one is posted and shown.
    const update = 'Checkout is healthy again; we watch the cache for an hour.';
    await page.getByLabel('Status update', { exact: true }).fill(update);
    await page.getByLabel('Audience').selectOption('external');
    await page.getByRole('button', { name: 'Post update' }).click();
    await waitForText(problem(page), 'does not allow external status updates');
    await page.getByLabel('Audience').selectOption('internal');
    await page.getByRole('button', { name: 'Post update' }).click();
    await waitForText(noticeOf(page), 'Accepted: status-update by key:approver-key (status update posted).');
    const latest = page.getByRole('group', { name: 'Latest status update' });
    await waitForText(latest, update);
    await waitForText(latest, 'key:approver-key');

    await screenshot(page, 'console-incident-command.png');
    expect(tab.errors).toEqual([]);
    onlyLoopback(tab.requests);
    await tab.context.close();
  });
});
