import type { tracing as sdkTracing } from '@opentelemetry/sdk-node';
import type { ClientInterceptors } from '@temporalio/client';
import type { ActivityInterceptorsFactory, InjectedSinks } from '@temporalio/worker';
import type { OpenTelemetryWorkflowExporter } from '@temporalio/interceptors-opentelemetry/lib/workflow/definitions';
import { TRACE_HEADER } from './workflows/interceptors';

/**
 * OpenTelemetry tracing of the API and the worker (docs/tracing.md): one trace runs from the
 * intake request through the workflow start, the workflow, each step's activity and each call an
 * action makes. Configured by the standard OTEL_* variables, read by the OpenTelemetry SDK itself;
 * entirely off unless a trace exporter is asked for, and then nothing of the SDK is even loaded.
 *
 * Spans come from Temporal's interceptors (@temporalio/interceptors-opentelemetry: StartWorkflow…
 * in the API's client, RunWorkflow and StartActivity in the workflow, RunActivity in the worker),
 * from the API's own server span (src/api/tracing.ts) and from the client span around each
 * outbound call (src/activities/egress.ts), which also sends the W3C `traceparent` header.
 */

/** What the API and the worker plug into Temporal while tracing is on. */
export interface Tracing {
  /** For the API's Temporal client: a span per start, update, signal and query, its context in the workflow's headers. */
  clientInterceptors: ClientInterceptors;
  /** For the worker: a RunActivity span per activity of a traced incident, under the workflow's StartActivity. */
  activityInterceptors: ActivityInterceptorsFactory[];
  /** Spans made in the workflow sandbox reach the exporter through this sink (its name is the workflow side's). */
  workflowSinks: InjectedSinks<{ exporter: OpenTelemetryWorkflowExporter }>;
  /** Sends what is still buffered; call before the process ends. */
  shutdown(): Promise<void>;
}

const EXPORTERS = ['otlp', 'console'];
const PROTOCOLS = ['http/protobuf', 'http/json', 'grpc'];

