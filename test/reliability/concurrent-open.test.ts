import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect } from 'chai';
import { openStore } from '../../src';
import { OSIS_BIN } from '../cli/run-osis';
import { startWorker, type FixtureWorker } from '../helpers/spawn-ts';
import { tempDir } from '../helpers/temp';
import { figure } from './helpers/config';

const long = process.env.RELIABILITY_LONG === '1';
const PROCESSES = 8;
const ROUNDS = Number(process.env.RELIABILITY_OPEN_ROUNDS ?? (long ? 50 : 5));

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Every way a store is opened, each pointing at a new store per round. */
const KINDS: { name: string; kind: 'store' | 'registry'; url(dir: string, round: number): string }[] = [
  { name: 'sqlite store', kind: 'store', url: (dir, round) => `sqlite:${path.join(dir, `r${round}`, 'osis.db')}` },
  { name: 'file store (log + sidecar)', kind: 'store', url: (dir, round) => `file:${path.join(dir, `r${round}`, 'log')}` },
  { name: 'service context registry (sqlite contexts)', kind: 'registry', url: (dir, round) => `sqlite:${path.join(dir, `r${round}`, 'base.db')}` },
  { name: 'service context registry (file contexts)', kind: 'registry', url: (dir, round) => `file:${path.join(dir, `r${round}`, 'base')}` },
];

describe(`replicas opening one store at the same moment: ${PROCESSES} processes, ${ROUNDS} rounds per kind`, function () {
  this.timeout(0);
  let workers: FixtureWorker[] = [];
  before(async () => {
    workers = Array.from({ length: PROCESSES }, () => startWorker('opener.ts'));
    await Promise.all(workers.map((w) => w.ask({ kind: 'ping' })));
  });
  after(async () => Promise.all(workers.map((w) => w.stop())));

  for (const kind of KINDS) {
    it(`${kind.name}: every process starts, every write and checkpoint lands, the store verifies`, async () => {
      const dir = tempDir();
      const openMs: number[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        const url = kind.url(dir, round);
        const goAt = Date.now() + 400;
        const answers = await Promise.all(workers.map(async (w, i) => JSON.parse(await w.ask({ kind: kind.kind, url, goAt, name: `p${i}` }))));
        for (const [i, answer] of answers.entries()) expect(answer.error === undefined, `round ${round}, process ${i}: ${answer.error}`).to.equal(true);
        openMs.push(...answers.map((a) => a.openMs as number));
        const checkUrl = kind.kind === 'store' ? url : url.replace(/base(\.db)?$/, (_m, ext) => `base.ctx-shared${ext ?? ''}`);
        const store = await openStore(checkUrl);
        try {
          if (kind.kind === 'store') {
            expect((await store.collection('item')._list({ limit: 100 })).items, `round ${round}`).to.have.length(PROCESSES);
            const stats = await store.stats();
            expect(Object.keys(stats.subscribers).filter((n) => n.startsWith('sub_')), `round ${round}`).to.have.length(PROCESSES);
            expect(stats.subscribers.titles?.position, `round ${round}: user projection`).to.be.at.least(1);
          }
          expect((await store.verify()).ok, `round ${round}`).to.equal(true);
        } finally {
          await store.close();
        }
        if (kind.kind === 'registry') {
          const registry = JSON.parse(fs.readFileSync(url.replace(/^(sqlite|file):/, '').replace(/(\.db)?$/, '.contexts.json'), 'utf8'));
          expect(registry.contexts, `round ${round}`).to.have.members(['shared', ...workers.map((_, i) => `p${i}`)]);
        }
      }
      figure(`${kind.name}: ${PROCESSES} processes opening a new store together, ${ROUNDS} rounds: 0 failures; open p50 ${percentile(openMs, 50)} ms, max ${Math.max(...openMs)} ms`);
    });
  }

  it('bug: replicas opening a file store whose sidecar must be rebuilt ran blue-green rebuilds at once and dropped each other\'s shadow tables ("no such table: objects_next"); now one rebuilds, the others wait, and readers never see tables vanish', async () => {
    const dir = path.join(tempDir(), 'log');
    const url = `file:${dir}`;
    const seed = await openStore(url, { schema: { types: { item: { text: ['title'] } } } });
    for (let i = 0; i < 300; i += 50) {
      await Promise.all(Array.from({ length: 50 }, (_, j) => seed.collection('item')._new({ title: `seeded ${i + j}` }, { sid: `s${i + j}` })));
    }
    await seed.close();
    for (let round = 0; round < ROUNDS; round++) {
      for (const f of fs.readdirSync(dir).filter((f) => f.startsWith('projections.db'))) fs.rmSync(path.join(dir, f));
      const goAt = Date.now() + 400;
      const answers = await Promise.all(workers.map(async (w, i) => JSON.parse(await w.ask({ kind: 'store', url, goAt, name: `r${round}p${i}` }))));
      for (const [i, answer] of answers.entries()) expect(answer.error === undefined, `round ${round}, process ${i}: ${answer.error}`).to.equal(true);
      const store = await openStore(url, { schema: { types: { item: { text: ['title'] } } } });
      try {
        expect((await store.collection('item')._find({ text: 'seeded', limit: 1000 })).items, `round ${round}`).to.have.length(300);
        expect((await store.verify()).ok, `round ${round}`).to.equal(true);
      } finally {
        await store.close();
      }
    }
  });
});

