/**
 * The built-in runbooks in runbooks/: each file loads as the engine loads it, each matches its own kind
 * of incident and no other, renders every step's parameters from a realistic incident of that kind, and
 * the committed JSON Schema editors use is the one the engine's zod schema produces.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ACTION_TYPES, findActionSpec } from '../../src/domain/actions';
import { validateRunbook } from '../../src/domain/runbook-validation';
import { Plan, PlannedStep, SampleIncident, SampleIncidentSchema, draftFromSample, planRunbook } from '../../src/domain/dry-run';
import { matchRunbook, selectRunbook } from '../../src/domain/matching';
import { DEFAULT_APPROVAL_POLICY } from '../../src/domain/policy';
import { Runbook, RunbookVersion } from '../../src/domain/runbook';
import { runbookJsonSchema } from '../../src/domain/runbook-json-schema';
import { findReferences } from '../../src/domain/template';

const DIR = join(__dirname, '..', '..', 'runbooks');
const FILES = readdirSync(DIR)
  .filter((f) => /\.ya?ml$/.test(f))
  .sort();

function readRunbookFile(file: string): string {
  return readFileSync(join(DIR, file), 'utf8');
}

function loadRunbook(file: string): Runbook {
  return validateRunbook(parseYaml(readRunbookFile(file)));
}

const RUNBOOKS: Runbook[] = FILES.map(loadRunbook);
const VERSIONS: RunbookVersion[] = RUNBOOKS.map((runbook) => ({ runbook, version: 1 }));

function runbook(id: string): Runbook {
  const found = RUNBOOKS.find((r) => r.id === id);
  if (!found) throw new Error(`no built-in runbook "${id}" in ${DIR}`);
  return found;
}

/** What a detector forwarded of the leaked secret: it must never reach a step's parameters. */
const LEAKED_VALUE = 'sk_live_51HxQ2eKq9TzVbN8mA3cW7pLr';

/** One realistic incident per built-in runbook, with the context fields its templates read. */
const SAMPLES: Record<string, SampleIncident> = {
  'capacity-forecast': SampleIncidentSchema.parse({
    title: 'Predicted capacity exhaustion: scale out',
    severity: 'high',
    source: 'upewe',
    category: 'capacity exhaustion',
    affectedServices: ['checkout'],
    context: {
      service: 'checkout',
      replicas: 6,
      forecast: { id: 'fc-1', riskType: 'capacity exhaustion', confidence: 65, recommendedAction: 'scale out' },
    },
  }),
  'budget-overrun': SampleIncidentSchema.parse({
    title: 'Predicted budget_risk: reduce AI worker spend',
    severity: 'high',
    source: 'upewe',
    category: 'budget_risk',
    affectedServices: ['ai-workers'],
    context: {
      service: 'ai-workers',
      replicas: 4,
      budgetUtilization: 112,
      forecast: { id: 'fc-budget-7', riskType: 'budget_risk', confidence: 72, recommendedAction: 'reduce AI worker spend' },
    },
  }),
  'critical-failure': SampleIncidentSchema.parse({
    title: 'checkout is down: 100% of requests failing',
    severity: 'critical',
    source: 'alertmanager',
    category: 'outage',
    affectedServices: ['checkout'],
    labels: { alertname: 'ServiceDown', team: 'payments' },
    context: {
      service: 'checkout',
      deploymentsUrl: 'http://127.0.0.1:8099/deployments/checkout',
      healthUrl: 'http://127.0.0.1:8099/services/checkout/health',
      errorRate: 1,
    },
  }),
  'secret-exposure': SampleIncidentSchema.parse({
    title: 'Secret detected in agent output: api_key',
    severity: 'high',
    source: 'system',
    category: 'data_leak',
    context: {
      action: 'secret_detected',
      actor: { type: 'agent', id: 'agent:report-writer' },
      secret: { id: 'stripe-live-payments', type: 'api_key', foundIn: 'run-8f2c-output' },
      match: LEAKED_VALUE,
    },
  }),
  'high-cpu': SampleIncidentSchema.parse({
    title: 'HighCPUUsage: search above 90% CPU for 10m',
    severity: 'high',
    source: 'alertmanager',
    affectedServices: ['search'],
    labels: { alertname: 'HighCPUUsage', service: 'search' },
    context: { service: 'search', replicas: 8, cpuPercent: 94, healthUrl: 'http://127.0.0.1:8099/services/search/health' },
  }),
  'failed-deployment': SampleIncidentSchema.parse({
    title: 'Deployment of orders v2.14.0 failed health checks',
    severity: 'high',
    source: 'webhook',
    category: 'deployment-failure',
    affectedServices: ['orders'],
    context: {
      service: 'orders',
      version: 'v2.14.0',
      commit_sha: '9f1c2ab',
      deploymentsUrl: 'http://127.0.0.1:8099/deployments/orders',
      healthUrl: 'http://127.0.0.1:8099/services/orders/health',
    },
  }),
  'auth-brute-force': SampleIncidentSchema.parse({
    title: 'Authentication brute force from 203.0.113.42',
    severity: 'medium',
    source: 'system',
    category: 'authentication_failure',
    context: { action: 'authentication_failed', actor: { ip: '203.0.113.42' }, count: 37, window: '5m', target: { user: 'admin' } },
  }),
};

