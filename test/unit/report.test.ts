import { isOverdue } from '../../src/domain/action-items';
import { IncidentReportSchema, ReportInput, buildReport, durationBetween, humanDuration } from '../../src/domain/report';
import { reportMarkdown } from '../../src/domain/report-markdown';

const T0 = Date.parse('2025-03-10T09:00:00.000Z');
const at = (seconds: number): string => new Date(T0 + seconds * 1000).toISOString();
const NOW = new Date('2025-03-12T12:00:00.000Z');

type Input = ReportInput;
type Incident = Input['incident'];

function incident(overrides: Partial<Incident> = {}): Incident {
  return {
    id: '6f1c2b8e-4d7a-4c3e-9a51-2b0e8f7d6c11',
    title: 'Checkout capacity exhaustion',
    summary: 'Forecast says checkout runs out of capacity at noon',
    source: 'upewe',
    severity: 'high',
    category: 'capacity exhaustion',
    status: 'closed',
    rootCauseHypothesis: 'replica count pinned at 2 after last deploy',
    affectedServices: ['checkout', 'payments'],
    runbookId: 'capacity-forecast',
    runbookVersion: 3,
    declaredBy: 'key:ingest-key',
    occurrences: 2,
    createdAt: at(0),
    acknowledgedAt: at(65),
    mitigatedAt: at(300),
    resolvedAt: at(3_725),
    closedAt: at(7_200),
    ...overrides,
  };
}

/** A gated incident: notify on autopilot, scale approved by a person, then acknowledged, resolved and closed. */
function closedInput(overrides: Partial<Input> = {}): Input {
  return {
    incident: incident(),
    steps: [
      { stepId: 'notify', position: 0, name: 'Tell the team', action: 'notify', status: 'succeeded', attempts: 1, startedAt: at(2), finishedAt: at(3) },
      { stepId: 'scale', position: 1, name: 'Scale out', action: 'scale', status: 'succeeded', attempts: 2, startedAt: at(120), finishedAt: at(130) },
      { stepId: 'check', position: 2, name: 'Check by hand', action: 'manual', status: 'succeeded', attempts: 1, startedAt: at(131), finishedAt: at(290) },
      { stepId: 'never', position: 3, name: 'Never ran', action: 'http', status: 'pending' },
    ],
    approvals: [{ stepId: 'scale', decision: 'approve', approver: 'key:approver-key', reason: 'capacity review done', at: at(110) }],
    actionLog: [
      { at: at(0), kind: 'incident.opened', actor: 'key:ingest-key', stepId: null, detail: { severity: 'high', source: 'upewe' } },
      { at: at(1), kind: 'runbook.selected', actor: 'aire', stepId: null, detail: { runbookId: 'capacity-forecast', version: 3 } },
      { at: at(2), kind: 'remediation.started', actor: 'aire', stepId: null, detail: { runbookId: 'capacity-forecast', gate: 'autopilot' } },
      { at: at(2), kind: 'step.started', actor: 'aire', stepId: 'notify', detail: { action: 'notify', attempt: 1 } },
      { at: at(3), kind: 'step.succeeded', actor: 'aire', stepId: 'notify', detail: { action: 'notify', attempt: 1 } },
      { at: at(4), kind: 'approval.requested', actor: 'aire', stepId: 'scale', detail: { gate: 'scale', reasons: ['the step requires approval'] } },
      { at: at(65), kind: 'incident.acknowledged', actor: 'key:responder-key', stepId: null, detail: { reason: 'on it' } },
      {
        at: at(100),
        kind: 'approval.ignored',
        actor: 'key:approver-key',
        stepId: 'other',
        detail: { decision: 'approve', why: 'the pending gate is step "scale"' },
      },
      { at: at(110), kind: 'approval.granted', actor: 'key:approver-key', stepId: 'scale', detail: { gate: 'scale', reason: 'capacity review done' } },
      { at: at(110), kind: 'remediation.resumed', actor: 'aire', stepId: 'scale', detail: {} },
      { at: at(120), kind: 'step.started', actor: 'aire', stepId: 'scale', detail: { action: 'scale', attempt: 1 } },
      { at: at(125), kind: 'step.attempt_failed', actor: 'aire', stepId: 'scale', detail: { attempt: 1, error: 'HTTP 503' } },
      { at: at(126), kind: 'step.started', actor: 'aire', stepId: 'scale', detail: { action: 'scale', attempt: 2 } },
      { at: at(130), kind: 'step.succeeded', actor: 'aire', stepId: 'scale', detail: { action: 'scale', attempt: 2 } },
      { at: at(131), kind: 'step.assigned', actor: 'aire', stepId: 'check', detail: { action: 'manual' } },
      { at: at(290), kind: 'step.succeeded', actor: 'key:responder-key', stepId: 'check', detail: { action: 'manual', note: 'dashboards green' } },
      { at: at(300), kind: 'incident.mitigated', actor: 'aire', stepId: null, detail: { from: 'remediating', to: 'mitigated' } },
      { at: at(3_725), kind: 'incident.resolved', actor: 'key:responder-key', stepId: null, detail: { reason: 'traffic normal' } },
      { at: at(7_200), kind: 'incident.closed', actor: 'key:approver-key', stepId: null, detail: {} },
    ],
    actionItems: [
      { id: 'a1', title: 'Alert on pinned replica counts', owner: 'sre-team', dueDate: '2025-03-11', status: 'open' },
      { id: 'a2', title: 'Runbook: scale before noon peaks', owner: null, dueDate: '2025-03-20', status: 'in_progress' },
      { id: 'a3', title: 'Fix deploy template', owner: 'platform', dueDate: '2025-03-01', status: 'done' },
    ],
    ...overrides,
  };
}

