import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** The parts of rendered Kubernetes objects the chart tests read. */
export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string }; configMapKeyRef?: { name: string; key: string } };
}
interface Probe {
  httpGet?: { path: string; port: string | number };
}
export interface Container {
  name: string;
  image: string;
  args?: string[];
  ports?: { name: string; containerPort: number; protocol: string }[];
  env?: EnvVar[];
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
}
interface PodSpec {
  containers: Container[];
  terminationGracePeriodSeconds?: number;
  imagePullSecrets?: { name: string }[];
}
interface PolicyRule {
  from?: unknown[];
  to?: unknown[];
  ports?: { protocol: string; port: number }[];
}
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; annotations?: Record<string, string> };
  data?: Record<string, string>;
  spec?: {
    replicas?: number;
    template?: { spec?: PodSpec };
    scaleTargetRef?: unknown;
    metrics?: unknown[];
    ingress?: PolicyRule[];
    egress?: PolicyRule[];
  };
}

export const byKind = (manifests: Manifest[], kind: string): Manifest[] => manifests.filter((m) => m.kind === kind);

export function one(manifests: Manifest[], kind: string, name: string): Manifest {
  const found = manifests.filter((m) => m.kind === kind && m.metadata.name === name);
  if (found.length !== 1) throw new Error(`expected one ${kind}/${name}, found ${found.length}`);
  return found[0]!;
}

export function container(workload: Manifest): Container {
  const containers = workload.spec?.template?.spec?.containers ?? [];
  if (containers.length !== 1) throw new Error(`${workload.kind}/${workload.metadata.name} has ${containers.length} containers`);
  return containers[0]!;
}

/** name → value, or → valueFrom for a variable taken from a Secret or ConfigMap. */
export function envOf(c: Container): Record<string, unknown> {
  return Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value ?? e.valueFrom]));
}

/** The distinct `protocol/port` pairs a NetworkPolicy lets out, sorted. */
export function egressPorts(policy: Manifest): string[] {
  const ports = (policy.spec?.egress ?? []).flatMap((rule) => (rule.ports ?? []).map((p) => `${p.protocol}/${p.port}`));
  return [...new Set(ports)].sort();
}

/** A memory quantity (`768Mi`, `1Gi`) in MiB. */
export function mebibytes(quantity: string | undefined): number {
  const match = /^(\d+)(Mi|Gi)$/.exec(quantity ?? '');
  if (!match) throw new Error(`not a Mi/Gi quantity: ${quantity}`);
  return Number(match[1]) * (match[2] === 'Gi' ? 1024 : 1);
}

/**
 * A tool built from the Go module proxy: `$<envVar>`, else GOPATH/bin, else PATH. scripts/test.sh
 * installs it (scripts/lib.sh, `installer`); a missing tool fails the test run rather than skipping it.
 */
export function toolBinary(name: string, envVar: string, installer: string): string {
  const given = process.env[envVar];
  if (given && existsSync(given)) return given;
  const gobin = join(process.env.GOPATH ?? join(homedir(), 'go'), 'bin', name);
  if (existsSync(gobin)) return gobin;
  try {
    return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error(`${name} is not installed: run \`source scripts/lib.sh; ${installer}\` (or set ${envVar})`);
  }
}