const IDS = Object.keys(SAMPLES).sort();

function plan(id: string, sample: SampleIncident = SAMPLES[id]!): Plan {
  return planRunbook(runbook(id), draftFromSample(sample), DEFAULT_APPROVAL_POLICY);
}

function step(p: Plan, id: string): PlannedStep {
  const found = p.steps.find((s) => s.id === id);
  if (!found) throw new Error(`no step "${id}" in the plan`);
  return found;
}

function paramsOf(s: PlannedStep): Record<string, unknown> {
  expect(s.error).toBeUndefined();
  expect(s.params).toEqual(expect.any(Object));
  return s.params as Record<string, unknown>;
}

/** Parameters as the action reads them (durations in ms, defaults filled in). */
function parsedParams(s: PlannedStep): Record<string, unknown> {
  const action = findActionSpec(s.action);
  if (!action) throw new Error(`unknown action ${s.action}`);
  return action.params.parse(s.params) as Record<string, unknown>;
}

describe('runbook files', () => {
  it('are the built-in runbooks, one sample incident each', () => {
    expect(FILES.length).toBeGreaterThanOrEqual(7);
    expect(RUNBOOKS.map((r) => r.id).sort()).toEqual(IDS);
  });

  it.each(FILES)('%s parses, passes validateRunbook and is named after its id', (file) => {
    const text = readRunbookFile(file);
    expect(text.split('\n')[0]).toBe('# yaml-language-server: $schema=./runbook.schema.json');
    const parsed: unknown = parseYaml(text);
    const rb = validateRunbook(parsed);
    expect(file).toBe(`${rb.id}.yaml`);
    expect(rb.enabled).toBe(true);
    expect(rb.description).toEqual(expect.any(String));
  });

  it.each(FILES)('%s: every action type is known and every wait fits in its step timeout', (file) => {
    const rb = loadRunbook(file);
    for (const s of rb.steps) {
      expect(ACTION_TYPES).toContain(s.action);
      // A poll or wait longer than the step's timeout would be cut off by the activity timeout instead
      // of ending with its own, readable, result.
      const parsed = findActionSpec(s.action)?.params.safeParse(s.params);
      const params = (parsed?.success ? parsed.data : {}) as { duration?: number; timeout?: number; health?: { timeout: number } };
      if (s.action === 'wait') expect(params.duration).toBeLessThan(s.timeout);
      if (s.action === 'verify' && typeof params.timeout === 'number') expect(params.timeout).toBeLessThan(s.timeout);
      if (s.action === 'rollback_deploy' && params.health) expect(params.health.timeout).toBeLessThan(s.timeout);
    }
  });
});

