import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ConfigSchema } from '../../src/config';
import { ROOT } from '../support/processes';
import { Manifest, byKind, container, egressPorts, envOf, mebibytes, one, toolBinary } from './k8s';

/**
 * The Helm chart (deploy/helm/aire), with the real tools and no cluster: `helm lint --strict`, `helm
 * template` with the default values and with a non-default set, and every rendered object validated
 * by kubectl-validate against the Kubernetes 1.30 OpenAPI schemas it ships (unknown fields are errors,
 * as for the API server). Both tools are built from the Go module proxy by scripts/lib.sh
 * (ensure_helm, ensure_kubectl_validate), which scripts/test.sh calls.
 */
const CHART = join(ROOT, 'deploy', 'helm', 'aire');
const KUBERNETES_VERSION = '1.30';
const helm = toolBinary('helm', 'AIRE_HELM_BIN', 'ensure_helm');
const kubectlValidate = toolBinary('kubectl-validate', 'AIRE_KUBECTL_VALIDATE_BIN', 'ensure_kubectl_validate');
const work = mkdtempSync(join(tmpdir(), 'aire-helm-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function run(bin: string, args: string[]): { code: number | null; stdout: string; stderr: string } {
  // No kubeconfig: nothing may reach a cluster; kubectl-validate then uses its built-in schemas.
  const res = spawnSync(bin, args, { encoding: 'utf8', env: { ...process.env, KUBECONFIG: join(work, 'no-kubeconfig') }, timeout: 60_000 });
  return { code: res.status, stdout: res.stdout, stderr: res.stderr };
}

function valuesFile(name: string, values: object): string {
  const file = join(work, `${name}.json`); // JSON is YAML: helm reads it as a values file
  writeFileSync(file, JSON.stringify(values));
  return file;
}

function render(valueFiles: string[] = [], extra: string[] = []): { manifests: Manifest[]; file: string } {
  const res = run(helm, ['template', 'aire', CHART, '--namespace', 'aire', ...valueFiles.flatMap((f) => ['--values', f]), ...extra]);
  expect(res.stderr).toBe('');
  expect(res.code).toBe(0);
  const file = join(work, `rendered-${valueFiles.length}-${Date.now()}.yaml`);
  writeFileSync(file, res.stdout);
  const manifests = parseAllDocuments(res.stdout)
    .map((d) => d.toJS() as Manifest | null)
    .filter((m): m is Manifest => m !== null);
  return { manifests, file };
}

/** kubectl-validate's verdict on each object of `file`: "Success", or the causes it found. */
function validate(file: string): { code: number | null; results: string[]; out: string } {
  const res = run(kubectlValidate, [file, '--version', KUBERNETES_VERSION, '--output', 'json']);
  let results: string[] = [];
  try {
    const parsed = JSON.parse(res.stdout) as Record<
      string,
      { status: string; message?: string; details?: { causes?: { field?: string; message?: string }[] } }[]
    >;
    results = (parsed[file] ?? []).map((r) =>
      r.status === 'Success' ? 'Success' : [r.message ?? r.status, ...(r.details?.causes ?? []).map((c) => `${c.field ?? ''}: ${c.message ?? ''}`)].join('; '),
    );
  } catch {
    // Not JSON: the tool failed before validating; `out` says why.
  }
  return { code: res.code, results, out: res.stdout + res.stderr };
}

const NON_DEFAULT = {
  image: { repository: 'registry.example.com/sre/aire', tag: '0.1.0-rc1', pullPolicy: 'Always' },
  imagePullSecrets: [{ name: 'registry' }],
  config: {
    temporalAddress: 'temporal.example.internal:7233',
    taskQueue: 'aire-prod',
    egressAllowlist: ['hooks.slack.com', '*.internal.example.com', '10.20.0.7'],
    logFormat: 'pretty',
    extraEnv: { AIRE_RATE_LIMIT_INTAKE: '12000', DATABASE_POOL_SIZE: '20' },
  },
  secrets: {
    database: { existingSecret: 'prod-db', appUrlKey: 'app', adminUrlKey: 'owner' },
    payloadKeys: { existingSecret: 'aire-payload', key: 'keys' },
    webhookSecret: { existingSecret: 'aire-webhook', key: 'secret' },
    extraEnv: [{ name: 'AIRE_SMTP_HOST', secretName: 'smtp', key: 'host' }],
  },
  api: { replicas: 4, service: { type: 'LoadBalancer', port: 443 }, podDisruptionBudget: { enabled: false, maxUnavailable: 1 } },
  worker: { replicas: 6, shutdownGrace: '2m', autoscaling: { enabled: false }, service: { enabled: false } },
  networkPolicy: {
    postgres: { port: 6432, peers: [{ ipBlock: { cidr: '10.10.0.5/32' } }] },
    temporal: { peers: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'temporal' } } }] },
    egressAllowlist: [
      { cidr: '203.0.113.0/24', ports: [443] },
      { cidr: '10.20.0.7/32', ports: [25, 587] },
    ],
    apiIngressFrom: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress' } } }],
  },
};

