// ESLint (flat config): `npm run lint`, run by .ci/run before the tests. Typed linting with
// typescript-eslint's recommendedTypeChecked set, the engine's own habits, and the Temporal
// workflow determinism rules for the code bundled into the workflow sandbox.
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** Node built-ins, bare and `node:`-prefixed: no I/O, clock or randomness of the host in a workflow. */
const NODE_BUILTINS = builtinModules.filter((name) => !name.startsWith('_'));

/** Why a module may not be loaded for its values by workflow code (type-only imports are erased, so allowed). */
const WORKFLOW_BANNED_MODULES = [
  ...NODE_BUILTINS.map((name) => ({
    name,
    allowTypeImports: true,
    message: 'Workflow code runs in the deterministic Temporal sandbox: no Node built-ins (I/O, clocks, randomness belong in an activity).',
  })),
  { name: 'pg', allowTypeImports: true, message: 'Database access is an activity (src/activities/store.ts), never workflow code.' },
  {
    name: 'zod',
    allowTypeImports: true,
    message: 'The workflow bundle stays zod-free (size and replay cost): validate in the API or an activity; type-only imports are fine.',
  },
  {
    name: '@temporalio/client',
    allowTypeImports: true,
    message: 'The Temporal client is not available in the workflow sandbox: use @temporalio/workflow (signals, child workflows, external handles).',
  },
  { name: '@temporalio/worker', allowTypeImports: true, message: 'The worker package is Node-only and does not belong in the workflow bundle.' },
  {
    name: '@temporalio/activity',
    allowTypeImports: true,
    message: 'Activity context exists only inside activities; from a workflow, call activities through proxyActivities.',
  },
  { name: '@temporalio/testing', allowTypeImports: true, message: 'Test tooling does not belong in the workflow bundle.' },
  ...['minisearch', 'yaml', 'safe-regex2', 'pino'].map((name) => ({
    name,
    allowTypeImports: true,
    message: 'Heavy libraries stay out of the workflow bundle: it is instantiated per cached incident (test/unit/workflow-bundle.test.ts).',
  })),
];

const WORKFLOW_BANNED_PATTERNS = [
  {
    regex: '^node:',
    allowTypeImports: true,
    message: 'Workflow code runs in the deterministic Temporal sandbox: no Node built-ins (I/O, clocks, randomness belong in an activity).',
  },
  { regex: '^(zod|pg)/', allowTypeImports: true, message: 'The workflow bundle stays free of zod and pg: type-only imports are fine.' },
  {
    regex: '^\\.{1,2}/(.*/)?activities(/|$)',
    allowTypeImports: true,
    message: 'Activities run in the worker, not in the workflow sandbox: import their types only (import type) and call them through proxyActivities.',
  },
  // What test/unit/workflow-bundle.test.ts allows from src/ outside src/workflows, said at the import.
  {
    regex: '^(\\.\\./)+(?!\\.\\./)(src/)?domain/(?!(gates|lifecycle|postmortem-review|routing|severity-scale|template)$)',
    allowTypeImports: true,
    message:
      'Of src/domain, only the schema-free gates, lifecycle, postmortem-review, routing, severity-scale and template are imported for their values (test/unit/workflow-bundle.test.ts); use import type for the rest.',
  },
  {
    regex: '^(\\.\\./)+(?!\\.\\./)(src/)?(api|cli|config|db|logger|metrics|worker)(/|$)',
    allowTypeImports: true,
    message: 'Worker, API and database code stays out of the workflow bundle (test/unit/workflow-bundle.test.ts): use import type.',
  },
];

const NOT_DETERMINISTIC = 'is not deterministic on replay';