describe('the JSON Schema for editors', () => {
  it('runbooks/runbook.schema.json is up to date (regenerate with npm run schema)', () => {
    const committed: unknown = JSON.parse(readFileSync(join(DIR, 'runbook.schema.json'), 'utf8'));
    expect(committed).toEqual(runbookJsonSchema(ACTION_TYPES));
  });
});

describe.each(IDS)('built-in runbook %s on its sample incident', (id) => {
  it('matches', () => {
    const p = plan(id);
    expect(p.matched).toBe(true);
    expect(matchRunbook(runbook(id), draftFromSample(SAMPLES[id]!)).matched).toBe(true);
  });

  it("renders every step's parameters, and they pass the action's schema", () => {
    const p = plan(id);
    expect(p.steps).toHaveLength(runbook(id).steps.length);
    for (const s of p.steps) {
      expect({ step: s.id, error: s.error }).toEqual({ step: s.id, error: undefined });
      const action = findActionSpec(s.action);
      expect(action).toBeDefined();
      const result = action?.params.safeParse(s.params);
      expect({ step: s.id, issues: result?.success ? [] : result?.error.issues }).toEqual({ step: s.id, issues: [] });
    }
  });

  it("does not match any other runbook's sample", () => {
    for (const [other, sample] of Object.entries(SAMPLES)) {
      if (other === id) continue;
      expect({ sample: other, matched: matchRunbook(runbook(id), draftFromSample(sample)).matched }).toEqual({ sample: other, matched: false });
    }
  });

  it('is the one selectRunbook picks among all built-ins', () => {
    const selection = selectRunbook(VERSIONS, draftFromSample(SAMPLES[id]!));
    expect(selection.selected?.runbook.id).toBe(id);
  });
});

describe('selection where runbooks overlap', () => {
  it('a critical outage whose title mentions CPU goes to critical-failure, not high-cpu', () => {
    const sample = SampleIncidentSchema.parse({ ...SAMPLES['critical-failure'], title: 'search down: CPU saturated on every node' });
    const draft = draftFromSample(sample);
    expect(matchRunbook(runbook('high-cpu'), draft).matched).toBe(true);
    expect(matchRunbook(runbook('critical-failure'), draft).matched).toBe(true);
    expect(selectRunbook(VERSIONS, draft).selected?.runbook.id).toBe('critical-failure');
  });

  it('a critical failed deployment stays with failed-deployment, behind the critical gate', () => {
    const sample = SampleIncidentSchema.parse({ ...SAMPLES['failed-deployment'], severity: 'critical' });
    expect(selectRunbook(VERSIONS, draftFromSample(sample)).selected?.runbook.id).toBe('failed-deployment');
    expect(plan('failed-deployment', sample).gate.reasons).toEqual(['critical incidents always need a human approval']);
  });

  it('a capacity forecast from UPEWE is not taken for high CPU, and a CPU alert is not taken for a forecast', () => {
    const forecast = SampleIncidentSchema.parse({ ...SAMPLES['capacity-forecast'], title: 'Predicted capacity exhaustion: CPU saturation' });
    expect(selectRunbook(VERSIONS, draftFromSample(forecast)).selected?.runbook.id).toBe('capacity-forecast');
    const alert = SampleIncidentSchema.parse({ ...SAMPLES['high-cpu'], title: 'HighCPUUsage: search near capacity' });
    expect(selectRunbook(VERSIONS, draftFromSample(alert)).selected?.runbook.id).toBe('high-cpu');
  });

  it('nothing matches a low-severity incident of any kind except the capacity forecast', () => {
    for (const [id, sample] of Object.entries(SAMPLES)) {
      const low = draftFromSample(SampleIncidentSchema.parse({ ...sample, severity: 'low' }));
      const selected = selectRunbook(VERSIONS, low).selected?.runbook.id ?? null;
      expect({ id, selected }).toEqual({ id, selected: id === 'capacity-forecast' ? 'capacity-forecast' : null });
    }
  });
});

