import { Spawned, freePort, startApiProcess, stopProcess } from '../support/processes';
import { Stack, TestTenant, eventually, uniqueId } from '../support/stack';
import { PARAMS, WorkerFleet, chaosStack, randomBetween, scenario, sleep } from './support';

type Outcome = { kind: 'answered'; status: number; id?: string } | { kind: 'no answer'; error: string };

/**
 * The API process (the real entry point, src/api/main.ts) is SIGKILLed while a stream of
 * declarations comes in, each with its own Idempotency-Key, and a new one starts on the same port.
 * Every request that got a 2xx is in the system afterwards; every request that got no answer (or a
 * 5xx), retried with the same key, ends as one incident: the one the first try made if it got that
 * far, a new one if it did not, never two.
 */
describe('chaos: API process killed under load', () => {
  let stack: Stack;
  let own: Awaited<ReturnType<typeof chaosStack>> | undefined;
  let tenant: TestTenant;
  let api: (Spawned & { url: string }) | undefined;
  let port = 0;
  let env: Record<string, string>;
  let worker: WorkerFleet | undefined;

  beforeAll(async () => {
    own = await chaosStack('chaos-api');
    stack = own.stack;
    tenant = await stack.tenant('chaos-api');
    env = { DATABASE_URL: stack.config.DATABASE_URL, TEMPORAL_ADDRESS: stack.config.TEMPORAL_ADDRESS, AIRE_TASK_QUEUE: stack.config.AIRE_TASK_QUEUE };
    port = await freePort();
    worker = new WorkerFleet(env, 1);
    [api] = await Promise.all([startApiProcess(port, env), worker.start()]);
  }, 120_000);
  afterAll(async () => {
    if (api) await stopProcess(api, 'SIGKILL');
    await worker?.stop();
    await own?.stop();
  });

  async function declare(key: string, n: number): Promise<Outcome> {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/api/incidents`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tenant.keys.ingest}`, 'content-type': 'application/json', 'idempotency-key': key },
        body: JSON.stringify({ title: `chaos declaration ${n}`, severity: 'low', context: { n } }),
        signal: AbortSignal.timeout(20_000),
      });
      const body = (await res.json().catch(() => ({}))) as { id?: string };
      return { kind: 'answered', status: res.status, id: body.id };
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code;
      return { kind: 'no answer', error: cause ?? (err as Error).name };
    }
  }

  test(`${PARAMS.apiKills} SIGKILLs of the API during ${PARAMS.apiRequests} declarations: every 2xx is kept, every retry is the same single incident`, async () => {
    const run = uniqueId('api');
    const figures: Record<string, number | string | boolean> = { requests: PARAMS.apiRequests, apiKills: PARAMS.apiKills };
    await scenario('api-restart', figures, async () => {
      const keys = Array.from({ length: PARAMS.apiRequests }, (_, n) => `${run}-${n}`);
      const first = new Map<string, Outcome>();
      let sent = 0;

      // Eight clients send the stream; a client whose request found no API waits a second before its next one, as clients do.
      const clients = Array.from({ length: 8 }, async () => {
        for (;;) {
          const n = sent;
          const key = keys[n];
          if (key === undefined) return;
          sent += 1;
          const outcome = await declare(key, n);
          first.set(key, outcome);
          if (outcome.kind === 'no answer') await sleep(1_000);
        }
      });

      // The kills: spread over the stream, each at a random point of its stretch, with a new API right after.
      const killer = (async () => {
        let downMs = 0;
        for (let k = 0; k < PARAMS.apiKills; k += 1) {
          const at = Math.floor((keys.length * (k + randomBetween(0.3, 0.9))) / PARAMS.apiKills);
          while (sent < at) await sleep(5);
          const current = api as Spawned;
          current.child.kill('SIGKILL');
          await current.exited;
          const down = Date.now();
          api = await startApiProcess(port, env);
          downMs += Date.now() - down;
        }
        return downMs;
      })();
      const [downMs] = await Promise.all([killer, ...clients]);
      figures.apiDownSeconds = Math.round(downMs / 1000);

      const outcomes = [...first.values()];
      const ok = (o: Outcome | undefined): o is Outcome & { kind: 'answered'; id: string } =>
        o?.kind === 'answered' && o.status >= 200 && o.status < 300 && !!o.id;
      figures.answered2xx = outcomes.filter(ok).length;
      figures.noAnswer = outcomes.filter((o) => o.kind === 'no answer').length;
      figures.answered5xx = outcomes.filter((o) => o.kind === 'answered' && o.status >= 500).length;
      // Nothing else: a 4xx here would be a bug.
      expect(outcomes.filter((o) => o.kind === 'answered' && o.status >= 300 && o.status < 500)).toEqual([]);
      expect(figures.noAnswer).toBeGreaterThan(0);

      // Every request without a 2xx is retried with the same Idempotency-Key until it gets one.
      const retried = new Map<string, Outcome & { kind: 'answered'; id: string }>();
      for (const [n, key] of keys.entries()) {
        if (ok(first.get(key))) continue;
        const answer = await eventually(
          async () => {
            const o = await declare(key, n);
            return ok(o) ? o : undefined;
          },
          30_000,
          250,
        );
        retried.set(key, answer);
      }
      // 200: the first try had reached Temporal (the answer was lost); 201: it had not, the retry opened it.
      figures.retried = retried.size;
      figures.retryJoinedFirstTry = [...retried.values()].filter((o) => o.status === 200).length;
      figures.retryOpened = [...retried.values()].filter((o) => o.status === 201).length;

      // The system afterwards: one incident per key, exactly the one each 2xx named. The workflow
      // writes its own row, so an incident whose API died right after the start appears too.
      const rows = await eventually(
        async () => {
          const { rows: found } = await stack.admin.query<{ id: string; dedup_key: string }>('SELECT id, dedup_key FROM incidents WHERE tenant_id = $1', [
            tenant.id,
          ]);
          return found.length >= keys.length ? found : undefined;
        },
        180_000,
        500,
      ).catch(
        async () => (await stack.admin.query<{ id: string; dedup_key: string }>('SELECT id, dedup_key FROM incidents WHERE tenant_id = $1', [tenant.id])).rows,
      );
      const byKey = new Map<string, string[]>();
      for (const r of rows) byKey.set(r.dedup_key, [...(byKey.get(r.dedup_key) ?? []), r.id]);
      const duplicates = [...byKey.entries()].filter(([, ids]) => ids.length > 1);
      figures.incidents = rows.length;
      figures.duplicateIncidents = duplicates.length;
      const missing = keys.filter((k) => !byKey.has(`manual:${k}`));
      figures.lost = missing.length;
      expect(duplicates).toEqual([]);
      expect(missing).toEqual([]);
      expect(rows).toHaveLength(keys.length);
      for (const key of keys) {
        const answer = ok(first.get(key)) ? (first.get(key) as { id: string }) : retried.get(key);
        expect({ key, id: answer?.id }).toEqual({ key, id: byKey.get(`manual:${key}`)?.[0] });
      }
      // And each is a live workflow in Temporal, not only a row.
      const workflows = await Promise.all(
        rows.map((r) =>
          stack.temporal.workflow
            .getHandle(`incident/${tenant.slug}/${r.dedup_key}`)
            .describe()
            .then(
              (d) => d.status.name,
              (e: Error) => e.message,
            ),
        ),
      );
      expect(workflows.filter((s) => s !== 'RUNNING')).toEqual([]);
      expect(worker?.unexpectedExits).toEqual([]);
    });
  }, 900_000);
});
