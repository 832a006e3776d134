/**
 * The workflow side of tracing (docs/tracing.md): the SDK's `interceptors` export, bundled with the
 * workflows as a workflow interceptor module (src/worker/workflow-code.ts). An incident whose start
 * carried a trace context (the API's Temporal client adds one while tracing is on, src/tracing.ts)
 * gets @temporalio/interceptors-opentelemetry's interceptors: a RunWorkflow span under the API's
 * StartWorkflow, a StartActivity span per activity, the context passed on in each activity's
 * headers, and the spans sent out through the worker's `exporter` sink.
 *
 * An incident started without one runs with none of it: no span, no sink call, and the
 * OpenTelemetry modules are not even loaded into its context. The SDK instantiates the modules a
 * workflow loads once per workflow (docs/performance.md), so tracing off costs a cached incident
 * nothing, and a history recorded without tracing replays through exactly the code that made it.
 * Whether an incident is traced is read from its start event, so a replay decides the same.
 */
import type {
  WorkflowInboundCallsInterceptor,
  WorkflowInterceptorsFactory,
  WorkflowInternalsInterceptor,
  WorkflowOutboundCallsInterceptor,
} from '@temporalio/workflow';
import type * as otelWorkflow from '@temporalio/interceptors-opentelemetry/lib/workflow';

/** The header @temporalio/interceptors-opentelemetry carries the trace context in (its TRACE_HEADER; test/unit/tracing.test.ts checks they agree). */
export const TRACE_HEADER = '_tracer-data';

interface Traced {
  inbound: WorkflowInboundCallsInterceptor;
  outbound: WorkflowOutboundCallsInterceptor;
  internals: WorkflowInternalsInterceptor;
}

function tracedInterceptors(): Traced {
  // eslint-disable-next-line no-restricted-globals, @typescript-eslint/no-require-imports -- loaded only by traced incidents: each workflow instantiates every module it loads, and the bundler still resolves this one
  const otel = require('@temporalio/interceptors-opentelemetry/lib/workflow') as typeof otelWorkflow;
  return {
    inbound: new otel.OpenTelemetryInboundInterceptor(),
    outbound: new otel.OpenTelemetryOutboundInterceptor(),
    internals: new otel.OpenTelemetryInternalsInterceptor(),
  };
}

type Intercept = (input: unknown, next: (input: unknown) => unknown) => unknown;

/** An interceptor whose `methods` go to `target()`'s when there is one, and straight on otherwise. */
function gated<T extends object>(target: () => T | undefined, methods: readonly (keyof T)[]): T {
  const gate: Partial<Record<keyof T, Intercept>> = {};
  for (const method of methods) {
    gate[method] = (input, next) => {
      const to = target();
      const intercept = to?.[method] as Intercept | undefined;
      return intercept ? intercept.call(to, input, next) : next(input);
    };
  }
  return gate as T;
}

const INBOUND = ['execute', 'handleSignal', 'handleUpdate', 'validateUpdate', 'handleQuery'] as const;
const OUTBOUND = [
  'scheduleActivity',
  'scheduleLocalActivity',
  'startChildWorkflowExecution',
  'continueAsNew',
  'signalWorkflow',
  'startNexusOperation',
  'getLogAttributes',
  'getMetricTags',
] as const;

export const interceptors: WorkflowInterceptorsFactory = () => {
  let traced: Traced | undefined;
  const internals: WorkflowInternalsInterceptor = {
    // The first activation starts with the start event's job, before any signal or update is handled.
    activate(input, next) {
      const start = input.activation.jobs?.[0]?.initializeWorkflow;
      if (start && !traced && start.headers?.[TRACE_HEADER]) traced = tracedInterceptors();
      next(input);
    },
    dispose(input, next) {
      if (traced?.internals.dispose) traced.internals.dispose(input, next);
      else next(input);
    },
  };
  return {
    inbound: [gated<WorkflowInboundCallsInterceptor>(() => traced?.inbound, INBOUND)],
    outbound: [gated<WorkflowOutboundCallsInterceptor>(() => traced?.outbound, OUTBOUND)],
    internals: [internals],
  };
};
