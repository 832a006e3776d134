import type { Duration, IncidentReport } from './report';

/* The post-incident report as Markdown: for the incident channel, the wiki, or a pull request. */
/** One line of text, safe inside a Markdown table cell. */
function cell(s: string): string {
  return s.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|');
}

/** One line of text, for headings and list items. */
function line(s: string): string {
  return s.replace(/\r?\n/g, ' ');
}

const when = (iso: string | null): string =>
  iso
    ? iso
        .replace('T', ' ')
        .replace(/\.\d{3}Z$/, 'Z')
        .replace(/Z$/, ' UTC')
    : '—';
const took = (d: Duration | null): string => (d ? `${d.human} (${d.seconds} s)` : '—');

/** A narrative list as bullets, or a placeholder that says where to write it. */
function bullets(out: string[], heading: string, items: string[]): void {
  out.push(`## ${heading}`, '');
  if (items.length === 0) out.push('_Not written yet._');
  for (const item of items) out.push(`- ${line(item)}`);
  out.push('');
}

const POSTMORTEM_STATUS: Record<IncidentReport['postMortem']['status'], string> = {
  draft: 'draft',
  in_review: 'in review',
  published: 'published',
};

export function reportMarkdown(r: IncidentReport): string {
  const out: string[] = [];
  const pm = r.postMortem;
  out.push(`# Post-incident report: ${line(r.title)}`, '');
  if (!r.final) out.push(`> **Draft**: the incident is ${r.status}; this report changes until the incident is closed.`, '');
  out.push(
    '| | |',
    '|---|---|',
    `| Incident | \`${r.incidentId}\` |`,
    `| Severity | ${r.severity} (${r.priority}) |`,
    `| Type | ${cell(r.type)} |`,
    `| Source | ${cell(r.source)} |`,
    `| Status | ${r.status}${r.final ? ' (final)' : ' (draft)'} |`,
    `| Detected | ${when(r.detectedAt)} |`,
    `| Resolved | ${when(r.resolvedAt)} |`,
    `| Closed | ${when(r.closedAt)} |`,
    `| Affected services | ${r.affectedServices.length ? cell(r.affectedServices.join(', ')) : '—'} |`,
    `| Runbook | ${r.runbook ? cell(`${r.runbook.id}${r.runbook.version !== null ? ` v${r.runbook.version}` : ''}`) : 'none'} |`,
    `| Post-mortem | ${POSTMORTEM_STATUS[pm.status]}${pm.publishedAt ? ` ${when(pm.publishedAt)}${pm.publishedBy ? ` by ${cell(pm.publishedBy)}` : ''}` : ''} |`,
    `| Review due | ${when(pm.review.dueAt)}${pm.review.remindedAt ? ` (reminded ${when(pm.review.remindedAt)})` : ''} |`,
    '',
  );
  if (r.description) out.push('## Summary', '', r.description, '');

  out.push(
    '## Root cause',
    '',
    r.rootCause === null ? '_Not recorded yet._' : r.rootCauseConfirmed ? r.rootCause : `${r.rootCause} _(hypothesis, not confirmed)_`,
    '',
  );
  bullets(out, 'Contributing factors', pm.narrative.contributingFactors);

  out.push(
    '## Impact',
    '',
    '| measure | value |',
    '|---|---|',
    `| Time to acknowledge | ${took(pm.impact.timeToAcknowledge)} |`,
    `| Time to mitigate | ${took(pm.impact.timeToMitigate)} |`,
    `| Time to resolve | ${took(pm.impact.timeToResolve)} |`,
    `| Time to close | ${took(pm.impact.timeToClose)} |`,
    `| Occurrences | ${pm.impact.occurrences} |`,
    '',
  );

  if (pm.keyNotes.length > 0) {
    out.push('## Key notes', '');
    for (const n of pm.keyNotes) out.push(`- ${when(n.at)} — ${line(n.actor)}: ${line(n.text)}`);
    out.push('');
  }
  if (pm.statusUpdates.length > 0) {
    out.push('## Status updates', '');
    for (const u of pm.statusUpdates) out.push(`- ${when(u.at)} — ${line(u.actor)} (${u.audience}): ${line(u.message)}${u.eta ? ` (ETA ${when(u.eta)})` : ''}`);
    out.push('');
  }
  out.push('## Participants', '');
  if (pm.participants.length === 0) out.push('_No one acted on this incident yet._');
  for (const p of pm.participants) {
    const acted = p.actions > 0 ? `${p.actions} action${p.actions === 1 ? '' : 's'}, ${when(p.firstActionAt)} to ${when(p.lastActionAt)}` : 'no actions';
    out.push(`- ${line(p.who)}${p.roles.length ? ` (${line(p.roles.join(', '))})` : ''}: ${acted}`);
  }
  out.push('');

  out.push('## Timeline', '');
  if (pm.timeline.length === 0) out.push('_Nothing recorded yet._');
  for (const t of pm.timeline) out.push(`- ${when(t.at)} — ${line(t.text)}`);
  out.push('');

  out.push('## What was automated', '');
  if (pm.automated.length === 0) out.push('_No step ran automatically._');
  else {
    out.push('| step | action | status | attempts | took | approved by |', '|---|---|---|---|---|---|');
    for (const s of pm.automated) {
      const status = s.error && s.status !== 'succeeded' ? `${s.status}: ${s.error}` : s.status;
      out.push(
        `| ${cell(`${s.name} (${s.stepId})`)} | ${cell(s.action)} | ${cell(status)} | ${s.attempts} | ${s.duration ? s.duration.human : '—'} | ${s.approvedBy ? cell(s.approvedBy) : 'autopilot'} |`,
      );
    }
  }
  out.push('');

  out.push('## What people did', '');
  if (pm.humanActions.length === 0) out.push('_No one acted on this incident._');
  for (const h of pm.humanActions) out.push(`- ${when(h.at)} — ${line(h.text)}`);
  out.push('');

  bullets(out, 'What went well', pm.narrative.wentWell);
  bullets(out, 'What went badly', pm.narrative.wentBadly);
  bullets(out, 'Lessons', pm.narrative.lessons);

  out.push('## Action items', '');
  if (pm.actionItems.length === 0) out.push('_None yet._');
  else {
    out.push('| item | priority | owner | due | status |', '|---|---|---|---|---|');
    for (const i of pm.actionItems) {
      out.push(
        `| ${cell(i.title)} | ${i.priority} | ${i.owner ? cell(i.owner) : 'unassigned'} | ${i.dueDate ?? '—'}${i.overdue ? ' **overdue**' : ''} | ${i.status} |`,
      );
    }
  }
  out.push('', `_Generated ${when(r.generatedAt)} by AIRE from the incident's audit trail._`, '');
  return out.join('\n');
}
