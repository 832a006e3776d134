import { healthGauges } from '../../db/health';
import { breakersOpen, healthReadErrors, incidentQuietSeconds, incidentsOpen } from '../../metrics';
import type { Deps } from '../deps';

/** /metrics needs no key: however often it is scraped, PostgreSQL is read at most this often. */
const FRESH_FOR_MS = 5_000;

let lastRead: { at: number; pending: Promise<void> } | undefined;

/**
 * Sets the gauges that describe every tenant's incidents at once (open incidents, the longest
 * silence per status, open breakers) from PostgreSQL, before a scrape. A failed read leaves the
 * incident gauges out of the answer rather than repeating stale numbers, and is counted: the rest
 * of /metrics still answers, so Prometheus can alert on the read failing.
 */
export function refreshHealthGauges(deps: Deps): Promise<void> {
  const now = Date.now();
  if (lastRead && now - lastRead.at < FRESH_FOR_MS) return lastRead.pending;
  const pending = read(deps);
  lastRead = { at: now, pending };
  return pending;
}

async function read(deps: Deps): Promise<void> {
  try {
    const rows = await healthGauges(deps.pool);
    incidentsOpen.reset();
    incidentQuietSeconds.reset();
    breakersOpen.set(0);
    for (const row of rows) {
      if (row.metric === 'open' && row.status && row.severity) incidentsOpen.set({ status: row.status, severity: row.severity }, row.value);
      else if (row.metric === 'quiet' && row.status) incidentQuietSeconds.set({ status: row.status }, row.value);
      else if (row.metric === 'breakers') breakersOpen.set(row.value);
    }
  } catch (err) {
    incidentsOpen.reset();
    incidentQuietSeconds.reset();
    // A gauge without labels cannot be left out; its last value is truer than a zero.
    healthReadErrors.inc();
    deps.log?.warn({ err: err instanceof Error ? err.message : String(err) }, 'cannot read the health gauges for /metrics');
  }
}