describe('humanDuration and durationBetween', () => {
  it.each([
    [0, 'under a second'],
    [0.4, 'under a second'],
    [1, '1s'],
    [59, '59s'],
    [65, '1m 5s'],
    [3_600, '1h'],
    [3_605, '1h'],
    [3_725, '1h 2m'],
    [86_400 * 2 + 3_600 * 4 + 17, '2d 4h'],
  ])('%p seconds read "%s"', (seconds, text) => {
    expect(humanDuration(seconds)).toBe(text);
  });

  it('measures whole seconds between two instants, null when one is missing, never negative', () => {
    expect(durationBetween(at(0), at(65.4))).toEqual({ seconds: 65, human: '1m 5s' });
    expect(durationBetween(at(0), null)).toBeNull();
    expect(durationBetween(null, at(5))).toBeNull();
    expect(durationBetween(at(10), at(0))).toEqual({ seconds: 0, human: 'under a second' });
  });
});

describe('isOverdue', () => {
  it('is past due (UTC calendar day) and not done', () => {
    expect(isOverdue({ status: 'open', dueDate: '2025-03-11' }, NOW)).toBe(true);
    expect(isOverdue({ status: 'in_progress', dueDate: '2025-03-11' }, NOW)).toBe(true);
    expect(isOverdue({ status: 'done', dueDate: '2025-03-11' }, NOW)).toBe(false);
    expect(isOverdue({ status: 'open', dueDate: '2025-03-12' }, NOW)).toBe(false); // due today
    expect(isOverdue({ status: 'open', dueDate: null }, NOW)).toBe(false);
    // 23:30 on the 12th in UTC-5 is already the 13th in UTC: the 12th is then past.
    expect(isOverdue({ status: 'open', dueDate: '2025-03-12' }, new Date('2025-03-13T04:30:00Z'))).toBe(true);
  });
});

