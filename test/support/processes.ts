import { ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';

export const ROOT = join(__dirname, '..', '..');

/** A port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface Spawned {
  child: ChildProcess;
  /** Everything the process wrote to stderr so far. */
  stderr(): string;
  /** Resolves with the exit code (or the signal's name). */
  exited: Promise<number | string>;
}

/**
 * Runs `node --import tsx <script>` from the repository root with the given environment on top of
 * this process's. stdout and stderr are captured.
 */
export function spawnNode(script: string, env: Record<string, string | undefined>): Spawned {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, script)], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  return { child, stderr: () => err, exited };
}

/** A worker as its own process (test/support/worker-process.ts), resolved once it polls. */
export function startWorkerProcess(env: Record<string, string>): Promise<Spawned> {
  const spawned = spawnNode('test/support/worker-process.ts', { AIRE_LOG_LEVEL: 'silent', ...env });
  return new Promise((resolve, reject) => {
    spawned.child.stdout?.on('data', (d: Buffer) => d.toString().includes('worker ready') && resolve(spawned));
    void spawned.exited.then((code) => reject(new Error(`worker exited early (${code}): ${spawned.stderr()}`)));
  });
}

/** The real API entry point (src/api/main.ts) as its own process on `port`, resolved once /readyz answers 200. */
export async function startApiProcess(port: number, env: Record<string, string>): Promise<Spawned & { url: string }> {
  const spawned = spawnNode('src/api/main.ts', { AIRE_LOG_LEVEL: 'silent', HOST: '127.0.0.1', PORT: String(port), ...env });
  const url = `http://127.0.0.1:${port}`;
  let exitedEarly: number | string | undefined;
  void spawned.exited.then((code) => (exitedEarly = code));
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (exitedEarly !== undefined) throw new Error(`API process exited early (${exitedEarly}): ${spawned.stderr()}`);
    const ready = await fetch(`${url}/readyz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ready) return { ...spawned, url };
    await new Promise((r) => setTimeout(r, 200));
  }
  spawned.child.kill('SIGKILL');
  throw new Error(`API process on ${url} not ready within 60 s: ${spawned.stderr()}`);
}

/** Sends `signal` and waits for the process to end (SIGKILL after `graceMs`). */
export async function stopProcess(spawned: Spawned, signal: NodeJS.Signals = 'SIGTERM', graceMs = 10_000): Promise<void> {
  if (spawned.child.exitCode !== null || spawned.child.signalCode !== null) return;
  spawned.child.kill(signal);
  const timer = setTimeout(() => spawned.child.kill('SIGKILL'), graceMs);
  await spawned.exited;
  clearTimeout(timer);
}
