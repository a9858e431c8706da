/** Options of `runBench` (what `osis bench` passes). */
export interface BenchOptions {
  /** The caller prints JSON: progress lines are not written to stderr unless `progress` is given. */
  json?: boolean;
  /** Tiny sizes: the whole run takes seconds (the smoke test in `npm test`). */
  quick?: boolean;
  /** Run only these groups or scenario ids (`new`, `get`, `find`, `open`, `rebuild`, `erase`, or an id such as `find.large.rare`). */
  only?: string[];
  /** Multiply every dataset size and operation count (default 1). */
  scale?: number;
  /** Receives one line per step; default: stderr unless `json`. */
  progress?: (line: string) => void;
  /** Parent directory for the temporary data (default `os.tmpdir()`); it is removed afterwards. */
  tmpDir?: string;
}

/** One measured subject of a scenario: the store through its public API, or a raw baseline. */
export interface BenchRow {
  /** Who did the work: `store sqlite:`, `raw better-sqlite3`, `file-per-object`, … */
  subject: string;
  /** True for raw baselines (the rows the store is compared with). */
  baseline: boolean;
  /** Units of work per second (objects, events, queries, opens). */
  opsPerSec: number;
  /** Median latency of one sample, in ms (see the scenario's `sample`). */
  p50Ms: number;
  /** 99th percentile latency of one sample, in ms. */
  p99Ms: number;
  /** Units of work measured. */
  units: number;
  /** Samples behind p50/p99. */
  samples: number;
  /** For a store row: its throughput divided by each baseline's, by baseline subject. */
  ratios?: Record<string, number>;
}

/** One scenario: the same work done by the store and by its raw baselines, alternating rounds. */
export interface ScenarioResult {
  id: string;
  title: string;
  /** What one latency sample is: `op`, `batch of 1000`, `query`, `open+get+find`, `rebuild`. */
  sample: string;
  /** What `opsPerSec` counts: `objects`, `events`, `queries`, `opens`, `reads`. */
  unit: string;
  rows: BenchRow[];
  /** Sizes and settings the scenario ran with. */
  params: Record<string, number | string>;
}

/** A figure the issues require, checked against this run. */
export interface TargetCheck {
  id: string;
  description: string;
  value: number;
  /** `>=` or `<=` `threshold`. */
  op: '>=' | '<=';
  threshold: number;
  met: boolean;
}

/** Everything one run measured. */
export interface BenchReport {
  startedAt: string;
  durationMs: number;
  quick: boolean;
  scale: number;
  machine: {
    node: string;
    platform: string;
    cpus: number;
    cpuModel: string;
    memoryGiB: number;
    /** 1-minute load average at the start and the end of the run (other work on the machine skews figures). */
    loadAverage: [number, number];
  };
  scenarios: ScenarioResult[];
  targets: TargetCheck[];
  /** Store targets that could not run (for instance a backend not built yet), with the reason. */
  skipped: { subject: string; reason: string }[];
  /** How datasets were made, load times, caveats. */
  notes: string[];
}
