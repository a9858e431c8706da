import { expect } from 'chai';
import * as path from 'node:path';
import { openStore } from '../../src';
import { tempDir } from '../helpers/temp';
import { runFixture, startWorker } from '../helpers/spawn-ts';

const WRITERS = 8;
/** 500 each in npm test; 5,000 each in the long reliability run (RELIABILITY_LONG=1). */
const PER_WRITER = Number(process.env.MULTI_WRITER_APPENDS ?? (process.env.RELIABILITY_LONG === '1' ? 5000 : 500));

describe('several processes on one sqlite store', function () {
  this.timeout(600_000);

  it(`keeps every acknowledged write exactly once, positions strictly increasing (${WRITERS} processes × ${PER_WRITER} appends)`, async () => {
    const url = `sqlite:${path.join(tempDir(), 'osis.db')}`;
    const started = Date.now();
    const runs = await Promise.all(
      Array.from({ length: WRITERS }, (_, w) => runFixture('writer.ts', [url, `w${w}`, String(PER_WRITER), w % 2 ? '1' : '25', 'normal'])),
    );
    const seconds = (Date.now() - started) / 1000;
    for (const run of runs) expect(run.code, run.stderr).to.equal(0);
    const acknowledged = runs.flatMap((r) => r.stdout.split('\n').filter(Boolean));
    expect(acknowledged).to.have.length(WRITERS * PER_WRITER);
    const store = await openStore(url, { schema: { types: { user: { unique: ['email'] } } } });
    try {
      const events = await store.log.readAll(1);
      const positions = events.map((e) => e.position);
      expect(positions.every((p, i) => i === 0 || p > positions[i - 1]), 'positions strictly increase').to.equal(true);
      const sids = events.map((e) => e.sid);
      expect(new Set(sids).size, 'no duplicates').to.equal(sids.length);
      expect(new Set(sids)).to.deep.equal(new Set(acknowledged));
      expect((await store.verify()).ok).to.equal(true);
      // eslint-disable-next-line no-console
      console.log(
        `      [figure] ${WRITERS} processes × ${PER_WRITER} appends (BEGIN IMMEDIATE, durability normal) in ${seconds.toFixed(1)} s: ` +
          `0 escaped SQLITE_BUSY (every writer exited 0), ${WRITERS * PER_WRITER - new Set(sids).size} lost, ${sids.length - new Set(sids).size} duplicated`,
      );
    } finally {
      await store.close();
    }
  });

  it('lets exactly one of two processes racing for one unique email win, every round', async () => {
    const url = `sqlite:${path.join(tempDir(), 'osis.db')}`;
    const racers = [startWorker('racer.ts'), startWorker('racer.ts')];
    try {
      for (let round = 0; round < 20; round++) {
        const goAt = Date.now() + 50;
        const answers = (
          await Promise.all(racers.map((r, i) => r.ask({ url, sid: `r${round}p${i}`, email: `e${round}@x`, goAt })))
        ).map((line) => JSON.parse(line));
        expect(answers.filter((a) => a.ok), `round ${round}`).to.have.length(1);
        expect(answers.filter((a) => a.code === 'UNIQUE_VIOLATION'), `round ${round}`).to.have.length(1);
      }
    } finally {
      await Promise.all(racers.map((r) => r.stop()));
    }
    const store = await openStore(url);
    try {
      expect(await store.log.head()).to.equal(20);
    } finally {
      await store.close();
    }
  });

  it('shows each process the others’ writes (monotonic reads across processes)', async () => {
    const url = `sqlite:${path.join(tempDir(), 'osis.db')}`;
    const a = await openStore(url);
    const b = await openStore(url);
    try {
      for (let i = 0; i < 20; i++) {
        const writer = i % 2 ? a : b;
        const reader = i % 2 ? b : a;
        await writer.collection('note')._new({ i }, { sid: `n${i}` });
        expect(await reader.collection('note')._get(`n${i}`)).to.deep.equal({ sid: `n${i}`, i });
        expect((await reader.collection('note')._list({ limit: 100 })).items).to.have.length(i + 1);
      }
    } finally {
      await a.close();
      await b.close();
    }
  });
});