describe('budget-overrun', () => {
  const p = plan('budget-overrun');

  it('notifies first, on autopilot, then asks a human before each change', () => {
    expect(p.gate.required).toBe(false);
    expect(p.steps.map((s) => s.action)).toEqual(['notify', 'disable_feature', 'scale', 'notify']);
    expect(step(p, 'notify').gate.required).toBe(false);
    expect(step(p, 'disable_extended_thinking').gate).toEqual({
      required: true,
      mode: 'co-pilot',
      reasons: ['step "disable_extended_thinking" requires approval'],
    });
    expect(step(p, 'scale_down').gate.reasons).toEqual(['step "scale_down" requires approval', "risk high is at or above the policy's high"]);
    expect(step(p, 'report').gate.required).toBe(false);
  });

  it('a rejected change is skipped, not an abort of the rest', () => {
    expect(step(p, 'disable_extended_thinking').onReject).toBe('skip');
    expect(step(p, 'scale_down').onReject).toBe('skip');
  });

  it('turns off extended thinking and scales the sample service to the given capacity', () => {
    expect(paramsOf(step(p, 'disable_extended_thinking'))).toEqual({
      flag: 'extended_thinking',
      reason: 'budget overrun: Predicted budget_risk: reduce AI worker spend',
      pushUrl: 'http://127.0.0.1:8099/flags',
    });
    expect(paramsOf(step(p, 'scale_down'))).toEqual({ url: 'http://127.0.0.1:8099/services/ai-workers/capacity', replicas: 4 });
  });

  it('also matches a cost alert from Alertmanager, but not one below medium or about something else', () => {
    const alert = SampleIncidentSchema.parse({ ...SAMPLES['budget-overrun'], source: 'alertmanager', title: 'GPU spend: cost overrun on ai-workers' });
    expect(matchRunbook(runbook('budget-overrun'), draftFromSample(alert)).matched).toBe(true);
    expect(matchRunbook(runbook('budget-overrun'), draftFromSample({ ...alert, severity: 'low' })).matched).toBe(false);
    expect(matchRunbook(runbook('budget-overrun'), draftFromSample({ ...alert, title: 'GPU temperature high' })).matched).toBe(false);
  });
});

describe('critical-failure', () => {
  const p = plan('critical-failure');

  it('is gated for a critical sample because critical incidents always are', () => {
    expect(p.gate).toEqual({ required: true, mode: 'co-pilot', reasons: ['critical incidents always need a human approval'] });
    expect(runbook('critical-failure').requiresApproval).toBe(false);
  });

  it('pages, freezes deploys, rolls back (with its own approval), verifies and reports', () => {
    expect(p.steps.map((s) => s.action)).toEqual(['notify', 'disable_feature', 'rollback_deploy', 'verify', 'notify']);
    expect(step(p, 'rollback').gate.required).toBe(true);
    expect(step(p, 'rollback').gate.reasons).toEqual(["risk high is at or above the policy's high"]);
    expect(p.steps.filter((s) => s.id !== 'rollback').every((s) => !s.gate.required)).toBe(true);
  });

  it('never undoes the page by itself: every step goes on after a failure', () => {
    expect(p.steps.map((s) => s.onFailure)).toEqual(['continue', 'continue', 'continue', 'continue', 'continue']);
  });

  it("renders the rollback and the freeze from the incident's context", () => {
    expect(paramsOf(step(p, 'freeze_deploys')).flag).toBe('deploys.checkout');
    expect(paramsOf(step(p, 'rollback'))).toEqual({
      deploymentsUrl: 'http://127.0.0.1:8099/deployments/checkout',
      service: 'checkout',
      healthUrl: 'http://127.0.0.1:8099/services/checkout/health',
      health: { interval: '5s', timeout: '2m' },
    });
    expect(paramsOf(step(p, 'verify')).url).toBe('http://127.0.0.1:8099/services/checkout/health');
  });

  it('is only for critical incidents', () => {
    const high = SampleIncidentSchema.parse({ ...SAMPLES['critical-failure'], severity: 'high' });
    expect(matchRunbook(runbook('critical-failure'), draftFromSample(high)).matched).toBe(false);
  });

  it('says which context field is missing instead of sending a blank', () => {
    const bare = SampleIncidentSchema.parse({ ...SAMPLES['critical-failure'], context: { service: 'checkout' } });
    expect(step(plan('critical-failure', bare), 'rollback').error).toMatch(/\{\{incident\.context\.deploymentsUrl\}\} has no value/);
  });
});

