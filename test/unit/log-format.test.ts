import { spawn } from 'node:child_process';
import { ROOT } from '../support/processes';

/**
 * AIRE_LOG_FORMAT, through the real logger in its own process (pino writes to fd 1): `pretty` gives
 * one readable line per entry, `json` (the default) one JSON object per line.
 */

// The entries a worker writes, in shape: a step with its ids, nested fields, an error, a multi-line message.
const SCRIPT = `
const { loadConfig } = require('./src/config');
const { createLogger } = require('./src/logger');
const log = createLogger(loadConfig(process.env), 'worker');
log.info({ tenantId: 't-1', incidentId: 'inc-42', stepId: 'scale-out', action: 'http', attempt: 2, target: { url: 'http://127.0.0.1:1/x', headers: ['a', 'b'] } }, 'step executed');
log.error({ incidentId: 'inc-42', err: new Error('target refused\\nsecond line') }, 'step failed');
log.warn({ sdk: true, sdkComponent: 'activity', workflowId: 'incident/default/x', runId: 'r-1', taskToken: 'Q2lRd01XRXlNMlEyTXk=', namespace: 'default' }, 'first line\\nsecond line');
`;

function runLogger(env: Record<string, string | undefined>): Promise<{ stdout: string; stderr: string; code: number | null }> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, AIRE_LOG_LEVEL: 'info' };
  // The default must be what an unset variable gives, whatever the shell running the tests exported.
  delete childEnv.AIRE_LOG_FORMAT;
  delete childEnv.FORCE_COLOR;
  for (const [k, v] of Object.entries(env)) if (v !== undefined) childEnv[k] = v;
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', SCRIPT], { cwd: ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ stdout, stderr, code })));
}

const ANSI = /\x1b\[[0-9;]*m/g;

describe('log format (AIRE_LOG_FORMAT)', () => {
  test('json is the default: one JSON object per line, every field kept', async () => {
    const { stdout, code, stderr } = await runLogger({});
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    const lines = stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    const entries = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(entries[0]).toMatchObject({ level: 30, component: 'worker', incidentId: 'inc-42', stepId: 'scale-out', msg: 'step executed' });
    expect(entries[1]).toMatchObject({ level: 50, err: { type: 'Error', message: 'target refused\nsecond line' } });
    expect(entries[2]).toMatchObject({ runId: 'r-1', msg: 'first line\nsecond line' });
  });

  test('pretty: one line per entry, no JSON, the incident and the step first', async () => {
    const { stdout, code, stderr } = await runLogger({ AIRE_LOG_FORMAT: 'pretty' });
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    const lines = stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(3); // three entries, a multi-line message and an error included
    for (const line of lines) {
      expect(line).not.toMatch(/[{}]/);
      expect(line).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] (INFO|WARN|ERROR): worker /);
      expect(line).not.toMatch(ANSI); // not a terminal: no colour codes
    }
    const [step, failure, sdk] = lines as [string, string, string];
    expect(step).toMatch(/INFO: worker step executed incident=inc-42 step=scale-out /);
    // Every other field stays, as key=value; nested ones as dotted keys.
    for (const field of ['tenantId=t-1', 'action=http', 'attempt=2', 'target.url=http://127.0.0.1:1/x', 'target.headers=a,b']) expect(step).toContain(field);
    expect(failure).toMatch(/ERROR: worker step failed incident=inc-42 err="Error: target refused\\nsecond line" \(at \[eval\]/); // quoted, so the newline stays escaped
    expect(sdk).toContain('WARN: worker first line ⏎ second line workflowId=incident/default/x');
    for (const noise of ['runId', 'taskToken', 'sdkComponent', 'namespace']) expect(sdk).not.toContain(noise); // SDK bookkeeping is left to the JSON format
  });

  test('pretty in a colour terminal: level, incident and step coloured', async () => {
    const { stdout } = await runLogger({ AIRE_LOG_FORMAT: 'pretty', FORCE_COLOR: '1' });
    const step = stdout.split('\n')[0] ?? '';
    expect(step).toMatch(ANSI);
    expect(step).toContain('\x1b[35mincident=inc-42'); // magenta
    expect(step).toContain('\x1b[33mstep=scale-out'); // yellow
    expect(step.replace(ANSI, '')).toMatch(/INFO: worker step executed incident=inc-42 step=scale-out tenantId=t-1/);
  });
});