const listOf = (value: string | undefined): string[] =>
  (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');

/**
 * Whether traces are to be exported: an OTLP endpoint is set (OTEL_EXPORTER_OTLP_ENDPOINT or
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) or an exporter is named (OTEL_TRACES_EXPORTER), and neither
 * OTEL_TRACES_EXPORTER=none nor OTEL_SDK_DISABLED=true says otherwise.
 */
export function tracingRequested(env: NodeJS.ProcessEnv = process.env): boolean {
  if ((env.OTEL_SDK_DISABLED ?? '').trim().toLowerCase() === 'true') return false;
  const exporters = listOf(env.OTEL_TRACES_EXPORTER);
  if (exporters.includes('none')) return false;
  return exporters.length > 0 || !!env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || !!env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
}

/** The exporters and OTLP protocol asked for, or an error naming the variable (checked at start, like every setting). */
export function exportSettings(env: NodeJS.ProcessEnv = process.env): { exporters: string[]; protocol: string } {
  const exporters = listOf(env.OTEL_TRACES_EXPORTER);
  const unknown = exporters.filter((e) => !EXPORTERS.includes(e));
  if (unknown.length > 0) throw new Error(`OTEL_TRACES_EXPORTER: AIRE exports traces with ${EXPORTERS.join(' or ')}, not ${unknown.join(', ')}`);
  const protocol = (env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf').trim();
  if (!PROTOCOLS.includes(protocol)) throw new Error(`OTEL_EXPORTER_OTLP_PROTOCOL: "${protocol}" is not one of ${PROTOCOLS.join(', ')}`);
  return { exporters: exporters.length > 0 ? exporters : ['otlp'], protocol };
}

let active: Tracing | undefined;

/** The tracing this process started, if any. */
export function activeTracing(): Tracing | undefined {
  return active;
}

/** `aire.*` attributes of a step's activity: which incident and which step the RunActivity span is. */
function stepAttributes(arg: unknown): Record<string, string> {
  const call = arg as { incidentId?: unknown; step?: { id?: unknown; name?: unknown; action?: unknown } } | null;
  if (typeof call !== 'object' || call === null || typeof call.incidentId !== 'string') return {};
  const attributes: Record<string, string> = { 'aire.incident.id': call.incidentId };
  if (typeof call.step?.id === 'string') attributes['aire.step.id'] = call.step.id;
  if (typeof call.step?.name === 'string') attributes['aire.step.name'] = call.step.name;
  if (typeof call.step?.action === 'string') attributes['aire.step.action'] = call.step.action;
  return attributes;
}

/**
 * Starts the OpenTelemetry SDK if `tracingRequested()`, else does nothing and returns undefined.
 * `serviceName` is the default for OTEL_SERVICE_NAME (`aire-api`, `aire-worker`).
 */
export async function startTracing(serviceName: string, env: NodeJS.ProcessEnv = process.env): Promise<Tracing | undefined> {
  if (!tracingRequested(env)) return undefined;
  if (active) return active;
  const { exporters, protocol } = exportSettings(env);
  const [{ NodeSDK, resources, tracing }, { trace }, client, worker] = await Promise.all([
    import('@opentelemetry/sdk-node'),
    import('@opentelemetry/api'),
    import('@temporalio/interceptors-opentelemetry/lib/client'),
    import('@temporalio/interceptors-opentelemetry/lib/worker'),
  ]);
  // The resource is built here rather than by the SDK because the workflow sink needs the same one.
  // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES (the env detector) win over the default name.
  const resource = new resources.Resource({ 'service.name': serviceName }).merge(
    resources.detectResourcesSync({ detectors: [resources.envDetectorSync, resources.processDetectorSync, resources.hostDetectorSync] }),
  );
  const processors: sdkTracing.SpanProcessor[] = [];
  for (const name of exporters) {
    if (name === 'console') processors.push(new tracing.SimpleSpanProcessor(new tracing.ConsoleSpanExporter()));
    else processors.push(new tracing.BatchSpanProcessor(await otlpExporter(protocol)));
  }
  // Traces only: AIRE's logs are JSON on stdout and its metrics Prometheus (docs/operations.md).
  const sdk = new NodeSDK({ resource, autoDetectResources: false, spanProcessors: processors, logRecordProcessors: [], instrumentations: [] });
  sdk.start();
  // Workflow spans are made in the sandbox and ended there: they go straight to the processors' onEnd.
  const workflowProcessor: sdkTracing.SpanProcessor = {
    onStart: () => undefined,
    onEnd: (span) => processors.forEach((p) => p.onEnd(span)),
    forceFlush: async () => void (await Promise.all(processors.map((p) => p.forceFlush()))),
    shutdown: () => Promise.resolve(),
  };
  const tracer = trace.getTracer('aire');
  const activityInterceptors: ActivityInterceptorsFactory = (ctx) => {
    const inbound = new worker.OpenTelemetryActivityInboundInterceptor(ctx, { tracer });
    return {
      inbound: {
        // Only activities of traced incidents: the others would each start a trace of one span.
        execute: (input, next) =>
          input.headers[TRACE_HEADER] === undefined
            ? next(input)
            : inbound.execute(input, (inner) => {
                trace.getActiveSpan()?.setAttributes(stepAttributes(inner.args[0]));
                return next(inner);
              }),
      },
      outbound: new worker.OpenTelemetryActivityOutboundInterceptor(ctx),
    };
  };
  active = {
    clientInterceptors: { workflow: [new client.OpenTelemetryWorkflowClientInterceptor({ tracer })] },
    activityInterceptors: [activityInterceptors],
    workflowSinks: { exporter: withWorkflowIdentity(worker.makeWorkflowExporter(workflowProcessor, resource)) },
    async shutdown() {
      active = undefined;
      await sdk.shutdown();
    },
  };
  return active;
}

/** The workflow facts a workflow's spans carry as attributes. */
const WORKFLOW_ATTRIBUTES = ['namespace', 'taskQueue', 'workflowId', 'runId', 'workflowType', 'attempt', 'historyLength'] as const;

/**
 * The SDK's sink sets every field of the workflow's info as attributes of its spans, the memo and
 * search attributes included: the incident's title and context, which AIRE_PAYLOAD_KEYS keeps
 * encrypted in Temporal. Its spans get the workflow's identity only.
 */
function withWorkflowIdentity(sink: InjectedSinks<{ exporter: OpenTelemetryWorkflowExporter }>['exporter']): typeof sink {
  return {
    export: {
      ...sink.export,
      fn: (info, spans) => {
        const identity = Object.fromEntries(WORKFLOW_ATTRIBUTES.map((key) => [key, info[key]])) as unknown as typeof info;
        return sink.export.fn(identity, spans);
      },
    },
  };
}

async function otlpExporter(protocol: string) {
  // Each reads its endpoint, headers and timeout from the OTEL_EXPORTER_OTLP_* variables.
  if (protocol === 'grpc') return new (await import('@opentelemetry/exporter-trace-otlp-grpc')).OTLPTraceExporter();
  if (protocol === 'http/json') return new (await import('@opentelemetry/exporter-trace-otlp-http')).OTLPTraceExporter();
  return new (await import('@opentelemetry/exporter-trace-otlp-proto')).OTLPTraceExporter();
}
