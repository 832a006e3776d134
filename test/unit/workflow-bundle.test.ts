import { bundleWorkflowCode } from '@temporalio/worker';
import { WORKFLOW_BUNDLE_OPTIONS } from '../../src/worker/workflow-code';

/**
 * The SDK instantiates a workflow's own modules once per running workflow (and again on every
 * replay), so whatever the incident workflow imports for its values is paid for per cached incident.
 * Schema libraries cost ~1.5 MB each time (docs/performance.md): they must stay out of the bundle.
 */
describe('the workflow bundle', () => {
  let modules: string[];
  beforeAll(async () => {
    const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} };
    const { code } = await bundleWorkflowCode({ ...WORKFLOW_BUNDLE_OPTIONS, logger: quiet });
    modules = [...code.matchAll(/!\*\*\* (\S+) \*\*\*!/g)].map((m) => m[1]!);
  }, 120_000);

  it('is found (the module list is read from webpack markers)', () => {
    expect(modules).toContain('./src/workflows/incident/index.ts');
  });

  it('carries the tracing interceptor module (src/workflows/interceptors.ts), which a worker given a bundle cannot add', () => {
    expect(modules).toContain('./src/workflows/interceptors.ts');
  });

  it('holds no schema or search library', () => {
    const heavy = modules.filter((m) => /node_modules\/(zod|minisearch|yaml|safe-regex2|pino)\//.test(m));
    expect(heavy).toEqual([]);
  });

  it('takes from src/ only the workflows and the schema-free domain modules', () => {
    const ours = modules.filter((m) => m.startsWith('./src/') && !m.startsWith('./src/workflows/'));
    expect(ours.sort()).toEqual([
      './src/domain/gates.ts',
      './src/domain/lifecycle.ts',
      './src/domain/postmortem-review.ts',
      './src/domain/routing.ts',
      './src/domain/severity-scale.ts',
      './src/domain/template.ts',
    ]);
  });
});
