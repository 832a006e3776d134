import { itemChanges } from '../../src/domain/action-items';
import { INCIDENT_STATUSES } from '../../src/domain/incident';
import { POSTMORTEM_STATUSES, POSTMORTEM_TRANSITIONS, changedNarrativeFields, participantsOf, postmortemRefusal } from '../../src/domain/postmortem';
import { needsPostmortemReview, postmortemReviewWorkflowId, reviewDueAt } from '../../src/domain/postmortem-review';
import { ReportInput, buildReport } from '../../src/domain/report';
import { reportMarkdown } from '../../src/domain/report-markdown';
import { isHuman } from '../../src/domain/report-sentences';

const NOW = new Date('2025-03-12T12:00:00.000Z');
const member = { admin: false, incidentStatus: 'resolved' as const, editsNarrative: false };

describe('the post-mortem status lifecycle', () => {
  it('goes draft → in_review → published, and back from review to draft', () => {
    expect(postmortemRefusal('draft', 'in_review', member)).toBeUndefined();
    expect(postmortemRefusal('in_review', 'published', member)).toBeUndefined();
    expect(postmortemRefusal('in_review', 'draft', member)).toBeUndefined();
  });

  it('refuses skipping the review, naming both statuses and what is allowed', () => {
    expect(postmortemRefusal('draft', 'published', member)).toBe('a post-mortem cannot go from draft to published (from draft: in_review)');
  });

  it('lets people write the draft while the incident runs, but reviews only an incident that is over', () => {
    for (const incidentStatus of INCIDENT_STATUSES) {
      expect(postmortemRefusal('draft', 'draft', { ...member, incidentStatus, editsNarrative: true })).toBeUndefined();
      const review = postmortemRefusal('draft', 'in_review', { ...member, incidentStatus });
      if (incidentStatus === 'resolved' || incidentStatus === 'closed') expect(review).toBeUndefined();
      else expect(review).toBe(`the incident is ${incidentStatus}: a post-mortem goes to in_review once the incident is resolved or closed`);
    }
  });

  it('keeps a published post-mortem final; only an admin reopens it', () => {
    expect(postmortemRefusal('published', 'published', member)).toBeUndefined(); // a save that changes nothing
    expect(postmortemRefusal('published', 'published', { ...member, editsNarrative: true })).toMatch(/published, which is final: an admin can reopen it/);
    expect(postmortemRefusal('published', 'published', { ...member, admin: true, editsNarrative: true })).toMatch(/final/);
    expect(postmortemRefusal('published', 'draft', member)).toMatch(/only an admin can reopen it/);
    expect(postmortemRefusal('published', 'draft', { ...member, admin: true })).toBeUndefined();
    expect(postmortemRefusal('published', 'in_review', { ...member, admin: true })).toBeUndefined();
  });

  it('has a row for every status, naming only statuses', () => {
    expect(Object.keys(POSTMORTEM_TRANSITIONS).sort()).toEqual([...POSTMORTEM_STATUSES].sort());
    for (const to of Object.values(POSTMORTEM_TRANSITIONS).flat()) expect(POSTMORTEM_STATUSES).toContain(to);
  });

  it('names the narrative fields a save changes', () => {
    const before = { contributingFactors: ['a'], wentWell: [], wentBadly: ['b'], lessons: [] };
    expect(changedNarrativeFields(before, { contributingFactors: ['a'], lessons: ['l'], wentBadly: [] })).toEqual(['wentBadly', 'lessons']);
    expect(changedNarrativeFields(before, {})).toEqual([]);
  });
});

describe('participants', () => {
  const log = [
    { at: '2025-03-10T09:00:00.000Z', actor: 'key:ingest' },
    { at: '2025-03-10T09:01:00.000Z', actor: 'aire' },
    { at: '2025-03-10T09:02:00.000Z', actor: 'key:alice' },
    { at: '2025-03-10T09:05:00.000Z', actor: 'key:alice' },
  ];

  it('are the people the audit trail names, in order of their first action, AIRE left out', () => {
    expect(participantsOf(log, [], isHuman)).toEqual([
      { who: 'key:ingest', roles: [], actions: 1, firstActionAt: log[0]!.at, lastActionAt: log[0]!.at },
      { who: 'key:alice', roles: [], actions: 2, firstActionAt: log[2]!.at, lastActionAt: log[3]!.at },
    ]);
  });

  it('merge incident roles in (the hook), adding people who hold a role without having acted', () => {
    const roles = [
      { role: 'commander', person: 'key:alice' },
      { role: 'scribe', person: 'bob' },
      { role: 'commander', person: 'key:alice' },
    ];
    const people = participantsOf(log, roles, isHuman);
    expect(people.find((p) => p.who === 'key:alice')?.roles).toEqual(['commander']);
    expect(people.at(-1)).toEqual({ who: 'bob', roles: ['scribe'], actions: 0, firstActionAt: null, lastActionAt: null });
  });
});

describe('the review date', () => {
  it('is for critical and high incidents, N days after resolution, under a stable workflow id', () => {
    expect(['critical', 'high', 'medium', 'low', 'info'].filter((s) => needsPostmortemReview(s as 'high'))).toEqual(['critical', 'high']);
    expect(reviewDueAt('2025-03-10T09:00:00.000Z', 5)).toBe('2025-03-15T09:00:00.000Z');
    expect(postmortemReviewWorkflowId('t1', 'i1')).toBe('postmortem-review/t1/i1');
  });
});