describe('secret-exposure', () => {
  const p = plan('secret-exposure');

  it('blocks the actor that exposed the secret, then alerts security', () => {
    expect(p.steps.map((s) => s.action)).toEqual(['block', 'notify', 'http', 'notify']);
    expect(paramsOf(step(p, 'block_actor')).target).toBe('agent:report-writer');
    expect(paramsOf(step(p, 'notify_security')).url).toBe('http://127.0.0.1:8099/hooks/security');
  });

  it('rotates through the secrets API only after approval; a rejection skips it', () => {
    const rotate = step(p, 'rotate');
    expect(rotate.gate.required).toBe(true);
    expect(rotate.gate.reasons).toContain('step "rotate" requires approval');
    expect(rotate.onReject).toBe('skip');
    expect(paramsOf(rotate)).toEqual({
      method: 'POST',
      url: 'http://127.0.0.1:8099/secrets/stripe-live-payments/rotate',
      body: { secretId: 'stripe-live-payments', type: 'api_key', reason: 'exposed in run-8f2c-output', incidentId: '(dry run)' },
    });
    // An exposed secret is never brought back: rotation has no compensating request.
    expect(paramsOf(rotate).compensate).toBeUndefined();
  });

  it('never puts the exposed value in any parameter', () => {
    expect(JSON.stringify(p.steps.map((s) => s.params))).not.toContain(LEAKED_VALUE);
    const paths = runbook('secret-exposure').steps.flatMap((s) => findReferences(s.params, 'params').map((r) => r.path));
    expect(paths.filter((path) => !/^incident\.(title|severity|id|context\.(actor\.id|secret\.(id|type|foundIn)))$/.test(path))).toEqual([]);
  });

  it('is not taken for a brute-force incident that mentions passwords', () => {
    const spray = draftFromSample(SampleIncidentSchema.parse({ ...SAMPLES['auth-brute-force'], title: 'Password spray against admin accounts' }));
    expect(matchRunbook(runbook('secret-exposure'), spray).matched).toBe(false);
    expect(selectRunbook(VERSIONS, spray).selected?.runbook.id).toBe('auth-brute-force');
  });
});

describe('high-cpu', () => {
  const p = plan('high-cpu');

  it('scales out on autopilot, lets it settle, verifies health, then reports', () => {
    expect(p.gate.required).toBe(false);
    expect(p.steps.map((s) => s.action)).toEqual(['scale', 'wait', 'verify', 'notify']);
    expect(p.steps.every((s) => s.gate.mode === 'autopilot')).toBe(true);
    expect(runbook('high-cpu').steps[0]!.estimatedCost).toBeLessThanOrEqual(DEFAULT_APPROVAL_POLICY.costThreshold);
  });

  it('scales the sample service to the given capacity, and reports the capacity it replaced', () => {
    expect(paramsOf(step(p, 'scale_out'))).toEqual({ url: 'http://127.0.0.1:8099/services/search/capacity', replicas: 8 });
    expect(paramsOf(step(p, 'verify')).url).toBe('http://127.0.0.1:8099/services/search/health');
    expect(paramsOf(step(p, 'report')).message).toBe(
      'AIRE: HighCPUUsage: search above 90% CPU for 10m. Scaled search out from {{steps.scale_out.output.previous}} to {{steps.scale_out.output.current}} replicas; rolling the incident back restores {{steps.scale_out.output.previous}}.',
    );
  });

  it('gets the right parsed timings: a 1 minute settle and a 2 minute health check', () => {
    expect(parsedParams(step(p, 'settle'))).toEqual({ duration: 60_000 });
    expect(parsedParams(step(p, 'verify'))).toMatchObject({ interval: 10_000, timeout: 120_000 });
    expect(step(p, 'verify').timeoutMs).toBe(180_000);
  });

  it('leaves UPEWE forecasts to capacity-forecast', () => {
    const forecast = draftFromSample(SampleIncidentSchema.parse({ ...SAMPLES['high-cpu'], source: 'upewe' }));
    expect(matchRunbook(runbook('high-cpu'), forecast).matched).toBe(false);
  });
});

