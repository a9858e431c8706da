import * as fs from 'node:fs';
import * as path from 'node:path';
import type { StoreTarget } from './targets';

/** Sizes of one run. `quick` shrinks every one so the whole benchmark takes seconds. */
export interface Sizes {
  /** One-at-a-time `_new` per subject at durability normal / full. */
  oneNormal: number;
  oneFull: number;
  /** Objects per concurrent batch, and batches per subject at normal / full. */
  batch: number;
  batchRoundsNormal: number;
  batchRoundsFull: number;
  /** Interleaved rounds per subject for the per-op scenarios. */
  rounds: number;
  getObjects: number;
  getOps: number;
  findSmall: number;
  findLarge: number;
  /** Queries per subject for rare and AND terms, and for the common term. */
  findQueries: number;
  findCommonQueries: number;
  openSmall: number;
  openLarge: number;
  openRepeats: number;
  rebuildObjects: number;
  rebuildEventsPerObject: number;
  rebuildRounds: number;
}

const FULL: Sizes = {
  oneNormal: 10_000,
  oneFull: 1_000,
  batch: 1_000,
  batchRoundsNormal: 20,
  batchRoundsFull: 5,
  rounds: 5,
  getObjects: 10_000,
  getOps: 200_000,
  findSmall: 100_000,
  findLarge: 1_000_000,
  findQueries: 200,
  findCommonQueries: 20,
  openSmall: 1_000,
  openLarge: 200_000,
  openRepeats: 7,
  rebuildObjects: 100_000,
  rebuildEventsPerObject: 10,
  rebuildRounds: 2,
};

const QUICK: Sizes = {
  oneNormal: 200,
  oneFull: 20,
  batch: 100,
  batchRoundsNormal: 3,
  batchRoundsFull: 2,
  rounds: 2,
  getObjects: 500,
  getOps: 2_000,
  findSmall: 1_000,
  findLarge: 3_000,
  findQueries: 10,
  findCommonQueries: 4,
  openSmall: 100,
  openLarge: 2_000,
  openRepeats: 2,
  rebuildObjects: 500,
  rebuildEventsPerObject: 10,
  rebuildRounds: 1,
};

/** Counts that `scale` multiplies (dataset sizes and operation counts, not batch size or rounds). */
const SCALED: (keyof Sizes)[] = ['oneNormal', 'oneFull', 'getObjects', 'getOps', 'findSmall', 'findLarge', 'findQueries', 'findCommonQueries', 'openSmall', 'openLarge', 'rebuildObjects'];

export function sizesFor(quick: boolean, scale: number): Sizes {
  const sizes = { ...(quick ? QUICK : FULL) };
  for (const key of SCALED) sizes[key] = Math.max(1, Math.round(sizes[key] * scale));
  return sizes;
}

/** What every scenario group gets: sizes, the stores to measure, a scratch directory, progress and notes. */
export class BenchContext {
  readonly notes: string[] = [];
  private n = 0;

  constructor(
    readonly sizes: Sizes,
    readonly targets: readonly StoreTarget[],
    private readonly root: string,
    readonly progress: (line: string) => void,
    private readonly only: readonly string[] | undefined,
  ) {}

  /** A new empty directory under the run's scratch directory. */
  dir(name: string): string {
    const dir = path.join(this.root, `${String(++this.n).padStart(2, '0')}-${name}`);
    fs.mkdirSync(dir, { recursive: true });
    return dir;
  }

  /** Remove a directory made by `dir` (big datasets go as soon as they are measured). */
  drop(dir: string): void {
    fs.rmSync(dir, { recursive: true, force: true });
  }

  /** Whether scenario `id` (`group.rest`) was asked for. */
  wants(id: string): boolean {
    if (!this.only || this.only.length === 0) return true;
    return this.only.some((o) => id === o || id.startsWith(`${o}.`) || o.startsWith(`${id}.`));
  }
}
