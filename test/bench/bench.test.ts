import { expect } from 'chai';
import * as fs from 'node:fs';
import { formatTable, runBench, type BenchReport } from '../../src/bench';
import { InvalidInputError } from '../../src';
import { STORE_TARGETS } from '../../src/bench/targets';
import { tempDir } from '../helpers/temp';

/** Every scenario with the baselines it must report; each also has a row per store target. */
const BASELINES: Record<string, string[]> = {
  'new.one.normal': ['raw better-sqlite3'],
  'new.batch.normal': ['raw better-sqlite3'],
  'new.one.full': ['raw better-sqlite3', 'file-per-object (tmp+fsync+rename)', 'append-only file (write+fdatasync)'],
  'new.batch.full': ['raw better-sqlite3', 'file-per-object (tmp+fsync+rename)', 'append-only file (write+fdatasync)'],
  get: ['raw better-sqlite3'],
  'find.small.rare': ['raw FTS5'],
  'find.small.and': ['raw FTS5'],
  'find.small.common': ['raw FTS5'],
  'find.large.rare': ['raw FTS5'],
  'find.large.and': ['raw FTS5'],
  'find.large.common': ['raw FTS5'],
  'open.small': ['raw better-sqlite3 open'],
  'open.large': ['raw better-sqlite3 open'],
  rebuild: ['raw fold + insert'],
};
const STORES = STORE_TARGETS.map((t) => `store ${t.backend}:`);

/** The `erase` group (issue 14): per store backend, the store with personal fields over the same store without. */
const ERASE_SCENARIOS = STORE_TARGETS.flatMap((t) =>
  ['new.normal', 'new.full', 'get', 'find', 'rebuild', 'erase'].map((s) => ({
    id: `erase.${s}.${t.backend}`,
    store: s === 'erase' ? `store ${t.backend}: _erase` : `store ${t.backend}: personal title+email`,
    baseline: s === 'erase' ? `store ${t.backend}: _delete (no personal fields)` : `store ${t.backend}: no personal fields`,
  })),
);

const positiveFinite = (n: unknown) => typeof n === 'number' && Number.isFinite(n) && n > 0;

describe('benchmark (quick smoke run)', function () {
  this.timeout(120_000);
  let report: BenchReport;
  let parent: string;

  before(async () => {
    parent = tempDir();
    report = await runBench({ quick: true, progress: () => undefined, tmpDir: parent });
  });

  it('reports every scenario for every store backend and its raw baselines, skipping none', () => {
    expect(report.skipped).to.deep.equal([]);
    expect(report.scenarios.map((s) => s.id)).to.have.members([...Object.keys(BASELINES), ...ERASE_SCENARIOS.map((s) => s.id)]);
    for (const [id, baselines] of Object.entries(BASELINES)) {
      const rows = report.scenarios.find((s) => s.id === id)!.rows;
      expect(rows.filter((r) => !r.baseline).map((r) => r.subject), id).to.deep.equal(STORES);
      expect(rows.filter((r) => r.baseline).map((r) => r.subject), id).to.deep.equal(baselines);
    }
    for (const { id, store, baseline } of ERASE_SCENARIOS) {
      const rows = report.scenarios.find((s) => s.id === id)!.rows;
      expect(rows.map((r) => [r.subject, r.baseline]), id).to.deep.equal([[baseline, true], [store, false]]);
    }
  });

  it('gives every row positive finite figures and every store row its ratios to each baseline', () => {
    for (const scenario of report.scenarios) {
      const baselines = scenario.rows.filter((r) => r.baseline).map((r) => r.subject);
      for (const row of scenario.rows) {
        const where = `${scenario.id} / ${row.subject}`;
        for (const key of ['opsPerSec', 'p50Ms', 'p99Ms', 'units', 'samples'] as const) expect(positiveFinite(row[key]), `${where} ${key}`).to.equal(true);
        expect(row.p99Ms, where).to.be.at.least(row.p50Ms);
        if (row.baseline) continue;
        expect(Object.keys(row.ratios ?? {}), where).to.have.members(baselines);
        for (const ratio of Object.values(row.ratios!)) expect(positiveFinite(ratio), where).to.equal(true);
      }
    }
  });

  it('checks the targets of the issues and prints them in the table', () => {
    expect(report.targets.map((t) => t.id)).to.include.members(['new.one.normal', 'new.batch.normal', 'get', 'find.large.rare', 'find.large.and', 'open', 'rebuild']);
    for (const t of report.targets) expect(Number.isFinite(t.value), t.id).to.equal(true);
    const table = formatTable(report);
    for (const id of Object.keys(BASELINES)) expect(table).to.contain(`[${id};`);
    expect(table).to.match(/^Targets$/m);
    expect(JSON.parse(JSON.stringify(report))).to.deep.equal(report);
  });

  it('removes its data afterwards', () => {
    expect(fs.readdirSync(parent)).to.deep.equal([]);
  });

  it('runs only the scenarios asked for, and rejects unknown ones and bad scales', async () => {
    const only = await runBench({ quick: true, only: ['get'], progress: () => undefined, tmpDir: parent });
    expect(only.scenarios.map((s) => s.id)).to.deep.equal(['get']);
    for (const bad of [{ only: ['nope'] }, { scale: 0 }, { scale: Number.NaN }, { quik: true }]) {
      let error: unknown;
      try {
        await runBench({ quick: true, progress: () => undefined, ...(bad as object) });
      } catch (e) {
        error = e;
      }
      expect(error, JSON.stringify(bad)).to.be.instanceOf(InvalidInputError);
    }
  });
});
