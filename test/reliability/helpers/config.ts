/**
 * Sizes of the reliability suite. `npm test` runs the CI sizes; `npm run test:reliability` with
 * RELIABILITY_LONG=1 runs the long sizes; each RELIABILITY_* variable overrides one of them.
 */
const long = process.env.RELIABILITY_LONG === '1';

function size(name: string, ci: number, longRun: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return long ? longRun : ci;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer, got ${JSON.stringify(raw)}`);
  return value;
}

export const RELIABILITY = {
  /** Kill points per backend in the crash loop. */
  kills: size('RELIABILITY_KILLS', 50, 1000),
  /** Kill points per backend in the erase crash test. */
  eraseKills: size('RELIABILITY_ERASE_KILLS', 16, 300),
  /** Runs per fast-check property. */
  runs: size('RELIABILITY_RUNS', 100, 2000),
  /** Seconds of overlapping readers in the WAL checkpoint-starvation test. */
  starvationSeconds: size('RELIABILITY_STARVATION_SECONDS', 6, 60),
  /** Random byte flips in the corruption test. */
  flips: size('RELIABILITY_FLIPS', 1000, 10000),
};

/** Print one figure line under the test that measured it (the suite's figures are read from these). */
export function figure(text: string): void {
  // eslint-disable-next-line no-console
  console.log(`      [figure] ${text}`);
}
