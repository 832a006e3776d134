import { z } from 'zod';
import { DurationSchema } from '../duration';
import { defineActionSpec } from './spec';
import { HealthySchema, PollSchema } from './verify';

/** A Kubernetes object name (RFC 1123 subdomain) and namespace (RFC 1123 label), as the API server accepts them. */
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

const Headers = z.record(z.string(), z.string());

/** A service restarted through its own platform API. */
export const HttpRestartParams = z
  .object({
    kind: z.literal('http').default('http'),
    /** The service resource: GET reads it (it must exist), POST `<url>/restart` restarts it. */
    url: z.string().url(),
    /** Checked after the restart, like `verify`, until healthy or `health.timeout`. */
    healthUrl: z.string().url(),
    health: PollSchema.optional(),
    /** Sent to the platform API only, not to `healthUrl`. */
    headers: Headers.optional(),
  })
  .strict();

/** How long to wait for a Kubernetes rollout to finish, and how often to look. */
export const RolloutSchema = z
  .object({
    interval: DurationSchema.default(5_000),
    /** Stays under a step's default 30 s timeout, so the step fails with "not rolled out" rather than being cut off. */
    timeout: DurationSchema.default(20_000),
  })
  .strict();

/** A Deployment restarted the way `kubectl rollout restart` does it. */
export const KubernetesRestartParams = z
  .object({
    kind: z.literal('kubernetes'),
    /** The API server (`https://k8s.example:6443`); the Deployment is under `/apis/apps/v1/…`. */
    apiUrl: z.string().url(),
    namespace: z.string().max(63).regex(DNS_LABEL, 'a Kubernetes namespace: lowercase letters, digits and "-"'),
    /** The Deployment's name. */
    name: z.string().max(253).regex(DNS_SUBDOMAIN, 'a Kubernetes name: lowercase letters, digits, "-" and "."'),
    rollout: RolloutSchema.optional(),
    /** E.g. `Authorization: Bearer …` of a service account allowed to get and patch deployments. */
    headers: Headers.optional(),
  })
  .strict();

export const RestartParams = z.discriminatedUnion('kind', [HttpRestartParams, KubernetesRestartParams]);
export type RestartParams = z.infer<typeof RestartParams>;
export type HttpRestartParams = z.infer<typeof HttpRestartParams>;
export type KubernetesRestartParams = z.infer<typeof KubernetesRestartParams>;

/** What a restart names: the service URL, or `deployment <namespace>/<name>`. */
export function restartTarget(params: RestartParams): string {
  return params.kind === 'kubernetes' ? `deployment ${params.namespace}/${params.name}` : params.url;
}

/**
 * Restarts a service, then waits until it is healthy again. A restart has no inverse (the old
 * processes are gone), so it is not compensable: a rollback records that and moves on.
 */
export const restartSpec = defineActionSpec({
  type: 'restart',
  description:
    'Restart a service through its platform API (kind http: POST <url>/restart, then poll healthUrl) or a Kubernetes Deployment (kind kubernetes: the rollout restart patch, then wait for the rollout); cannot be undone',
  params: RestartParams,
  output: z.object({
    kind: z.enum(['http', 'kubernetes']),
    /** The URL or `deployment <namespace>/<name>`. */
    target: z.string(),
    /** When the restart was asked for: the `restartedAt` annotation of a Deployment. */
    restartedAt: z.string(),
    /** The health check (http) or the finished rollout (kubernetes) that ended the step. */
    health: HealthySchema,
    /** Kubernetes: the Deployment's generation the rollout reached, and its replicas. */
    generation: z.number().int().optional(),
    replicas: z.number().int().optional(),
  }),
  compensable: false,
  describeCompensation: (params) => `nothing: cannot be undone: a restart of ${restartTarget(params)} stays done (a rollback records that and moves on)`,
});
