import { performance } from 'node:perf_hooks';
import type { BenchRow, ScenarioResult } from './types';

/** What one subject measured: per-sample latencies, the wall time of all samples and the units of work. */
export interface Samples {
  latencies: number[];
  totalMs: number;
  units: number;
}

/** A subject of a scenario: `round(r)` does one round of the work and returns what it measured. */
export interface Subject {
  name: string;
  baseline: boolean;
  round: (round: number) => Promise<Samples> | Samples;
}

export const now = (): number => performance.now();

/** Time `fn` once; the sample is its wall time. */
export async function timeOnce(fn: () => unknown, units: number): Promise<Samples> {
  const start = now();
  await fn();
  const ms = now() - start;
  return { latencies: [ms], totalMs: ms, units };
}

/** Time each of `count` calls of `fn(i)`; every call is one unit and one sample. */
export async function timeEach(count: number, fn: (i: number) => unknown): Promise<Samples> {
  const latencies = new Array<number>(count);
  const start = now();
  for (let i = 0; i < count; i++) {
    const t = now();
    await fn(i);
    latencies[i] = now() - t;
  }
  return { latencies, totalMs: now() - start, units: count };
}

/** The same as `timeEach` for synchronous work (no await between calls). */
export function timeEachSync(count: number, fn: (i: number) => unknown): Samples {
  const latencies = new Array<number>(count);
  const start = now();
  for (let i = 0; i < count; i++) {
    const t = now();
    fn(i);
    latencies[i] = now() - t;
  }
  return { latencies, totalMs: now() - start, units: count };
}

/**
 * Run the subjects' rounds interleaved (A B C A B C …) so that a noisy machine slows them alike, and
 * merge each subject's rounds. `warmup` rounds run first and are not counted.
 */
export async function alternate(subjects: readonly Subject[], rounds: number, warmup = 0): Promise<Map<string, Samples>> {
  const merged = new Map<string, Samples>(subjects.map((s) => [s.name, { latencies: [], totalMs: 0, units: 0 }]));
  for (let r = -warmup; r < rounds; r++) {
    for (const subject of subjects) {
      const samples = await subject.round(r);
      if (r < 0) continue;
      const into = merged.get(subject.name)!;
      for (const latency of samples.latencies) into.latencies.push(latency);
      into.totalMs += samples.totalMs;
      into.units += samples.units;
    }
  }
  return merged;
}

/** The value at quantile `q` (0..1) of ascending `sorted`, by nearest rank. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil(q * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))];
}

/** A table row from merged samples. */
export function toRow(subject: Subject | { name: string; baseline: boolean }, samples: Samples): BenchRow {
  const sorted = [...samples.latencies].sort((a, b) => a - b);
  return {
    subject: subject.name,
    baseline: subject.baseline,
    opsPerSec: samples.units / (samples.totalMs / 1000),
    p50Ms: quantile(sorted, 0.5),
    p99Ms: quantile(sorted, 0.99),
    units: samples.units,
    samples: sorted.length,
  };
}

/** Build a scenario from its subjects' samples, with each store row's ratio to every baseline. */
export function scenario(
  head: Omit<ScenarioResult, 'rows'>,
  subjects: readonly { name: string; baseline: boolean }[],
  measured: Map<string, Samples>,
): ScenarioResult {
  const rows = subjects.map((s) => toRow(s, measured.get(s.name)!));
  const baselines = rows.filter((r) => r.baseline);
  for (const row of rows) {
    if (row.baseline || baselines.length === 0) continue;
    row.ratios = Object.fromEntries(baselines.map((b) => [b.subject, row.opsPerSec / b.opsPerSec]));
  }
  return { ...head, rows };
}
