import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { temporalBinary, testDataConverter, testEnv } from '../support/env';
import { Receiver } from '../support/receiver';
import { Stack, TestTenant, uniqueId } from '../support/stack';

const FIXTURES = join(__dirname, '..', 'fixtures', 'histories');
/**
 * One directory per generation of the workflow's commands; running incidents of every generation
 * must still replay. v1: one store activity per write; v2: the opening as one local activity, transitions batched
 * (BATCHED_STORE_PATCH in src/workflows/incident/options.ts); v3: events delivered as the `deliverEvents`
 * update, joins written before the close (JOINS_BEFORE_CLOSE_PATCH), and an incident that hands an
 * event arriving while it closes on to the next incident; v4: the modular workflow
 * (src/workflows/incident/), every decision (acknowledge, resolve and close too) as an Update,
 * settings without secrets, step activities with a heartbeat timeout, and payloads encrypted with the
 * test key (test/support/env.ts), which the replay decodes; v5: incident command (an acknowledgement
 * that makes a commander, edits, roles, a status update, a second runbook and its rollback).
 */
const GENERATIONS = ['v1-store-activities', 'v2-batched-store', 'v3-update-intake', 'v4-modular-updates', 'v5-incident-command'];
const RECORD = process.env.AIRE_RECORD_HISTORIES === '1';
const KINDS = ['automated.json', 'failed-with-compensation.json', 'gated.json', 'rolled-back.json'];
const KINDS_OF: Record<string, string[]> = {
  'v3-update-intake': [...KINDS, 'handed-on.json'].sort(),
  'v4-modular-updates': [...KINDS, 'handed-on.json'].sort(),
  'v5-incident-command': [...KINDS, 'commanded.json', 'handed-on.json'].sort(),
};

/**
 * Workflow determinism: histories of representative incidents, recorded once and committed, are
 * replayed against the current workflow code. A change that would break running incidents fails
 * here; version such changes with `patched()` (see CONTRIBUTING.md). Re-record with
 * AIRE_RECORD_HISTORIES=1 (into the newest generation's directory) after a patched change; delete a
 * generation only when no incident of it can still be running.
 */
