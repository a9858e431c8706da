import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { InvalidInputError } from '../index';
import { BenchContext, sizesFor } from './context';
import { checkTargets } from './report';
import { runFind, runGet } from './scenarios/reads';
import { runOpen, runRebuild } from './scenarios/open-rebuild';
import { runWrites } from './scenarios/writes';
import { runPersonal } from './scenarios/personal';
import { now } from './stats';
import { availableTargets } from './targets';
import type { BenchOptions, BenchReport, ScenarioResult } from './types';

export { formatTable, checkTargets } from './report';
export type { BenchOptions, BenchReport, BenchRow, ScenarioResult, TargetCheck } from './types';

/** Scenario groups in run order; `only` picks groups or scenario ids within them. */
export const BENCH_GROUPS = ['new', 'get', 'find', 'open', 'rebuild', 'erase'] as const;

const OPTION_KEYS = new Set(['json', 'quick', 'only', 'scale', 'progress', 'tmpDir']);

/**
 * Run the benchmark: the store through its public API and the raw baselines doing the same rows, in
 * one process with interleaved rounds, so the figures are ratios measured side by side. Data lives in
 * a temporary directory that is removed afterwards.
 */
export async function runBench(options: BenchOptions = {}): Promise<BenchReport> {
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.has(key)) throw new InvalidInputError(`unknown bench option ${JSON.stringify(key)} (expected ${[...OPTION_KEYS].join(', ')})`);
  }
  const scale = options.scale ?? 1;
  if (typeof scale !== 'number' || !Number.isFinite(scale) || scale <= 0 || scale > 100) {
    throw new InvalidInputError(`bench scale must be a number above 0 and at most 100, got ${JSON.stringify(scale)}`);
  }
  const only = options.only;
  if (only !== undefined) {
    if (!Array.isArray(only) || only.some((o) => typeof o !== 'string')) throw new InvalidInputError('bench only must be a list of scenario names');
    const unknown = only.filter((o) => !BENCH_GROUPS.includes(o.split('.')[0] as (typeof BENCH_GROUPS)[number]));
    if (unknown.length > 0) throw new InvalidInputError(`unknown bench scenario ${JSON.stringify(unknown[0])} (groups: ${BENCH_GROUPS.join(', ')})`);
  }
  const progress = options.progress ?? (options.json ? () => undefined : (line: string) => process.stderr.write(`bench: ${line}\n`));
  const quick = options.quick === true;
  const startedAt = new Date().toISOString();
  const start = now();
  const loadAtStart = os.loadavg()[0];
  const root = fs.mkdtempSync(path.join(options.tmpDir ?? os.tmpdir(), 'osis-bench-'));
  try {
    const { targets, skipped } = await availableTargets(root);
    for (const s of skipped) progress(`skipping ${s.subject}: ${s.reason}`);
    const ctx = new BenchContext(sizesFor(quick, scale), targets, root, progress, only);
    const scenarios: ScenarioResult[] = [];
    for (const run of [runWrites, runGet, runFind, runOpen, runRebuild, runPersonal]) scenarios.push(...(await run(ctx)));
    const cpus = os.cpus();
    return {
      startedAt,
      durationMs: now() - start,
      quick,
      scale,
      machine: {
        node: process.version,
        platform: `${process.platform}-${process.arch}`,
        cpus: cpus.length,
        cpuModel: cpus[0]?.model.trim() ?? 'unknown',
        memoryGiB: Math.round(os.totalmem() / 2 ** 30),
        loadAverage: [loadAtStart, os.loadavg()[0]],
      },
      scenarios,
      targets: checkTargets(scenarios),
      skipped,
      notes: [
        'sids are minted by the store (ULID); the raw baselines mint theirs with a pooled-random ULID (src/bench/fast-ulid.ts)',
        'raw reads (get, FTS5, open) query the sqlite store\'s own file through a separate better-sqlite3 connection; ' +
          'raw FTS5 is `SELECT ... FROM (SELECT rowid, rank FROM fts WHERE fts MATCH ? ORDER BY rank, rowid LIMIT 20) JOIN objects` (the fastest raw form for the store\'s answer)',
        'cold open: a fresh openStore in this process (SQLite cache empty, OS page cache warm), _get of a random sid, ' +
          '_find of a term in exactly 20 objects at every size',
        ...ctx.notes,
      ],
    };
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}
