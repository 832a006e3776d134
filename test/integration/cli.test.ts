import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Receiver } from '../support/receiver';
import { IncidentView, Stack, TestTenant, uniqueId } from '../support/stack';
import { freePort } from '../support/processes';

const ROOT = join(__dirname, '..', '..');

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The `aire` CLI against the real API, as operators use it: one process per command. */
describe('aire CLI', () => {
  let stack: Stack;
  let target: Receiver;
  let tenant: TestTenant;
  let dir: string;
  const rb = uniqueId('cli');

  beforeAll(async () => {
    stack = await Stack.start('cli');
    target = await new Receiver().start();
    tenant = await stack.tenant('cli');
    dir = mkdtempSync(join(tmpdir(), 'aire-cli-'));
  });
  afterAll(async () => {
    await stack?.stop();
    await target?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Runs `aire ARGS` in a child process (asynchronously: the API under test runs in this process). */
  function aire(args: string[], env: Record<string, string> = {}): Promise<Ran> {
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', 'src/cli/main.ts', ...args],
        {
          cwd: ROOT,
          env: { ...process.env, AIRE_API_URL: stack.baseUrl, AIRE_API_KEY: tenant.keys.admin, ...env },
          timeout: 60_000,
        },
        (err, stdout, stderr) => {
          const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
          resolve({ code, stdout, stderr });
        },
      );
    });
  }

  function file(name: string, text: string): string {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  }

  const runbookYaml = (name: string) => `# a runbook as an operator keeps it
id: ${rb}
name: ${name}
triggers:
  titlePattern: ${rb}
steps:
  - id: one
    name: First call
    action: http
    params:
      method: POST
      url: ${target.url}/${rb}/one
      compensate: { method: POST, url: "${target.url}/${rb}/undo-one" }
  - id: two
    name: Gated call
    action: http
    requiresApproval: true
    params:
      method: POST
      url: "${target.url}/${rb}/{{incident.context.service}}"
      compensate: { method: POST, url: "${target.url}/${rb}/undo-two" }
`;

  let incidentId = '';

  test('--help works for the program and every command group, with exit codes and examples', async () => {
    const top = await aire(['--help']);
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/Exit codes:/);
    expect(top.stdout).toMatch(/2 {2}the API refused the request/);
    expect(top.stdout).toMatch(/3 {2}the API or a service behind it is unavailable/);
    expect(top.stdout).toContain('AIRE_API_URL');
    for (const name of ['incidents', 'incident', 'runbooks', 'runbook', 'controls', 'admin', 'db']) {
      const res = await aire([name, '--help']);
      expect({ name, code: res.code }).toEqual({ name, code: 0 });
      expect(res.stdout).toMatch(/Example/);
    }
    const approve = await aire(['incident', 'approve', '--help']);
    expect(approve.code).toBe(0);
    expect(approve.stdout).toContain('--step <stepId>');
    expect(approve.stdout).toContain('--json');
    expect(approve.stdout).toMatch(/Example:\n {2}\$ aire incident approve/);
  });

  test('runbook apply from a YAML file creates the runbook, then adds a version', async () => {
    const first = await aire(['runbook', 'apply', '-f', file('runbook.yaml', runbookYaml('CLI runbook'))]);
    expect(first).toMatchObject({ code: 0, stdout: `runbook ${rb}: version 1 (new runbook)\n` });
    const second = await aire(['runbook', 'apply', '-f', file('runbook.yaml', runbookYaml('CLI runbook, edited')), '--json']);
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ id: rb, name: 'CLI runbook, edited', version: 2 });

    const versions = await aire(['runbook', 'versions', rb]);
    expect(versions.code).toBe(0);
    expect(versions.stdout).toMatch(/VERSION\s+CREATED\s+BY/);
    expect(versions.stdout).toContain('key:admin-key');

    const v1 = await aire(['runbook', 'show', rb, '--version', '1', '--json']);
    expect(v1.code).toBe(0);
    expect(JSON.parse(v1.stdout)).toMatchObject({ id: rb, version: 1, name: 'CLI runbook' });
    const latest = await aire(['runbook', 'show', rb]);
    expect(latest.code).toBe(0);
    expect(latest.stdout).toContain(`Runbook ${rb}: CLI runbook, edited`);
    expect(latest.stdout).toMatch(/2\s+two\s+Gated call\s+http\s+low\s+0\s+required/);
    expect((await aire(['runbook', 'show', rb, '--version', '9'])).code).toBe(2);
  });

  test("runbook apply -f takes seed 000's runbook JSON as printed (no id: it comes from the name)", async () => {
    // test/fixtures/seeds/README.md: copied from seed 000's "Example Runbooks".
    const seed = join(ROOT, 'test', 'fixtures', 'seeds', '000-budget-overrun.json');
    const first = await aire(['runbook', 'apply', '-f', seed]);
    expect(first).toMatchObject({ code: 0, stdout: 'runbook budget-overrun-response: version 1 (new runbook)\n' });
    const shown = await aire(['runbook', 'show', 'budget-overrun-response', '--json']);
    expect(JSON.parse(shown.stdout)).toMatchObject({ severityScope: ['high'], triggers: { sources: ['upewe'], titlePattern: 'budget_risk' } });
    const exported = await stack.call('GET', '/api/runbooks/budget-overrun-response?format=seed', tenant.keys.viewer);
    const again = await aire(['runbook', 'apply', '-f', file('exported.json', JSON.stringify(exported.body))]);
    expect(again).toMatchObject({ code: 0, stdout: 'runbook budget-overrun-response: version 2\n' });
    const bad = await aire([
      'runbook',
      'apply',
      '-f',
      file('bad-seed.json', JSON.stringify({ name: 'Bad', actions: [{ type: 'reboot', payload: {}, order: 1 }] })),
    ]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('actions[0].type');
  });

  test('runbooks list shows the runbook in a table', async () => {
    const res = await aire(['runbooks', 'list']);
    expect(res.code).toBe(0);
    const [header, ...rows] = res.stdout.trimEnd().split('\n');
    expect(header).toMatch(/^ID\s+VERSION\s+ENABLED\s+STEPS\s+TRIGGERS\s+NAME\s+UPDATED$/);
    expect(rows.find((r) => r.startsWith(`${rb} `))).toMatch(new RegExp(`^${rb}\\s+2\\s+yes\\s+2\\s+title ~ /${rb}/i\\s+CLI runbook, edited`));
  });

  test('runbook test --incident prints match reasons, gates and the rendered steps', async () => {
    const sample = file('incident.yaml', `title: ${rb} checkout is slow\nseverity: medium\ncontext:\n  service: checkout\n`);
    const res = await aire(['runbook', 'test', rb, '--incident', sample]);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain(`Runbook ${rb} v2 against "${rb} checkout is slow" (medium)`);
    expect(res.stdout).toContain('Match: yes');
    expect(res.stdout).toMatch(/- .*title/);
    expect(res.stdout).toContain('Runbook gate: autopilot: runs without approval');
    expect(res.stdout).toContain('gate: step "two" requires approval');
    expect(res.stdout).toContain(`"url":"${target.url}/${rb}/checkout"`);
    expect(res.stdout).toContain(`undo: POST ${target.url}/${rb}/undo-two`);
    expect(res.stdout).toContain('Would run: yes');

    const json = await aire(['runbook', 'test', rb, '--incident', sample, '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ matched: true, wouldRun: true, runbook: { id: rb, version: 2 } });

    // A sample that does not match says so; a sample that is not an incident is a local error.
    const other = await aire(['runbook', 'test', rb, '--incident', file('other.json', JSON.stringify({ title: 'disk full', severity: 'low' }))]);
    expect(other.code).toBe(0);
    expect(other.stdout).toContain('Match: no');
    expect(other.stdout).toContain('Would run: no');
    const bad = await aire(['runbook', 'test', rb, '--incident', file('bad.yaml', 'title: x\nseverity: dreadful\n')]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('severity:');
    expect(target.requests).toHaveLength(0);
  });

  test('incidents list and incident show, while a gated step waits', async () => {
    const res = await stack.call<{ id: string }>('POST', '/api/incidents', tenant.keys.ingest, {
      title: `${rb} checkout is slow`,
      severity: 'medium',
      context: { service: 'checkout' },
    });
    expect(res.status).toBe(201);
    incidentId = res.body.id;
    await stack.incidentWhen(tenant, incidentId, (v) => v.incident.status === 'awaiting_approval');

    const list = await aire(['incidents', 'list', '--json']);
    expect(list.code).toBe(0);
    const page = JSON.parse(list.stdout) as { items: { id: string; status: string }[]; nextCursor: string | null };
    expect(page.items.find((i) => i.id === incidentId)).toMatchObject({ status: 'awaiting_approval' });
    expect(page).toHaveProperty('nextCursor', null);

    const table = await aire(['incidents', 'list', '--status', 'awaiting_approval']);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(
      new RegExp(`^${incidentId}\\s+\\S+ \\S+Z\\s+medium\\s+awaiting_approval\\s+manual\\s+${rb} v2\\s+${rb} checkout is slow$`, 'm'),
    );
    // A second incident (no runbook matches it) makes two pages of one: --all follows nextCursor.
    const other = await stack.call<{ id: string }>('POST', '/api/incidents', tenant.keys.ingest, { title: 'printer on fire', severity: 'low' });
    expect(other.status).toBe(201);
    const onePage = await aire(['incidents', 'list', '--limit', '1']);
    expect(onePage.code).toBe(0);
    expect(onePage.stdout).toContain(other.body.id);
    expect(onePage.stdout).not.toContain(incidentId);
    expect(onePage.stderr).toMatch(/more incidents: --all lists every page, --cursor \S+ the next one/);
    const all = await aire(['incidents', 'list', '--limit', '1', '--all', '--json']);
    expect(all.code).toBe(0);
    expect((JSON.parse(all.stdout) as { items: { id: string }[] }).items.map((i) => i.id)).toEqual([other.body.id, incidentId]);

    const none = await aire(['incidents', 'list', '--status', 'closed']);
    expect(none).toMatchObject({ code: 0, stdout: 'no incidents\n' });

    const show = await aire(['incident', 'show', incidentId]);
    expect(show.code).toBe(0);
    expect(show.stdout).toContain(`Incident ${incidentId}: ${rb} checkout is slow`);
    expect(show.stdout).toMatch(/status\s+awaiting_approval/);
    expect(show.stdout).toContain('Waiting for approval: step "two"');
    expect(show.stdout).toContain(`aire incident approve ${incidentId} --step two`);
    expect(show.stdout).toMatch(/1\s+one\s+First call\s+http\s+succeeded/);
    expect(show.stdout).toMatch(/2\s+two\s+Gated call\s+http\s+awaiting_approval/);
    expect(show.stdout).toMatch(/Action log\n\s+AT\s+KIND\s+ACTOR/);
  });

  test('a key without the approver role is refused with exit code 2', async () => {
    const res = await aire(['incident', 'approve', incidentId, '--step', 'two'], { AIRE_API_KEY: tenant.keys.responder });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('403 Forbidden');
    expect(res.stderr).toContain('this needs one of the roles: approver');
    const unknown = await aire(['incident', 'show', incidentId], { AIRE_API_KEY: 'not-a-key' });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('401 Unauthorized');
    const json = await aire(['incident', 'approve', incidentId, '--json'], { AIRE_API_KEY: tenant.keys.viewer });
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toMatchObject({ status: 403, title: 'Forbidden' });
  });

  test('incident approve lets the gated step run; a second approve is a conflict', async () => {
    const res = await aire(['incident', 'approve', incidentId, '--step', 'two', '--reason', 'change window open'], { AIRE_API_KEY: tenant.keys.approver });
    expect(res.code).toBe(0);
    expect(res.stdout).toContain(`approve: approved for incident ${incidentId} (as key:approver-key)`);

    const done = await stack.incidentWhen(tenant, incidentId, (v) => v.incident.status === 'mitigated');
    expect(target.paths(rb)).toEqual([`POST /${rb}/one`, `POST /${rb}/checkout`]);
    expect(done.approvals).toMatchObject([{ stepId: 'two', decision: 'approve', approver: 'key:approver-key', reason: 'change window open' }]);

    const again = await aire(['incident', 'approve', incidentId], { AIRE_API_KEY: tenant.keys.approver });
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('409 Conflict');
    expect(again.stderr).toContain('nothing is waiting for approval');

    const show = await aire(['incident', 'show', incidentId]);
    expect(show.stdout).toMatch(/Approvals\n\s+AT\s+DECISION\s+STEP\s+BY\s+REASON\n.*approve\s+two\s+key:approver-key\s+change window open/);
    expect(show.stdout).not.toContain('Waiting for approval');
  });

  test('incident rollback undoes the steps newest first; close ends the incident', async () => {
    const res = await aire(['incident', 'rollback', incidentId, '--reason', 'made it worse']);
    expect(res.code).toBe(0);
    await stack.incidentWhen(tenant, incidentId, (v) => v.incident.status === 'rolled_back');
    expect(target.paths(rb)).toEqual([`POST /${rb}/one`, `POST /${rb}/checkout`, `POST /${rb}/undo-two`, `POST /${rb}/undo-one`]);

    const show = await aire(['incident', 'show', incidentId, '--json']);
    expect(show.code).toBe(0);
    const view = JSON.parse(show.stdout) as IncidentView;
    expect(view.incident.status).toBe('rolled_back');
    expect(view.steps.map((s) => [s.stepId, s.status])).toEqual([
      ['one', 'compensated'],
      ['two', 'compensated'],
    ]);

    const twice = await aire(['incident', 'rollback', incidentId]);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toContain('already rolled back');

    expect((await aire(['incident', 'ack', incidentId, '--json'])).code).toBe(0);
    const close = await aire(['incident', 'close', incidentId, '--reason', 'post-mortem filed']);
    expect(close.code).toBe(0);
    await stack.incidentWhen(tenant, incidentId, (v) => v.incident.status === 'closed');
  });

  test('incident note writes on the timeline (a key note reaches the report); incident timeline shows it all in order', async () => {
    const note = await aire(['incident', 'note', incidentId, 'the checkout config push caused it', '--key'], { AIRE_API_KEY: tenant.keys.responder });
    expect([note.code, note.stdout]).toEqual([0, expect.stringContaining('key note added')]);
    const timeline = await aire(['incident', 'timeline', incidentId]);
    expect(timeline.code).toBe(0);
    const lines = timeline.stdout.split('\n');
    const at = (text: string): number => lines.findIndex((l) => l.includes(text));
    // Opened, acted on, closed, then the note written in review: one stream, in order.
    expect(at('Incident opened')).toBeGreaterThan(0);
    expect(at('asked for a rollback')).toBeGreaterThan(at('Incident opened'));
    expect(at('closed the incident')).toBeGreaterThan(at('asked for a rollback'));
    expect(at('(key note): the checkout config push caused it')).toBeGreaterThan(at('closed the incident'));
    const report = await stack.call<{ postMortem: { keyNotes: { actor: string; text: string }[] } }>(
      'GET',
      `/api/incidents/${incidentId}/report`,
      tenant.keys.viewer,
    );
    expect(report.body.postMortem.keyNotes).toEqual([
      { at: expect.any(String) as string, actor: 'key:responder-key', text: 'the checkout config push caused it' },
    ]);
    const empty = await aire(['incident', 'note', incidentId, '   '], { AIRE_API_KEY: tenant.keys.responder });
    expect([empty.code, empty.stderr]).toEqual([2, expect.stringContaining('text')]);
  });

  test('incident edit, assign, status-update and run: answered by the workflow, shown by incident show', async () => {
    const declared = await stack.call<{ id: string }>('POST', '/api/incidents', tenant.keys.ingest, { title: uniqueId('cli-command'), severity: 'medium' });
    const id = declared.body.id;
    const responder = { AIRE_API_KEY: tenant.keys.responder };
    const ack = await aire(['incident', 'ack', id], responder);
    expect([ack.code, ack.stdout]).toEqual([0, expect.stringContaining('acknowledged')]);
    const noReason = await aire(['incident', 'edit', id, '--severity', 'high'], responder);
    expect([noReason.code, noReason.stderr]).toEqual([2, expect.stringMatching(/reason: a severity change needs a reason/)]);
    const edit = await aire(
      ['incident', 'edit', id, '--severity', 'high', '--reason', 'two regions', '--root-cause', 'a bad flag', '--users-affected', '40'],
      responder,
    );
    expect([edit.code, edit.stdout]).toEqual([0, expect.stringContaining('edit: edited')]);
    expect((await aire(['incident', 'edit', id, '--users-affected', 'many'], responder)).code).toBe(1);
    const assign = await aire(['incident', 'assign', id, 'scribe', 'key:approver-key'], responder);
    expect([assign.code, assign.stdout]).toEqual([0, expect.stringContaining('scribe: role assigned')]);
    const nobody = await aire(['incident', 'assign', id, 'comms', 'mallory'], responder);
    expect([nobody.code, nobody.stderr]).toEqual([2, expect.stringContaining('person')]);
    const update = await aire(['incident', 'status-update', id, 'Rolled back the flag'], responder);
    expect([update.code, update.stdout]).toEqual([0, expect.stringContaining('status update posted')]);
    const run = await aire(['incident', 'run', id, 'no-such-runbook'], responder);
    expect([run.code, run.stderr]).toEqual([2, expect.stringContaining('runbookId')]);

    const shown = await aire(['incident', 'show', id]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/commander\s+key:responder-key/);
    expect(shown.stdout).toMatch(/scribe\s+key:approver-key/);
    expect(shown.stdout).toMatch(/root cause\s+a bad flag/);
    expect(shown.stdout).toMatch(/impact\s+40 users/);
    expect(shown.stdout).toMatch(/last update\s+Rolled back the flag \(internal/);
  });

  test('an invalid runbook file is refused with exit code 2 and the failing path', async () => {
    const bad = file(
      'bad-runbook.yaml',
      `id: ${rb}-bad\nname: broken\nsteps:\n  - id: one\n    name: no url\n    action: http\n    params:\n      method: POST\n`,
    );
    const res = await aire(['runbook', 'apply', '-f', bad]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('400 Invalid request');
    expect(res.stderr).toMatch(/^ {2}steps\[0\]\.params\.url: /m);

    // Files that cannot be read or parsed never reach the API: exit code 1.
    expect((await aire(['runbook', 'apply', '-f', join(dir, 'missing.yaml')])).code).toBe(1);
    expect((await aire(['runbook', 'apply', '-f', file('broken.yaml', 'id: [unclosed\n')])).code).toBe(1);
    expect((await aire(['runbook', 'apply', '-f', file('noid.yaml', 'name: x\n')])).code).toBe(1);
    expect((await aire(['runbook', 'show', `${rb}-bad`])).code).toBe(2);
  });

  test('controls list answers for the tenant', async () => {
    const res = await aire(['controls', 'list']);
    expect(res).toMatchObject({ code: 0, stdout: 'no controls in force\n' });
    const json = await aire(['controls', 'list', '--kind', 'feature', '--json']);
    expect(JSON.parse(json.stdout)).toEqual({ items: [] });
  });

  test('an unreachable API gives exit code 3; a usage error exit code 1', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const res = await aire(['incidents', 'list'], { AIRE_API_URL: url });
    expect(res.code).toBe(3);
    expect(res.stderr).toContain(`cannot reach the API at ${url}`);
    expect((await aire(['runbooks', 'list', '--api-url', url])).code).toBe(3);

    const usage = await aire(['incidents', 'list', '--status', 'sleeping']);
    expect(usage.code).toBe(1);
    expect(usage.stderr).toContain("argument 'sleeping' is invalid");
    expect((await aire(['incident', 'frobnicate', 'x'])).code).toBe(1);
  });

  test('keys: an admin creates a key shown once, lists it, revokes it, and it stops working at once', async () => {
    const created = await aire(['keys', 'create', '--name', 'oncall-approver', '--role', 'approver', 'viewer']);
    expect(created.code).toBe(0);
    const key = created.stdout.trim();
    expect(key).toMatch(/^aire_[\w-]{40,}$/);
    expect(created.stderr).toContain('not shown again');
    expect((await stack.call('GET', '/api/incidents', key)).status).toBe(200);

    const listed = await aire(['keys', 'list', '--json']);
    const items = (JSON.parse(listed.stdout) as { items: { id: string; name: string; roles: string[]; prefix: string }[] }).items;
    const mine = items.find((k) => k.name === 'oncall-approver');
    expect(mine).toMatchObject({ roles: ['approver', 'viewer'], prefix: key.slice(0, 12) });
    expect(listed.stdout).not.toContain(key);
    expect((await aire(['keys', 'list'])).stdout).toContain('oncall-approver');

    expect((await aire(['keys', 'create', '--name', 'oncall-approver', '--role', 'viewer'])).code).toBe(2);
    expect((await aire(['keys', 'list'], { AIRE_API_KEY: key })).code).toBe(2);

    const revoked = await aire(['keys', 'revoke', mine?.id ?? '']);
    expect(revoked.code).toBe(0);
    expect((await stack.call('GET', '/api/incidents', key)).status).toBe(401);
  });
});
