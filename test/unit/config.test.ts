import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, ConfigSchema, loadConfig } from '../../src/config';
import { spawnNode } from '../support/processes';

const OPERATIONS = readFileSync(join(__dirname, '..', '..', 'docs', 'operations.md'), 'utf8');

/** The variables named in the first column of the "## Configuration" table of docs/operations.md. */
function documentedVariables(): string[] {
  const section = OPERATIONS.split(/^## /m).find((s) => s.startsWith('Configuration'));
  if (!section) throw new Error('docs/operations.md has no "## Configuration" section');
  const rows = section.split('\n').filter((line) => line.startsWith('|') && !/^\|\s*-/.test(line));
  const [header, ...body] = rows;
  expect(header).toMatch(/^\|\s*variable\s*\|/);
  return body.flatMap((row) => [...(row.split('|')[1] ?? '').matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((m) => m[1]!));
}

describe('configuration (twelve-factor)', () => {
  test('the documented configuration table lists every variable of ConfigSchema, and nothing else', () => {
    const documented = documentedVariables();
    const keys = Object.keys(ConfigSchema.shape);
    expect(keys.filter((k) => !documented.includes(k))).toEqual([]);
    expect(documented.filter((d) => !keys.includes(d))).toEqual([]);
    // Each variable has one row (a row may name two, like `PORT`, `HOST`).
    expect(documented.filter((d, i) => documented.indexOf(d) !== i)).toEqual([]);
  });

  test('defaults alone make a valid configuration', () => {
    expect(() => loadConfig({})).not.toThrow();
  });

  test.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['DATABASE_URL', 'not a url'],
    ['DATABASE_POOL_SIZE', '0'],
    ['HOST', ''],
    ['AIRE_EGRESS_ALLOWLIST', 'https://hooks.example.com/'],
    ['AIRE_EGRESS_ALLOWLIST', 'api.example.com:443'],
    ['AIRE_EGRESS_ALLOWLIST', '*'],
    ['AIRE_COMMAND_ALLOWLIST', 'restart-cache'],
    ['AIRE_SMTP_PORT', '0'],
    ['AIRE_SMTP_FROM', 'aire'],
    ['AIRE_BODY_LIMIT', 'huge'],
    ['AIRE_WORKER_SHUTDOWN_GRACE', 'soon'],
    ['AIRE_WORKER_METRICS_PORT', '-1'],
    ['AIRE_LOG_LEVEL', 'loud'],
    ['AIRE_LOG_FORMAT', 'xml'],
  ])('%s=%j is refused with the variable named', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`^\\s*${name}(\\.\\d+)?: `, 'm'));
  });

  test.each([
    ['AIRE_EGRESS_ALLOWLIST', ' api.example.com, *.hooks.example.com ,10.0.0.7,[::1],localhost'],
    ['AIRE_COMMAND_ALLOWLIST', '/usr/local/bin/restart-cache,/bin/true'],
    ['AIRE_WORKER_SHUTDOWN_GRACE', '45s'],
  ])('%s=%j is accepted', (name, value) => {
    expect(() => loadConfig({ [name]: value })).not.toThrow();
  });

  /** Starts an entry point with `env` and waits for it to end: a bad setting must stop it at once. */
  async function startWith(script: string, env: Record<string, string>): Promise<{ code: number | string; stderr: string }> {
    // Nothing listens at these addresses: a process that got past its configuration would hang or
    // fail differently, not exit with the configuration message.
    const spawned = spawnNode(script, {
      DATABASE_URL: 'postgres://aire_app@127.0.0.1:1/none',
      TEMPORAL_ADDRESS: '127.0.0.1:1',
      AIRE_WORKER_METRICS_PORT: '0',
      ...env,
    });
    const timer = setTimeout(() => spawned.child.kill('SIGKILL'), 30_000);
    const code = await spawned.exited;
    clearTimeout(timer);
    return { code, stderr: spawned.stderr() };
  }

  test.each([
    ['src/api/main.ts', { PORT: 'abc' }, [/PORT: .*expected number/]],
    ['src/api/main.ts', { AIRE_EGRESS_ALLOWLIST: 'localhost,https://hooks.example.com' }, [/AIRE_EGRESS_ALLOWLIST\.1: each entry must be a host name/]],
    ['src/worker/main.ts', { AIRE_COMMAND_ALLOWLIST: 'restart-cache' }, [/AIRE_COMMAND_ALLOWLIST\.0: each entry must be an absolute path/]],
    [
      'src/worker/main.ts',
      { AIRE_WORKER_SHUTDOWN_GRACE: 'soon', DATABASE_POOL_SIZE: '0', AIRE_LOG_LEVEL: 'loud' },
      [/AIRE_WORKER_SHUTDOWN_GRACE: /, /DATABASE_POOL_SIZE: /, /AIRE_LOG_LEVEL: /],
    ],
  ] as [string, Record<string, string>, RegExp[]][])(
    '%s with %j stops at start, naming the variable',
    async (script, env, messages) => {
      const { code, stderr } = await startWith(script, env);
      expect(code).toBe(1);
      expect(stderr).toMatch(/^invalid configuration:/);
      for (const message of messages) expect(stderr).toMatch(message);
    },
    60_000,
  );
});