describe('action item changes', () => {
  const item = { title: 'Alert', owner: null, dueDate: null, priority: 'medium' as const, status: 'open' as const };
  it('record old → new for each field that changed; an added item records what it was given', () => {
    expect(itemChanges(item, { ...item, status: 'blocked', owner: 'sre' })).toEqual({
      owner: { from: null, to: 'sre' },
      status: { from: 'open', to: 'blocked' },
    });
    expect(itemChanges(null, item)).toEqual({ title: { from: null, to: 'Alert' }, priority: { from: null, to: 'medium' }, status: { from: null, to: 'open' } });
  });
});

describe('the report with a post-mortem', () => {
  const input: ReportInput = {
    incident: {
      id: '6f1c2b8e-4d7a-4c3e-9a51-2b0e8f7d6c11',
      title: 'Checkout down',
      summary: null,
      source: 'manual',
      severity: 'critical',
      category: null,
      status: 'resolved',
      rootCauseHypothesis: null,
      affectedServices: [],
      runbookId: null,
      runbookVersion: null,
      declaredBy: 'key:ingest',
      occurrences: 1,
      createdAt: '2025-03-10T09:00:00.000Z',
      acknowledgedAt: null,
      mitigatedAt: null,
      resolvedAt: '2025-03-10T10:00:00.000Z',
      closedAt: null,
    },
    steps: [],
    approvals: [],
    actionLog: [
      { at: '2025-03-10T09:00:00.000Z', kind: 'incident.opened', actor: 'key:ingest', stepId: null, detail: { severity: 'critical', source: 'manual' } },
      { at: '2025-03-10T09:30:00.000Z', kind: 'note.added', actor: 'key:alice', stepId: null, detail: { text: 'failover done', key: true } },
      { at: '2025-03-10T10:00:00.000Z', kind: 'postmortem.review_scheduled', actor: 'aire', stepId: null, detail: { reviewDueAt: '2025-03-15T10:00:00.000Z' } },
      {
        at: '2025-03-11T09:00:00.000Z',
        kind: 'postmortem.saved',
        actor: 'key:alice',
        stepId: null,
        detail: { changed: ['lessons', 'status'], from: 'draft', to: 'in_review' },
      },
      {
        at: '2025-03-11T09:10:00.000Z',
        kind: 'action_item.changed',
        actor: 'key:bob',
        stepId: null,
        detail: { itemId: 'a1', title: 'Add failover alert', changes: { status: { from: 'open', to: 'blocked' } }, reason: 'waiting on vendor' },
      },
      // A handover recorded by the incident workflow: carol held the commander role too.
      { at: '2025-03-11T09:20:00.000Z', kind: 'role.assigned', actor: 'key:alice', stepId: null, detail: { role: 'commander', person: 'carol' } },
    ],
    actionItems: [{ id: 'a1', title: 'Add failover alert', owner: 'key:bob', dueDate: '2025-03-20', status: 'blocked', priority: 'high' }],
    postmortem: {
      status: 'in_review',
      narrative: { contributingFactors: ['no failover alert'], wentWell: ['fast ack'], wentBadly: ['paging was late'], lessons: ['drill failover'] },
      reviewDueAt: new Date('2025-03-15T10:00:00.000Z'),
      reviewRemindedAt: null,
      publishedAt: null,
      publishedBy: null,
    },
    roleAssignments: [{ role: 'commander', person: 'key:alice' }],
  };
  const report = buildReport(input, NOW);

  it('carries the narrative, status, review date and participants in JSON', () => {
    expect(report.postMortem).toMatchObject({
      status: 'in_review',
      narrative: input.postmortem?.narrative,
      review: { dueAt: '2025-03-15T10:00:00.000Z', remindedAt: null },
      keyNotes: [{ at: '2025-03-10T09:30:00.000Z', actor: 'key:alice', text: 'failover done' }],
    });
    // People the audit trail names, with the roles they hold now (roleAssignments) or held (role.assigned).
    expect(report.postMortem.participants.map((p) => [p.who, p.roles, p.actions])).toEqual([
      ['key:ingest', [], 1],
      ['key:alice', ['commander'], 3],
      ['key:bob', [], 1],
      ['carol', ['commander'], 0],
    ]);
    expect(report.postMortem.humanActions.map((h) => h.action)).toEqual(['declare', 'note', 'postmortem', 'action_item', 'assign_role']);
  });

  it('reads the new audit entries as sentences', () => {
    expect(report.postMortem.timeline.map((t) => t.text).slice(2, 5)).toEqual([
      'Post-mortem review scheduled for 2025-03-15T10:00:00.000Z',
      'key:alice saved the post-mortem (lessons, status): draft → in_review',
      'key:bob changed action item "Add failover alert": status open → blocked: waiting on vendor',
    ]);
  });

  it('shows every section in Markdown', () => {
    const md = reportMarkdown(report);
    for (const text of [
      '| Post-mortem | in review |',
      '| Review due | 2025-03-15 10:00:00 UTC |',
      '## Contributing factors\n\n- no failover alert',
      '## Participants\n\n- key:ingest: 1 action',
      '- key:alice (commander): 3 actions, 2025-03-10 09:30:00 UTC to 2025-03-11 09:20:00 UTC',
      '- carol (commander): no actions',
      '## Key notes\n\n- 2025-03-10 09:30:00 UTC — key:alice: failover done',
      '## What went well\n\n- fast ack',
      '## What went badly\n\n- paging was late',
      '## Lessons\n\n- drill failover',
      '| Add failover alert | high | key:bob | 2025-03-20 | blocked |',
    ])
      expect(md).toContain(text);
  });

  it('says where nothing is written yet', () => {
    const md = reportMarkdown(buildReport({ ...input, postmortem: null }, NOW));
    expect(md).toContain('| Post-mortem | draft |');
    expect(md).toContain('## Lessons\n\n_Not written yet._');
  });
});