describe('failed-deployment', () => {
  const p = plan('failed-deployment');

  it('rolls back first, with a health check, then verifies, then notifies', () => {
    expect(p.steps[0]!.action).toBe('rollback_deploy');
    expect(p.steps.map((s) => s.action)).toEqual(['rollback_deploy', 'wait', 'verify', 'notify']);
    expect(p.gate.required).toBe(false);
    expect(step(p, 'rollback').gate.required).toBe(false);
  });

  it('rolls the sample service back through its deploy API and checks its health', () => {
    expect(paramsOf(step(p, 'rollback'))).toEqual({
      deploymentsUrl: 'http://127.0.0.1:8099/deployments/orders',
      service: 'orders',
      healthUrl: 'http://127.0.0.1:8099/services/orders/health',
      health: { interval: '5s', timeout: '2m' },
    });
    expect(parsedParams(step(p, 'rollback')).health).toEqual({ interval: 5_000, timeout: 120_000 });
    expect(paramsOf(step(p, 'verify')).url).toBe('http://127.0.0.1:8099/services/orders/health');
  });

  it('reports the releases it rolled from and to', () => {
    expect(paramsOf(step(p, 'notify')).message).toContain('Rolled orders back from {{steps.rollback.output.from}} to {{steps.rollback.output.to}}');
  });

  it('keeps the rollback when the later check fails, rather than rolling the failed release forward', () => {
    expect(step(p, 'rollback').onFailure).toBe('abort');
    expect(step(p, 'verify').onFailure).toBe('continue');
  });
});

describe('auth-brute-force', () => {
  const p = plan('auth-brute-force');

  it("blocks the sample's IP on autopilot", () => {
    expect(p.steps[0]!.action).toBe('block');
    expect(paramsOf(step(p, 'block_ip'))).toEqual({
      target: '203.0.113.42',
      reason: 'brute-force login attempts: Authentication brute force from 203.0.113.42',
      pushUrl: 'http://127.0.0.1:8099/blocks',
    });
    expect(p.steps.every((s) => !s.gate.required)).toBe(true);
  });

  it('blocks an IPv6 address too', () => {
    const v6 = SampleIncidentSchema.parse({ ...SAMPLES['auth-brute-force'], context: { actor: { ip: '2001:db8::7' } } });
    const block = step(plan('auth-brute-force', v6), 'block_ip');
    expect(paramsOf(block).target).toBe('2001:db8::7');
    expect(findActionSpec('block')?.params.safeParse(block.params).success).toBe(true);
  });

  it('alerts security, then escalates by notify', () => {
    expect(p.steps.map((s) => [s.id, s.action])).toEqual([
      ['block_ip', 'block'],
      ['notify_security', 'notify'],
      ['escalate', 'notify'],
    ]);
    expect(paramsOf(step(p, 'notify_security')).message).toContain('Blocked 203.0.113.42');
    expect(paramsOf(step(p, 'escalate')).url).toBe('http://127.0.0.1:8099/hooks/security-oncall');
    expect(paramsOf(step(p, 'escalate')).message).toMatch(/^Escalation: /);
  });

  it('matches the usual names of the attack', () => {
    for (const title of ['Credential stuffing against /login', 'Password spray on SSO', '40 failed logins from one IP']) {
      const draft = draftFromSample(SampleIncidentSchema.parse({ ...SAMPLES['auth-brute-force'], title }));
      expect({ title, matched: matchRunbook(runbook('auth-brute-force'), draft).matched }).toEqual({ title, matched: true });
    }
  });
});
