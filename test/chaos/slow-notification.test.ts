import { IncomingMessage, Server, createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { Receiver } from '../support/receiver';
import { Stack, TestTenant, eventually, uniqueId } from '../support/stack';
import { PARAMS, duplicates, httpStep, scenario } from './support';

/** Longer than every step's timeout (2 s), shorter than the 10 s an outbound call may take: delivered, late. */
const SLOW_MS = 8_000;

/** A webhook target that takes every request and never answers: each attempt runs into the outbound call's 10 s timeout. */
class Hanging {
  readonly requests: IncomingMessage[] = [];
  private server!: Server;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req) => {
      this.requests.push(req);
      req.resume();
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * Notification channels that are slow (answer after 8 s, longer than any step's timeout), hang
 * (never answer in time) or are dead (500) never hold remediation back: every incident's runbook
 * finishes before the slow channel has answered even once, the slow channel gets its messages
 * late, and the others are recorded as `notification.failed`. (A dead channel alone is in
 * test/integration/governance.test.ts.)
 */
describe('chaos: slow, hanging and dead notification targets', () => {
  let stack: Stack;
  let target: Receiver;
  let hanging: Hanging;
  let tenant: TestTenant;

  beforeAll(async () => {
    stack = await Stack.start('chaos-notify');
    [target, hanging] = await Promise.all([new Receiver().start(), new Hanging().start()]);
    tenant = await stack.tenant('chaos-notify');
  });
  afterAll(async () => {
    await stack?.stop();
    await target?.stop();
    await hanging?.stop();
  });

  test(`${PARAMS.slowIncidents} incidents with a slow, a hanging and a dead channel: remediation never waits for them`, async () => {
    const rb = uniqueId('notify');
    const figures: Record<string, number | string | boolean> = { incidents: PARAMS.slowIncidents, slowChannelMs: SLOW_MS };
    await scenario('slow-notification', figures, async () => {
      target.on('POST', `/${rb}/slow`, { delayMs: SLOW_MS });
      target.on('POST', `/${rb}/dead`, { status: 500 });
      const channel = (name: string, base = target.url) => ({ name, target: { url: `${base}/${rb}/${name}` } });
      // A channel gets its notifications in order, one after the other, so the hanging one is told
      // only of openings (each takes three timed-out attempts, ~33 s, to be given up).
      const settings = { channels: [channel('slow'), { ...channel('hanging', hanging.url), events: ['incident.opened'] }, channel('dead')] };
      expect((await stack.call('PUT', '/api/settings', tenant.keys.admin, settings)).status).toBe(200);
      const steps = ['one', 'two', 'three'].map((id) => httpStep(target.url, rb, id, { timeout: '2s', retry: { maximumAttempts: 5, initialInterval: '200ms' } }));
      const created = await stack.call('POST', '/api/runbooks', tenant.keys.admin, { id: rb, name: rb, triggers: { titlePattern: rb }, steps, completion: { autoResolve: true } });
      expect(created.status).toBe(201);

      const opened = await Promise.all(
        Array.from({ length: PARAMS.slowIncidents }, (_, n) => stack.call<{ id: string }>('POST', '/api/incidents', tenant.keys.ingest, { title: `${rb} incident ${n}`, severity: 'high' })),
      );
      expect(opened.map((r) => r.status)).toEqual(opened.map(() => 201));
      const ids = opened.map((r) => r.body.id);

      // Every runbook runs to its end while the channels are still slow, hanging or failing.
      const resolved = await eventually(async () => {
        const { rows } = await stack.admin.query<{ id: string; created_at: Date; resolved_at: Date | null }>(
          'SELECT id, created_at, resolved_at FROM incidents WHERE tenant_id = $1 AND status = $2',
          [tenant.id, 'resolved'],
        );
        return rows.length === ids.length ? rows : undefined;
      }, 120_000, 200);
      const seconds = resolved.map((r) => ((r.resolved_at as Date).getTime() - r.created_at.getTime()) / 1000);
      figures.slowestRemediationSeconds = Math.max(...seconds).toFixed(1);
      figures.meanRemediationSeconds = (seconds.reduce((a, b) => a + b, 0) / seconds.length).toFixed(1);

      // Before the slow channel answered a single one of this incident's notifications: nothing waited for it.
      const firstSlowAnswer = (id: string): number => {
        const arrivals = target.requests.filter((r) => r.path === `/${rb}/slow` && (r.body as { incident?: { id?: string } })?.incident?.id === id).map((r) => r.at);
        return arrivals.length > 0 ? Math.min(...arrivals) + SLOW_MS : Infinity;
      };
      const waited = resolved.filter((r) => (r.resolved_at as Date).getTime() >= firstSlowAnswer(r.id)).map((r) => r.id);
      figures.incidentsThatWaitedForTheSlowChannel = waited.length;
      expect(waited).toEqual([]);
      // Each step applied once per incident, as without the slow channels.
      const stepEffects = target.applied.filter((r) => /\/(one|two|three)$/.test(r.path));
      expect(duplicates(stepEffects)).toEqual([]);
      for (const id of ids) {
        const keys = stepEffects.map((r) => String(r.headers['idempotency-key'])).filter((k) => k.startsWith(`aire:${id}:`));
        expect({ id, keys }).toEqual({ id, keys: [`aire:${id}:one`, `aire:${id}:two`, `aire:${id}:three`] });
      }

      // Later, every notification ends recorded once, as sent or failed: the slow channel's as sent
      // (late), the hanging and dead ones' as failed, after their retries.
      const keysAt = (channel: string): Map<string, string> => {
        const heads = channel === 'hanging' ? hanging.requests.map((r) => r.headers) : target.requests.filter((r) => r.path === `/${rb}/${channel}`).map((r) => r.headers);
        // aire:<incident id>:n:<seq>:<channel> → incident id
        return new Map(heads.map((h) => String(h['idempotency-key'])).map((k) => [k, k.split(':')[1]]));
      };
      const outcome = await eventually(async () => {
        const { rows } = await stack.admin.query<{ incident_id: string; kind: string; event_key: string; detail: { channel?: string } }>(
          `SELECT incident_id, kind, event_key, detail FROM action_log WHERE tenant_id = $1 AND kind LIKE 'notification.%'`,
          [tenant.id],
        );
        const recorded = (channel: string, kind: string) => rows.filter((r) => r.kind === kind && r.detail.channel === channel);
        const settled =
          recorded('slow', 'notification.sent').length === keysAt('slow').size &&
          recorded('hanging', 'notification.failed').length === keysAt('hanging').size &&
          recorded('dead', 'notification.failed').length === keysAt('dead').size;
        return settled ? rows : undefined;
      }, 180_000, 1_000);
      const count = (channel: string, kind: string) => outcome.filter((r) => r.kind === kind && r.detail.channel === channel).length;
      figures.slowDeliveriesSent = count('slow', 'notification.sent');
      figures.hangingDeliveriesFailed = count('hanging', 'notification.failed');
      figures.deadDeliveriesFailed = count('dead', 'notification.failed');
      figures.hangingAttempts = hanging.requests.length;
      // Each incident told every channel at least that it opened; nothing recorded as sent that failed, or twice.
      expect(count('slow', 'notification.failed') + count('hanging', 'notification.sent') + count('dead', 'notification.sent')).toBe(0);
      for (const id of ids) for (const c of ['slow', 'hanging', 'dead']) expect({ id, c, told: [...keysAt(c).values()].includes(id) }).toEqual({ id, c, told: true });
    });
  }, 600_000);
});