describe('replaying recorded incident histories', () => {
  (RECORD ? describe : describe.skip)('recording (AIRE_RECORD_HISTORIES=1)', () => {
    let stack: Stack;
    let target: Receiver;
    let tenant: TestTenant;

    beforeAll(async () => {
      stack = await Stack.start('record');
      target = await new Receiver().start();
      tenant = await stack.tenant('record');
      mkdirSync(join(FIXTURES, GENERATIONS[GENERATIONS.length - 1]!), { recursive: true });
    });
    afterAll(async () => {
      await stack?.stop();
      await target?.stop();
    });

    /** Exported the documented way, as `temporal workflow show --output json` writes it. */
    function save(name: string, workflowId: string, runId: string): void {
      const json = execFileSync(temporalBinary(), [
        'workflow',
        'show',
        '--workflow-id',
        workflowId,
        '--run-id',
        runId,
        '--output',
        'json',
        '--address',
        testEnv().temporalAddress,
      ]);
      writeFileSync(join(FIXTURES, GENERATIONS[GENERATIONS.length - 1]!, `${name}.json`), json);
    }

    /** Declares an incident and a duplicate of it (a join, delivered as an update), drives it, and closes it. */
    async function run(name: string, steps: unknown[], drive: (id: string) => Promise<void>, extra: Record<string, unknown> = {}): Promise<void> {
      const rb = uniqueId(name);
      await stack.call('POST', '/api/runbooks', tenant.keys.admin, { id: rb, name: rb, triggers: { titlePattern: rb }, steps, ...extra });
      const declaration = { title: `${rb} incident`, severity: 'medium', dedupKey: rb };
      const res = await stack.call<{ id: string; workflowId: string }>('POST', '/api/incidents', tenant.keys.ingest, declaration);
      expect((await stack.call('POST', '/api/incidents', tenant.keys.ingest, declaration)).status).toBe(200);
      await drive(res.body.id);
      await stack.call('POST', `/api/incidents/${res.body.id}/close`, tenant.keys.responder, {});
      const handle = stack.temporal.workflow.getHandle(res.body.workflowId);
      await handle.result();
      save(name, res.body.workflowId, (await handle.describe()).runId);
    }

    const http = (id: string, extra: Record<string, unknown> = {}) => ({
      id,
      name: id,
      action: 'http',
      params: { url: `${target.url}/${id}`, compensate: { method: 'POST', url: `${target.url}/undo-${id}` } },
      ...extra,
    });

    test('record the four kinds of incident', async () => {
      await run(
        'automated',
        [http('one'), http('two')],
        (id) => stack.incidentWhen(tenant, id, (v) => v.incident.status === 'resolved').then(() => undefined),
        {
          completion: { autoResolve: true },
        },
      );
      await run('gated', [http('one'), http('two', { requiresApproval: true })], async (id) => {
        await stack.incidentWhen(tenant, id, (v) => v.incident.status === 'awaiting_approval');
        await stack.call('POST', `/api/incidents/${id}/approve`, tenant.keys.approver, { reason: 'ok' });
        await stack.incidentWhen(tenant, id, (v) => v.incident.status === 'mitigated');
      });
      target.on('POST', '/broken', { status: 500 });
      await run('failed-with-compensation', [http('one'), http('broken', { retry: { maximumAttempts: 2, initialInterval: '100ms' } })], (id) =>
        stack.incidentWhen(tenant, id, (v) => v.incident.status === 'failed').then(() => undefined),
      );
      await run('rolled-back', [http('one'), http('two')], async (id) => {
        await stack.incidentWhen(tenant, id, (v) => v.incident.status === 'mitigated');
        await stack.call('POST', `/api/incidents/${id}/rollback`, tenant.keys.approver, {});
        await stack.incidentWhen(tenant, id, (v) => v.incident.status === 'rolled_back');
      });
    });

    test('record an incident people command: edits, roles, a status update, a second runbook, a rollback', async () => {
      const second = uniqueId('second');
      await stack.call('POST', '/api/runbooks', tenant.keys.admin, { id: second, name: second, triggers: { titlePattern: second }, steps: [http('three')] });
      await run('commanded', [http('one'), http('two')], async (id) => {
        await stack.incidentWhen(tenant, id, (v) => v.incident.status === 'mitigated');
        await stack.call('POST', `/api/incidents/${id}/acknowledge`, tenant.keys.responder, {});
        await stack.call('PATCH', `/api/incidents/${id}`, tenant.keys.responder, { severity: 'high', reason: 'more users', rootCause: 'a bad flag' });
        await stack.call('POST', `/api/incidents/${id}/roles`, tenant.keys.responder, { role: 'scribe', person: 'key:approver-key' });
        await stack.call('POST', `/api/incidents/${id}/status-updates`, tenant.keys.responder, { message: 'trying another runbook' });
        await stack.call('POST', `/api/incidents/${id}/runbooks`, tenant.keys.responder, { runbookId: second });
        await stack.incidentWhen(
          tenant,
          id,
          (v) => v.steps.some((s) => s.stepId === 'r2-three' && s.status === 'succeeded') && v.incident.status === 'mitigated',
        );
        await stack.call('POST', `/api/incidents/${id}/rollback`, tenant.keys.approver, {});
        await stack.incidentWhen(tenant, id, (v) => v.incident.status === 'rolled_back');
      });
    });

    test('record an incident that hands an event arriving while it closes on to the next', async () => {
      const rb = uniqueId('handed-on');
      const handOn = await stack.tenant('handed-on');
      let release: () => void = () => undefined;
      target.on('POST', `/${rb}/resolved`, { until: new Promise<void>((r) => (release = r)) });
      await stack.call('PUT', '/api/settings', handOn.keys.admin, {
        channels: [{ name: 'hold', target: { url: `${target.url}/${rb}/resolved` }, events: ['incident.resolved'] }],
      });
      await stack.call('POST', '/api/runbooks', handOn.keys.admin, { id: rb, name: rb, triggers: { titlePattern: rb }, steps: [http('one')] });
      const declaration = { title: `${rb} incident`, severity: 'medium', dedupKey: rb };
      const first = await stack.call<{ id: string; workflowId: string }>('POST', '/api/incidents', handOn.keys.ingest, declaration);
      await stack.incidentWhen(handOn, first.body.id, (v) => v.incident.status === 'mitigated');
      const { runId } = await stack.temporal.workflow.getHandle(first.body.workflowId).describe();
      await stack.call('POST', `/api/incidents/${first.body.id}/resolve`, handOn.keys.responder, {});
      await stack.call('POST', `/api/incidents/${first.body.id}/close`, handOn.keys.responder, {});
      await stack.incidentWhen(handOn, first.body.id, (v) => v.incident.status === 'closed');
      const next = await stack.call<{ id: string }>('POST', '/api/incidents', handOn.keys.ingest, declaration);
      expect(next.status).toBe(201);
      release();
      await stack.incidentWhen(handOn, next.body.id, (v) => v.incident.status === 'mitigated');
      save('handed-on', first.body.workflowId, runId);
    });
  });

  test.each(GENERATIONS)('every recorded history of %s replays against the current workflow code', async (generation) => {
    const dir = join(FIXTURES, generation);
    const files = readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .sort();
    expect(files).toEqual(KINDS_OF[generation] ?? KINDS);
    const histories = files.map((f) => ({
      workflowId: `${generation}/${f.replace(/\.json$/, '')}`,
      history: historyFromJSON(JSON.parse(readFileSync(join(dir, f), 'utf8'))),
    }));
    const results = [];
    for await (const result of Worker.runReplayHistories(
      { workflowBundle: { codePath: testEnv().workflowBundlePath }, dataConverter: testDataConverter() },
      histories,
    ))
      results.push(result);
    expect(results.map((r) => [r.workflowId, r.error ? String(r.error) : null])).toEqual(histories.map((h) => [h.workflowId, null]));
  });
});