describe('buildReport', () => {
  const report = buildReport(closedInput(), NOW);

  it('follows the incident record schema: identity, classification, timestamps, services, root cause', () => {
    expect(IncidentReportSchema.safeParse(report).success).toBe(true);
    expect(report).toMatchObject({
      incidentId: '6f1c2b8e-4d7a-4c3e-9a51-2b0e8f7d6c11',
      title: 'Checkout capacity exhaustion',
      description: 'Forecast says checkout runs out of capacity at noon',
      severity: 'high',
      priority: 'P1',
      type: 'capacity exhaustion',
      source: 'upewe',
      status: 'closed',
      final: true,
      generatedAt: NOW.toISOString(),
      detectedAt: at(0),
      resolvedAt: at(3_725),
      closedAt: at(7_200),
      affectedServices: ['checkout', 'payments'],
      rootCause: 'replica count pinned at 2 after last deploy',
      runbook: { id: 'capacity-forecast', version: 3 },
    });
  });

  it('is a draft (final false) before the incident is closed, with open measures null', () => {
    const draft = buildReport(
      closedInput({ incident: incident({ status: 'mitigated', resolvedAt: null, closedAt: null }), actionLog: closedInput().actionLog.slice(0, 17) }),
      NOW,
    );
    expect(draft.final).toBe(false);
    expect(draft.resolvedAt).toBeNull();
    expect(draft.postMortem.impact.timeToResolve).toBeNull();
    expect(draft.postMortem.impact.timeToClose).toBeNull();
    expect(draft.postMortem.impact.timeToMitigate).toEqual({ seconds: 300, human: '5m' });
    expect(reportMarkdown(draft)).toContain('**Draft**');
  });

  it('falls back to the source as type, and null root cause and description when none is recorded', () => {
    const r = buildReport(closedInput({ incident: incident({ category: null, rootCauseHypothesis: null, summary: null }) }), NOW);
    expect(r.type).toBe('upewe');
    expect(r.rootCause).toBeNull();
    expect(r.description).toBeNull();
    expect(reportMarkdown(r)).toContain('_Not recorded yet._');
  });

  it('maps severity to its priority one to one (P0 is critical)', () => {
    const prio = (severity: Incident['severity']) => buildReport(closedInput({ incident: incident({ severity }) }), NOW).priority;
    expect([prio('critical'), prio('high'), prio('medium'), prio('low'), prio('info')]).toEqual(['P0', 'P1', 'P2', 'P3', 'P4']);
  });

  it('measures impact from detection, in seconds and for people', () => {
    expect(report.postMortem.impact).toEqual({
      detectedAt: at(0),
      acknowledgedAt: at(65),
      mitigatedAt: at(300),
      resolvedAt: at(3_725),
      closedAt: at(7_200),
      timeToAcknowledge: { seconds: 65, human: '1m 5s' },
      timeToMitigate: { seconds: 300, human: '5m' },
      timeToResolve: { seconds: 3_725, human: '1h 2m' },
      timeToClose: { seconds: 7_200, human: '2h' },
      occurrences: 2,
    });
  });

  it('turns every action-log entry into one timeline line, in order', () => {
    const { timeline } = report.postMortem;
    expect(timeline).toHaveLength(closedInput().actionLog.length);
    expect(timeline.map((t) => t.at)).toEqual(closedInput().actionLog.map((e) => new Date(e.at).toISOString()));
    const text = timeline.map((t) => t.text);
    expect(text).toContain('Incident opened by key:ingest-key (severity high, source upewe)');
    expect(text).toContain('Runbook capacity-forecast v3 selected');
    expect(text).toContain('Approval requested for step "Scale out" (scale): the step requires approval');
    expect(text).toContain('key:approver-key approved step "Scale out" (scale): capacity review done');
    expect(text).toContain('Step "Scale out" (scale) attempt 1 failed: HTTP 503');
    expect(text).toContain('Step "Scale out" (scale) started (scale, attempt 2)');
    expect(text).toContain('key:responder-key completed step "Check by hand" (check): dashboards green');
    expect(text).toContain('key:responder-key resolved the incident: traffic normal');
    expect(text).toContain('key:approver-key closed the incident');
    expect(timeline.find((t) => t.kind === 'approval.granted')).toMatchObject({ automated: false, actor: 'key:approver-key', stepId: 'scale' });
    expect(timeline.find((t) => t.kind === 'step.succeeded' && t.stepId === 'notify')).toMatchObject({ automated: true, actor: 'aire' });
  });

  it('lists the steps AIRE ran itself, with their approver; not manual steps, not steps that never ran', () => {
    expect(report.postMortem.automated).toEqual([
      {
        stepId: 'notify',
        name: 'Tell the team',
        action: 'notify',
        status: 'succeeded',
        attempts: 1,
        startedAt: at(2),
        finishedAt: at(3),
        compensatedAt: null,
        duration: { seconds: 1, human: '1s' },
        error: null,
        approvedBy: null,
      },
      {
        stepId: 'scale',
        name: 'Scale out',
        action: 'scale',
        status: 'succeeded',
        attempts: 2,
        startedAt: at(120),
        finishedAt: at(130),
        compensatedAt: null,
        duration: { seconds: 10, human: '10s' },
        error: null,
        approvedBy: 'key:approver-key',
      },
    ]);
  });

  it('a runbook-gate approval counts as the approver of every step', () => {
    const r = buildReport(closedInput({ approvals: [{ stepId: null, decision: 'approve', approver: 'key:lead', reason: null, at: at(1) }] }), NOW);
    expect(r.postMortem.automated.map((s) => s.approvedBy)).toEqual(['key:lead', 'key:lead']);
  });

  it('lists what people did: who, what, when, why; ignored messages are left out', () => {
    expect(report.postMortem.humanActions.map((h) => [h.at, h.actor, h.action, h.stepId, h.reason])).toEqual([
      [at(0), 'key:ingest-key', 'declare', null, null],
      [at(65), 'key:responder-key', 'acknowledge', null, 'on it'],
      [at(110), 'key:approver-key', 'approve', 'scale', 'capacity review done'],
      [at(290), 'key:responder-key', 'complete_step', 'check', 'dashboards green'],
      [at(3_725), 'key:responder-key', 'resolve', null, 'traffic normal'],
      [at(7_200), 'key:approver-key', 'close', null, null],
    ]);
  });

  it('records rejections, rollbacks and decisions on failed steps as human actions', () => {
    const r = buildReport(
      closedInput({
        actionLog: [
          { at: at(1), kind: 'approval.rejected', actor: 'key:boss', stepId: null, detail: { reason: 'by hand' } },
          { at: at(2), kind: 'decision.retry', actor: 'key:boss', stepId: 'scale', detail: { reason: 'flaky' } },
          { at: at(3), kind: 'remediation.resumed', actor: 'key:boss', stepId: 'scale', detail: {} },
          { at: at(4), kind: 'rollback.requested', actor: 'key:boss', stepId: null, detail: { reason: 'worse' } },
          { at: at(5), kind: 'compensation.started', actor: 'key:boss', stepId: null, detail: { reason: 'worse' } },
          { at: at(6), kind: 'incident.rolled_back', actor: 'key:boss', stepId: null, detail: { reason: 'worse' } },
        ],
      }),
      NOW,
    );
    expect(r.postMortem.humanActions.map((h) => h.action)).toEqual(['reject', 'retry_step', 'rollback']);
    expect(r.postMortem.timeline.map((t) => t.text)).toEqual([
      'key:boss rejected the runbook gate: by hand',
      'key:boss chose to retry step "Scale out" (scale): flaky',
      'Remediation resumed at step "Scale out" (scale) by key:boss',
      'key:boss asked for a rollback: worse',
      'Compensation started: worse',
      "Incident rolled back at key:boss's request: worse",
    ]);
  });

  it('describes an unknown log kind without failing', () => {
    const r = buildReport(closedInput({ actionLog: [{ at: at(1), kind: 'future.thing', actor: 'aire', stepId: 'scale', detail: {} }] }), NOW);
    expect(r.postMortem.timeline[0]!.text).toBe('future.thing (step "Scale out" (scale)) by aire');
  });

  it('keeps the actions taken: effects with their actor and whether AIRE did them', () => {
    const kinds = report.actionsTaken.map((a) => a.kind);
    expect(kinds).not.toContain('step.started');
    expect(kinds).not.toContain('approval.requested');
    expect(kinds).not.toContain('approval.ignored');
    expect(report.actionsTaken).toContainEqual({
      timestamp: at(110),
      action: 'key:approver-key approved step "Scale out" (scale): capacity review done',
      automated: false,
      actor: 'key:approver-key',
      kind: 'approval.granted',
      stepId: 'scale',
    });
    expect(report.actionsTaken.find((a) => a.kind === 'step.succeeded' && a.stepId === 'scale')).toMatchObject({ automated: true, actor: 'aire' });
  });

  it('lists action items with overdue computed against now', () => {
    expect(report.postMortem.actionItems).toEqual([
      { id: 'a1', title: 'Alert on pinned replica counts', owner: 'sre-team', dueDate: '2025-03-11', status: 'open', priority: 'medium', overdue: true },
      { id: 'a2', title: 'Runbook: scale before noon peaks', owner: null, dueDate: '2025-03-20', status: 'in_progress', priority: 'medium', overdue: false },
      { id: 'a3', title: 'Fix deploy template', owner: 'platform', dueDate: '2025-03-01', status: 'done', priority: 'medium', overdue: false },
    ]);
  });

  it('accepts Date objects as PostgreSQL returns them', () => {
    const base = closedInput();
    const r = buildReport({ ...base, incident: { ...base.incident, createdAt: new Date(T0), resolvedAt: new Date(T0 + 10_000) } }, NOW);
    expect(r.detectedAt).toBe(at(0));
    expect(r.postMortem.impact.timeToResolve).toEqual({ seconds: 10, human: '10s' });
  });

  it('refuses input that is not an incident record', () => {
    expect(() => buildReport({ ...closedInput(), incident: incident({ createdAt: 'yesterday' }) }, NOW)).toThrow();
  });
});