describe('Helm chart deploy/helm/aire', () => {
  test('helm lint --strict passes with the default values and with a non-default set', () => {
    for (const files of [[], [valuesFile('lint', NON_DEFAULT)]]) {
      const res = run(helm, ['lint', '--strict', CHART, ...files.flatMap((f) => ['--values', f])]);
      expect([res.code, res.stdout + res.stderr]).toEqual([0, expect.stringContaining('1 chart(s) linted, 0 chart(s) failed')]);
    }
  });

  describe('default values', () => {
    const { manifests, file } = render();

    test('render the API, the autoscaled workers, the migrations Job and their guards, each valid for Kubernetes', () => {
      expect(manifests.map((m) => `${m.kind}/${m.metadata.name}`).sort()).toEqual([
        'ConfigMap/aire',
        'Deployment/aire-api',
        'Deployment/aire-worker',
        'HorizontalPodAutoscaler/aire-worker',
        'Job/aire-migrations',
        'NetworkPolicy/aire-api',
        'NetworkPolicy/aire-migrations',
        'NetworkPolicy/aire-worker',
        'PodDisruptionBudget/aire-api',
        'PodDisruptionBudget/aire-worker',
        'Service/aire-api',
        'Service/aire-worker-metrics',
      ]);
      const res = validate(file);
      expect([res.code, res.results]).toEqual([0, manifests.map(() => 'Success')]);
    });

    test('probe /healthz and /readyz: the API on its port, the worker on its metrics port', () => {
      const api = container(one(manifests, 'Deployment', 'aire-api'));
      expect(api.ports).toEqual([{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
      expect(api.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'http' });
      expect(api.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'http' });
      const worker = container(one(manifests, 'Deployment', 'aire-worker'));
      expect(worker.ports).toEqual([{ name: 'metrics', containerPort: 9464, protocol: 'TCP' }]);
      expect(worker.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
      expect(worker.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'metrics' });
      expect(envOf(worker).AIRE_WORKER_METRICS_PORT).toBe('9464');
      expect([api.args, worker.args]).toEqual([['api'], ['worker']]);
    });

    test('size the pods from the bench figures: limits above the measured peaks (API 273 MB, worker 416 MB + the bundler)', () => {
      const api = container(one(manifests, 'Deployment', 'aire-api')).resources;
      const worker = container(one(manifests, 'Deployment', 'aire-worker')).resources;
      expect(mebibytes(api?.limits?.memory) * 2 ** 20).toBeGreaterThan(273e6);
      expect(mebibytes(worker?.requests?.memory) * 2 ** 20).toBeGreaterThan(416e6);
      expect(mebibytes(worker?.limits?.memory) * 2 ** 20).toBeGreaterThan(416e6 + 150e6);
      for (const r of [api, worker]) expect(Object.keys(r?.requests ?? {}).sort()).toEqual(['cpu', 'memory']);
    });

    test('hold no secret value: the database URLs come from the named Secret, the owner URL to the migrations Job alone', () => {
      expect(byKind(manifests, 'Secret')).toEqual([]);
      for (const name of ['aire-api', 'aire-worker']) {
        const env = container(one(manifests, 'Deployment', name)).env ?? [];
        expect(env.find((e) => e.name === 'DATABASE_URL')?.valueFrom).toEqual({ secretKeyRef: { name: 'aire-database', key: 'DATABASE_URL' } });
        expect(env.map((e) => e.name)).not.toContain('DATABASE_ADMIN_URL');
        for (const e of env) if (/URL|KEY|SECRET|PASSWORD/.test(e.name) && e.name !== 'AIRE_WORKER_METRICS_PORT') expect(e.value).toBeUndefined();
      }
      const job = one(manifests, 'Job', 'aire-migrations');
      const migrate = container(job);
      expect(migrate.args).toEqual(['aire', 'db', 'migrate']);
      expect(migrate.env).toEqual([{ name: 'DATABASE_ADMIN_URL', valueFrom: { secretKeyRef: { name: 'aire-database', key: 'DATABASE_ADMIN_URL' } } }]);
      expect(job.metadata.annotations?.['helm.sh/hook']).toBe('pre-install,pre-upgrade');
    });

    test('every variable handed to AIRE is a setting of ConfigSchema', () => {
      const settings = Object.keys(ConfigSchema.shape);
      const configMap = one(manifests, 'ConfigMap', 'aire');
      const names = [
        ...Object.keys(configMap.data ?? {}),
        ...['aire-api', 'aire-worker', 'aire-migrations'].flatMap((n) =>
          (container(one(manifests, n === 'aire-migrations' ? 'Job' : 'Deployment', n)).env ?? []).map((e) => e.name),
        ),
      ];
      expect(names.filter((n) => !settings.includes(n))).toEqual([]);
      expect(configMap.data).toMatchObject({ AIRE_TASK_QUEUE: 'aire-incidents', AIRE_LOG_FORMAT: 'json' });
    });

    test('scale the workers on the task-queue backlog, and restrict egress to DNS, PostgreSQL and Temporal', () => {
      const hpa = one(manifests, 'HorizontalPodAutoscaler', 'aire-worker');
      expect(hpa.spec?.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'aire-worker' });
      expect(hpa.spec?.metrics?.[0]).toEqual({
        type: 'External',
        external: {
          metric: { name: 'temporal_approximate_backlog_count', selector: { matchLabels: { taskqueue: 'aire-incidents' } } },
          target: { type: 'AverageValue', averageValue: '20' },
        },
      });
      expect(one(manifests, 'Deployment', 'aire-worker').spec?.replicas).toBeUndefined(); // the HPA owns the count
      expect(egressPorts(one(manifests, 'NetworkPolicy', 'aire-api'))).toEqual(['TCP/53', 'TCP/5432', 'TCP/7233', 'UDP/53']);
      expect(egressPorts(one(manifests, 'NetworkPolicy', 'aire-worker'))).toEqual(['TCP/53', 'TCP/5432', 'TCP/7233', 'UDP/53']);
      expect(egressPorts(one(manifests, 'NetworkPolicy', 'aire-migrations'))).toEqual(['TCP/53', 'TCP/5432', 'UDP/53']);
    });
  });

  describe('non-default values', () => {
    const { manifests, file } = render([valuesFile('custom', NON_DEFAULT)]);

    test('render valid objects that follow every value', () => {
      const res = validate(file);
      expect([res.code, res.results]).toEqual([0, manifests.map(() => 'Success')]);
      expect(byKind(manifests, 'HorizontalPodAutoscaler')).toEqual([]);
      expect(byKind(manifests, 'PodDisruptionBudget').map((m) => m.metadata.name)).toEqual(['aire-worker']);
      expect(byKind(manifests, 'Service').map((m) => m.metadata.name)).toEqual(['aire-api']);
      const worker = one(manifests, 'Deployment', 'aire-worker');
      expect(worker.spec?.replicas).toBe(6);
      expect(worker.spec?.template?.spec?.terminationGracePeriodSeconds).toBe(135); // 2m of grace + 15 s
      expect(container(worker).image).toBe('registry.example.com/sre/aire:0.1.0-rc1');
      expect(envOf(container(worker))).toMatchObject({
        DATABASE_URL: { secretKeyRef: { name: 'prod-db', key: 'app' } },
        AIRE_PAYLOAD_KEYS: { secretKeyRef: { name: 'aire-payload', key: 'keys' } },
        AIRE_WEBHOOK_SECRET: { secretKeyRef: { name: 'aire-webhook', key: 'secret' } },
        AIRE_SMTP_HOST: { secretKeyRef: { name: 'smtp', key: 'host' } },
        AIRE_WORKER_SHUTDOWN_GRACE: '2m',
      });
      expect(one(manifests, 'ConfigMap', 'aire').data).toMatchObject({
        TEMPORAL_ADDRESS: 'temporal.example.internal:7233',
        AIRE_TASK_QUEUE: 'aire-prod',
        AIRE_EGRESS_ALLOWLIST: 'hooks.slack.com,*.internal.example.com,10.20.0.7',
        AIRE_LOG_FORMAT: 'pretty',
        AIRE_RATE_LIMIT_INTAKE: '12000',
      });
      // The allowlist reaches the workers only; the API keeps to its backing services.
      expect(egressPorts(one(manifests, 'NetworkPolicy', 'aire-worker'))).toEqual(['TCP/25', 'TCP/443', 'TCP/53', 'TCP/587', 'TCP/6432', 'TCP/7233', 'UDP/53']);
      expect(egressPorts(one(manifests, 'NetworkPolicy', 'aire-api'))).toEqual(['TCP/53', 'TCP/6432', 'TCP/7233', 'UDP/53']);
      expect(one(manifests, 'NetworkPolicy', 'aire-api').spec?.ingress?.[0]?.from).toEqual(NON_DEFAULT.networkPolicy.apiIngressFrom);
      expect(one(manifests, 'Job', 'aire-migrations').spec?.template?.spec?.imagePullSecrets).toEqual([{ name: 'registry' }]);
    });

    test('networkPolicy and migrations can be left to the cluster: nothing of them is rendered', () => {
      const off = render([valuesFile('off', { networkPolicy: { enabled: false }, migrations: { enabled: false } })]).manifests;
      expect(byKind(off, 'NetworkPolicy')).toEqual([]);
      expect(byKind(off, 'Job')).toEqual([]);
    });
  });

  test('a misspelt or bad value is refused by the chart, naming it', () => {
    const typo = run(helm, ['template', 'aire', CHART, '--set', 'worker.autoscalng.enabled=false']);
    // Helm 4 says "at '/worker': additional properties 'autoscalng' not allowed"; Helm 3 words it differently.
    expect([typo.code, typo.stderr]).toEqual([1, expect.stringMatching(/worker.*additional propert.*autoscalng/i)]);
    const grace = run(helm, ['template', 'aire', CHART, '--set', 'worker.shutdownGrace=soon']);
    expect([grace.code, grace.stderr]).toEqual([1, expect.stringMatching(/worker.shutdownGrace.*(does not match pattern)/i)]);
    const noSecret = run(helm, ['template', 'aire', CHART, '--set', 'secrets.database.existingSecret=']);
    expect([noSecret.code, noSecret.stderr]).toEqual([1, expect.stringContaining('existingSecret')]);
  });

  test('the validator is not a formality: a wrong type and an unknown field are each reported with their path', () => {
    const { manifests } = render();
    const wrongType = one(manifests, 'Deployment', 'aire-api');
    Object.assign(wrongType.spec ?? {}, { replicas: 'two' });
    const unknownField = one(manifests, 'Deployment', 'aire-worker');
    Object.assign(container(unknownField), { livenessProbes: { httpGet: { path: '/healthz', port: 'metrics' } } });
    const broken = join(work, 'broken.yaml');
    writeFileSync(broken, [wrongType, unknownField, one(manifests, 'Service', 'aire-api')].map((m) => JSON.stringify(m)).join('\n---\n'));
    const res = validate(broken);
    expect(res.code).not.toBe(0);
    expect(res.results).toHaveLength(3);
    expect(res.results[0]).toMatch(/spec\.replicas: Invalid value: "string": spec\.replicas in body must be of type integer/);
    expect(res.results[1]).toMatch(/spec\.template\.spec\.containers\[0\]\.livenessProbes: Invalid value: value provided for unknown field/);
    expect(res.results[2]).toBe('Success');
  });
});