export default defineConfig(
  {
    ignores: ['node_modules/', 'dist/', 'coverage/', '.aire/', 'bench/results/', 'test/chaos/results/', 'test/fixtures/'],
  },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // In recommendedTypeChecked already; spelled out because the engine depends on them.
      // @types/express 5 types a handler's result as `unknown`, so async handlers are not "a Promise
      // where void is expected": no-misused-promises needs no checksVoidReturn exception.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      // `x != null` (null or undefined) is the one loose comparison used, on purpose.
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'no-console': 'error',
      // A leading underscore marks a deliberately unused binding (an omitted rest sibling, an unused callback argument).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      // Control characters in regexes are deliberate: hostile input and rendered text are checked or cleaned of them.
      'no-control-regex': 'off',
      // Its hits were String() of an `unknown` narrowed to `{}` once objects were handled; TS cannot express "not an object".
      '@typescript-eslint/no-base-to-string': 'off',
      // Passing on a caught error (of type unknown) to a Promise's reject as it came is fine.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingUnknown: true }],
      // A handle assigned after the callback that reads it is created (a timer the callback clears) stays `let`.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
    },
  },
  {
    // Tests and bench fakes are `async` without `await` on purpose: they stand in for async interfaces,
    // and an `async` function turns a throw into a rejection, which the code under test expects.
    files: ['test/**', 'bench/**'],
    rules: { '@typescript-eslint/require-await': 'off' },
  },
  {
    // Jest's asymmetric matchers (expect.any, expect.stringContaining, …) are typed `any` and are
    // meant to be placed inside expected values; every other `any` in tests is still reported.
    files: ['test/**'],
    rules: { '@typescript-eslint/no-unsafe-assignment': 'off' },
  },
  {
    // Programs whose output is the terminal: the CLI, the scripts, the bench, the chaos summary, the
    // test processes' fatal errors, and the entry points' last word when they fail to start.
    files: [
      'src/cli/**',
      'scripts/**',
      'bench/**',
      'test/support/**',
      'test/chaos/summary.ts',
      'src/api/main.ts',
      'src/worker/main.ts',
      'src/worker/bundle.ts',
    ],
    rules: { 'no-console': 'off' },
  },
  {
    // Plain JavaScript (CommonJS scripts and the browser console script): not in tsconfig, so untyped.
    files: ['**/*.js', '**/*.cjs', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: ['scripts/**/*.js', 'test/**/*.js'],
    languageOptions: { sourceType: 'commonjs', globals: globals.node },
    // CommonJS modules load with require().
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // The approval console: a plain ES5 browser script with no build step, so `catch (e)` needs its binding.
    files: ['src/api/console/**/*.js'],
    languageOptions: { sourceType: 'script', globals: globals.browser },
    rules: { '@typescript-eslint/no-unused-vars': ['error', { caughtErrors: 'none' }] },
  },
  {
    // The action catalogue and everything else in src/domain is pure: readable by the API, the CLI and
    // the worker alike, without loading executors, the database or the network.
    files: ['src/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ['pg', 'nodemailer', 'node:net', 'node:http', 'node:https', 'node:dns', 'node:child_process'].map((name) => ({
            name,
            message: 'src/domain is pure: I/O belongs to src/db or src/activities.',
          })),
          patterns: [
            { regex: '^(\\.\\./)+(activities|db|api|cli|worker|workflows|config)(/|$)', message: 'src/domain depends on nothing outside it.' },
            { regex: '^@temporalio/', message: 'src/domain is pure: Temporal belongs to src/activities and src/workflows.' },
          ],
        },
      ],
    },
  },
  {
    // The API and the CLI learn the action catalogue from src/domain/actions; they never load executors.
    files: ['src/api/**/*.ts', 'src/cli/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(\\.\\./)+activities(/|$)',
              message: 'The API and CLI read the action catalogue from src/domain/actions, not the activities.',
            },
          ],
        },
      ],
    },
  },
  {
    // Temporal workflow code runs in the deterministic sandbox and is replayed from history: it may
    // not do I/O or read the host's clock, randomness or environment. Date and Math.random are safe:
    // the sandbox replaces them with deterministic versions, as it does setTimeout.
    files: ['src/workflows/**/*.ts', 'bench/workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: WORKFLOW_BANNED_MODULES, patterns: WORKFLOW_BANNED_PATTERNS }],
      'no-restricted-globals': [
        'error',
        { name: 'process', message: `The host's process (env, argv, time) ${NOT_DETERMINISTIC}: pass what is needed in the workflow input.` },
        { name: 'require', message: 'Workflow code imports statically: the bundler resolves the modules, nothing loads at run time.' },
        { name: 'setImmediate', message: 'Not in the workflow sandbox: use wf.sleep or a condition.' },
        { name: 'clearImmediate', message: 'Not in the workflow sandbox.' },
        { name: 'Buffer', message: 'Node-only, not in the workflow sandbox: use TextEncoder or Uint8Array.' },
        { name: '__dirname', message: 'Workflow code has no file system.' },
        { name: '__filename', message: 'Workflow code has no file system.' },
        { name: 'crypto', message: `Host randomness ${NOT_DETERMINISTIC}: use wf.uuid4() or Math.random (seeded by the sandbox).` },
        { name: 'fetch', message: 'Network I/O belongs in an activity.' },
        { name: 'WeakRef', message: `Garbage collection ${NOT_DETERMINISTIC}: the sandbox throws on WeakRef.` },
        { name: 'FinalizationRegistry', message: `Garbage collection ${NOT_DETERMINISTIC}: the sandbox throws on FinalizationRegistry.` },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'globalThis', property: 'crypto', message: `Host randomness ${NOT_DETERMINISTIC}: use wf.uuid4().` },
        { object: 'globalThis', property: 'process', message: `The host's process ${NOT_DETERMINISTIC}: pass what is needed in the workflow input.` },
        { object: 'globalThis', property: 'setImmediate', message: 'Not in the workflow sandbox: use wf.sleep or a condition.' },
        { object: 'crypto', property: 'randomUUID', message: `Host randomness ${NOT_DETERMINISTIC}: use wf.uuid4().` },
        { object: 'crypto', property: 'getRandomValues', message: `Host randomness ${NOT_DETERMINISTIC}: use Math.random (seeded by the sandbox).` },
      ],
      'no-restricted-syntax': [
        'error',
        { selector: 'ImportExpression', message: 'No dynamic import in workflow code: the bundle is built ahead of time from static imports.' },
        { selector: 'TSExternalModuleReference', message: 'No `import x = require()` in workflow code: use a static import.' },
      ],
    },
  },
);
