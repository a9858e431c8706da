import { STORE_TARGETS, storeSubject } from './targets';
import type { BenchReport, BenchRow, ScenarioResult, TargetCheck } from './types';
import { APPEND_ONLY, FILE_PER_OBJECT, RAW_SQLITE } from './scenarios/writes';

const SQLITE = storeSubject(STORE_TARGETS.find((t) => t.backend === 'sqlite')!);
const FILE = storeSubject(STORE_TARGETS.find((t) => t.backend === 'file')!);

function row(scenarios: readonly ScenarioResult[], id: string, subject: string): BenchRow | undefined {
  return scenarios.find((s) => s.id === id)?.rows.find((r) => r.subject === subject);
}

/** The figures issues 2 and 3 require, checked against the rows this run measured (absent rows are skipped). */
export function checkTargets(scenarios: readonly ScenarioResult[]): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const add = (id: string, description: string, value: number | undefined, op: '>=' | '<=', threshold: number) => {
    if (value === undefined || !Number.isFinite(value)) return;
    checks.push({ id, description, value, op, threshold, met: op === '>=' ? value >= threshold : value <= threshold });
  };
  const ratio = (id: string, subject: string, baseline: string) => row(scenarios, id, subject)?.ratios?.[baseline];
  add('new.one.normal', `${SQLITE} one-at-a-time _new (normal) vs ${RAW_SQLITE}`, ratio('new.one.normal', SQLITE, RAW_SQLITE), '>=', 0.5);
  add('new.batch.normal', `${SQLITE} 1,000 concurrent _new (normal) vs ${RAW_SQLITE}`, ratio('new.batch.normal', SQLITE, RAW_SQLITE), '>=', 0.5);
  add('get', `${SQLITE} _get vs ${RAW_SQLITE} select + JSON.parse`, ratio('get', SQLITE, RAW_SQLITE), '>=', 0.6);
  for (const subject of [SQLITE, FILE]) {
    add('find.large.rare', `${subject} _find p99 ms, rare term`, row(scenarios, 'find.large.rare', subject)?.p99Ms, '<=', 10);
    add('find.large.and', `${subject} _find p99 ms, two-term AND`, row(scenarios, 'find.large.and', subject)?.p99Ms, '<=', 10);
    const small = row(scenarios, 'open.small', subject)?.p50Ms;
    const large = row(scenarios, 'open.large', subject)?.p50Ms;
    if (small !== undefined && large !== undefined) add('open', `${subject} cold open large / small (p50)`, large / small, '<=', 3);
  }
  add('rebuild', `${SQLITE} rebuild events/s incl. FTS`, row(scenarios, 'rebuild', SQLITE)?.opsPerSec, '>=', 150_000);
  add('rebuild', `${FILE} rebuild events/s incl. FTS`, row(scenarios, 'rebuild', FILE)?.opsPerSec, '>=', 100_000);
  add('new.one.full', `${FILE} one-at-a-time _new (full) vs ${FILE_PER_OBJECT}`, ratio('new.one.full', FILE, FILE_PER_OBJECT), '>=', 2);
  add('new.one.full', `${FILE} one-at-a-time _new (full) vs ${APPEND_ONLY}`, ratio('new.one.full', FILE, APPEND_ONLY), '>=', 0.6);
  add('new.batch.full', `${FILE} 1,000 concurrent _new (full) vs ${FILE_PER_OBJECT}`, ratio('new.batch.full', FILE, FILE_PER_OBJECT), '>=', 10);
  const fileBatch = row(scenarios, 'new.batch.full', FILE)?.opsPerSec;
  const sqliteBatch = row(scenarios, 'new.batch.full', SQLITE)?.opsPerSec;
  if (fileBatch !== undefined && sqliteBatch !== undefined) {
    add('new.batch.full', `${FILE} 1,000 concurrent _new (full) vs ${SQLITE}`, fileBatch / sqliteBatch, '>=', 0.5);
  }
  return checks;
}

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const ms = (n: number) => (n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n >= 1 ? n.toFixed(2) : n.toFixed(3));
const pad = (s: string, n: number) => (s.length >= n ? s : s + ' '.repeat(n - s.length));
const lpad = (s: string, n: number) => (s.length >= n ? s : ' '.repeat(n - s.length) + s);

/** The report as a plain-text table: one block per scenario, then the targets. */
export function formatTable(report: BenchReport): string {
  const m = report.machine;
  const lines: string[] = [
    `osis-store benchmark  ${report.startedAt}  ${report.quick ? 'QUICK (smoke sizes, figures not meaningful)' : 'full'}  scale ${report.scale}`,
    `node ${m.node} ${m.platform}, ${m.cpus} x ${m.cpuModel}, ${m.memoryGiB} GiB; load average ${m.loadAverage.map((l) => l.toFixed(1)).join(' -> ')}; took ${(report.durationMs / 1000).toFixed(1)} s`,
    `ratio = this row's ops/s / the baseline's ops/s, measured in the same run with interleaved rounds`,
    '',
  ];
  const subjectWidth = Math.max(28, ...report.scenarios.flatMap((s) => s.rows.map((r) => r.subject.length + 2)));
  lines.push(`${pad('subject', subjectWidth)}${lpad('ops/s', 12)}${lpad('p50 ms', 10)}${lpad('p99 ms', 10)}${lpad('n', 12)}  ratio`);
  for (const s of report.scenarios) {
    lines.push(`${s.title}  [${s.id}; sample = ${s.sample}, ops = ${s.unit}]`);
    for (const r of s.rows) {
      const ratios = r.ratios ? Object.entries(r.ratios).map(([b, x]) => `${x.toFixed(2)}x ${b}`).join(', ') : 'baseline';
      lines.push(
        `  ${pad(r.subject, subjectWidth - 2)}${lpad(int(r.opsPerSec), 12)}${lpad(ms(r.p50Ms), 10)}${lpad(ms(r.p99Ms), 10)}${lpad(int(r.units), 12)}  ${ratios}`,
      );
    }
  }
  if (report.targets.length > 0) {
    lines.push('', 'Targets');
    for (const t of report.targets) {
      const value = t.value >= 1000 ? int(t.value) : t.value.toFixed(2);
      const threshold = t.threshold >= 1000 ? int(t.threshold) : String(t.threshold);
      lines.push(`  ${t.met ? 'PASS' : 'MISS'}  ${pad(t.id, 17)} ${t.description}: ${value} (needs ${t.op} ${threshold})`);
    }
  }
  if (report.skipped.length > 0) {
    lines.push('', 'Skipped');
    for (const s of report.skipped) lines.push(`  ${s.subject}: ${s.reason}`);
  }
  if (report.notes.length > 0) {
    lines.push('', 'Notes');
    for (const n of report.notes) lines.push(`  - ${n}`);
  }
  return `${lines.join('\n')}\n`;
}