describe('reportMarkdown', () => {
  const md = reportMarkdown(buildReport(closedInput(), NOW));

  it('has a heading per section, in order', () => {
    const headings = md.split('\n').filter((l) => l.startsWith('#'));
    expect(headings).toEqual([
      '# Post-incident report: Checkout capacity exhaustion',
      '## Summary',
      '## Root cause',
      '## Contributing factors',
      '## Impact',
      '## Participants',
      '## Timeline',
      '## What was automated',
      '## What people did',
      '## What went well',
      '## What went badly',
      '## Lessons',
      '## Action items',
    ]);
    expect(md).not.toContain('**Draft**');
    expect(md).toContain('| Status | closed (final) |');
  });

  it('writes the timeline as one dated line per entry', () => {
    expect(md).toContain('- 2025-03-10 09:01:50 UTC — key:approver-key approved step "Scale out" (scale): capacity review done');
    expect(md).toContain('- 2025-03-10 09:00:00 UTC — Incident opened by key:ingest-key (severity high, source upewe)');
  });

  it('shows impact in both forms, automated steps with their approver, and overdue items', () => {
    expect(md).toContain('| Time to resolve | 1h 2m (3725 s) |');
    expect(md).toContain('| Scale out (scale) | scale | succeeded | 2 | 10s | key:approver-key |');
    expect(md).toContain('| Tell the team (notify) | notify | succeeded | 1 | 1s | autopilot |');
    expect(md).toContain('| Alert on pinned replica counts | medium | sre-team | 2025-03-11 **overdue** | open |');
    expect(md).toContain('| Runbook: scale before noon peaks | medium | unassigned | 2025-03-20 | in_progress |');
  });

  it('keeps table cells on one line and escapes pipes', () => {
    const r = buildReport(
      closedInput({ actionItems: [{ id: 'x', title: 'a | b\nc', owner: null, dueDate: null, status: 'open' }], incident: incident({ title: 'two\nlines' }) }),
      NOW,
    );
    const text = reportMarkdown(r);
    expect(text).toContain('| a \\| b c | medium | unassigned | — | open |');
    expect(text).toContain('# Post-incident report: two lines');
  });

  it('says so when nothing happened yet', () => {
    const r = buildReport(closedInput({ steps: [], approvals: [], actionLog: [], actionItems: [], incident: incident({ status: 'open' }) }), NOW);
    const text = reportMarkdown(r);
    expect(text).toContain('_Nothing recorded yet._');
    expect(text).toContain('_No step ran automatically._');
    expect(text).toContain('_No one acted on this incident._');
    expect(text).toContain('_None yet._');
  });
});