describe('an open that cannot succeed fails fast; signals end the CLI', function () {
  this.timeout(60_000);

  it('impossible store paths end at once with UNAVAILABLE (exit 6) naming the path, and create nothing', () => {
    const cases: [string, RegExp][] = [
      ['sqlite:/proc/nope/x.db', /UNAVAILABLE: cannot create the database \/proc\/nope\/x\.db .*mkdir \/proc\/nope: ENOENT/],
      ['file:/proc/nope/log', /UNAVAILABLE: cannot create the log directory in \/proc\/nope\/log: mkdir \/proc\/nope: ENOENT/],
      ['sqlite:/proc/x.db', /UNAVAILABLE: cannot open \/proc\/x\.db: unable to open database file/],
      [`sqlite:${path.join(OSIS_BIN, 'x.db')}`, /UNAVAILABLE: .*is not a directory/],
    ];
    for (const [url, message] of cases) {
      const run = spawnSync(process.execPath, [OSIS_BIN, 'get', 'user', 'a', '--store', url], { encoding: 'utf8', timeout: 20_000 });
      expect(run.signal, `${url} still running after 20 s`).to.equal(null);
      expect(run.status, `${url}: ${run.stderr}`).to.equal(6);
      expect(run.stderr, url).to.match(message);
    }
  });

  /** A process that holds the write lock of a sqlite store until it is killed. */
  function holdWriteLock(file: string): Promise<{ kill(): void }> {
    const script = `const db = new (require('better-sqlite3'))(${JSON.stringify(file)}); db.exec('BEGIN IMMEDIATE'); process.stdout.write('held\\n'); setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['-e', script], { cwd: path.resolve(__dirname, '../..'), stdio: ['ignore', 'pipe', 'inherit'] });
    return new Promise((resolve) => child.stdout.once('data', () => resolve({ kill: () => child.kill('SIGKILL') })));
  }

  it('an open waiting for a lock another process holds fails with LOCKED after the open timeout, and SIGTERM ends it within a second', async () => {
    const file = path.join(tempDir(), 'osis.db');
    const store = await openStore(`sqlite:${file}`);
    await store.collection('user')._new({ name: 'Ann' }, { sid: 'a' });
    await store.close();
    const holder = await holdWriteLock(file);
    try {
      const timedOut = spawnSync(process.execPath, [OSIS_BIN, 'get', 'user', 'a', '--store', `sqlite:${file}`], {
        encoding: 'utf8',
        env: { ...process.env, OSIS_OPEN_TIMEOUT_MS: '1500' },
        timeout: 30_000,
      });
      expect(timedOut.status, timedOut.stderr).to.equal(6);
      expect(timedOut.stderr).to.match(/^osis: LOCKED: cannot open .*still busy after 1\.5 s/);

      const waiting = spawn(process.execPath, [OSIS_BIN, 'get', 'user', 'a', '--store', `sqlite:${file}`], {
        env: { ...process.env, OSIS_OPEN_TIMEOUT_MS: '60000' },
        stdio: 'ignore',
      });
      const exited = new Promise<number>((resolve) => waiting.once('exit', () => resolve(Date.now())));
      await new Promise((r) => setTimeout(r, 1500));
      expect(waiting.exitCode, 'still waiting for the lock').to.equal(null);
      const signalled = Date.now();
      waiting.kill('SIGTERM');
      const tookMs = (await exited) - signalled;
      figure(`SIGTERM to an osis command waiting for a store lock: exited after ${tookMs} ms`);
      expect(tookMs, 'ms from SIGTERM to exit (1 s goal; generous bound for a loaded machine)').to.be.below(5_000);
    } finally {
      holder.kill();
    }
  });
});
