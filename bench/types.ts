import type { BenchReceiver } from './receiver';
import type { BenchStack } from './stack';
import type { LatencySummary } from './stats';

/** One figure next to what the issue aims for. */
export interface Aim {
  figure: string;
  aim: string;
  measured: string;
  /** null when there is nothing to judge (e.g. the scenario was skipped). */
  met: boolean | null;
}

export interface ScenarioOutcome {
  throughput: { value: number; unit: string } | null;
  latency: (LatencySummary & { what: string }) | null;
  aims: Aim[];
  details: Record<string, number | string | boolean | null>;
}

export interface ScenarioResult extends ScenarioOutcome {
  id: number;
  name: string;
  status: 'ok' | 'skipped' | 'failed';
  reason?: string;
  /** Peak RSS (MiB) sampled every 250 ms while the scenario ran. */
  rssPeakMb: { api: number; worker: number; temporal: number };
  /** CPU seconds each part used during the scenario (PostgreSQL: backends of aire_bench open at its end). */
  cpuSeconds: Record<string, number>;
  durationS: number;
}

export interface BenchContext {
  stack: BenchStack;
  receiver: BenchReceiver;
  quick: boolean;
  /** In-flight limit of the closed loops (throughput scenarios). */
  concurrency: number;
  log: (line: string) => void;
  /** Results so far, by scenario id (scenario 2 compares with 1, scenario 3 runs at half of 2). */
  results: Map<number, ScenarioResult>;
  /** Figures the running scenario measured so far: kept if the watchdog cuts it short. */
  interim: Record<string, number | string | boolean | null>;
}

export class Skip extends Error {}

export interface Scenario {
  id: number;
  name: string;
  run(ctx: BenchContext): Promise<ScenarioOutcome>;
}
