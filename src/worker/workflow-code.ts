/**
 * What the workflow bundle is made of, wherever it is built (on worker start, `npm run
 * bundle:workflows`, the tests' global setup): the workflows, and the workflow interceptor module
 * (tracing, src/workflows/interceptors.ts). A bundle built ahead carries its interceptors in it:
 * the SDK ignores `interceptors.workflowModules` when given a bundle.
 */
export const WORKFLOWS_PATH = require.resolve('../workflows');
export const WORKFLOW_INTERCEPTOR_MODULES: string[] = [require.resolve('../workflows/interceptors')];

/** The options of `bundleWorkflowCode` that every bundle of AIRE's workflows shares. */
export const WORKFLOW_BUNDLE_OPTIONS = { workflowsPath: WORKFLOWS_PATH, workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES };
