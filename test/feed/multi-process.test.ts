import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openStore, type ProposedEvent, type StoredEvent } from '../../src';
import { fileFixture, memoryFixture, sqliteFixture } from '../conformance/backends';
import { runFixture, startFixture } from '../helpers/spawn-ts';
import { until } from '../helpers/feed';
import { tempDir } from '../helpers/temp';

const SCHEMA = { types: { user: { unique: ['email'] } } };
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

async function fill(url: string, count: number): Promise<void> {
  const store = await openStore(url, { schema: SCHEMA, durability: 'normal' });
  try {
    for (let i = 0; i < count; i += 500) {
      const batch: ProposedEvent[] = range(i, Math.min(count, i + 500) - 1).map((j) => ({ type: 'note', sid: `n${j}`, kind: 'created', data: { sid: `n${j}` } }));
      await store.eventLog.append(batch);
    }
  } finally {
    await store.close();
  }
}

for (const fixture of [memoryFixture, sqliteFixture, fileFixture].filter((f) => f.caps.multiProcess)) {
  describe(`change feed across processes: ${fixture.name}`, function () {
    this.timeout(180_000);

    it('hands over from history to live with no gap or duplicate while this process and two others write', async () => {
      const url = fixture.freshUrl();
      const store = await openStore(url, { schema: SCHEMA, durability: 'normal' });
      try {
        const users = store.collection('user');
        for (let i = 0; i < 40; i++) await users._new({ email: `h${i}@x` }, { sid: `h-${i}` });
        const seen: StoredEvent[] = [];
        let failed: unknown;
        const sub = store.changes({ from: 1, batchSize: 50 }).subscribe({ next: (e) => seen.push(e), error: (e) => (failed = e) });
        const children = Promise.all([runFixture('writer.ts', [url, 'a', '200', '5']), runFixture('writer.ts', [url, 'b', '200', '1'])]);
        const local = (async () => {
          for (let i = 0; i < 150; i++) await users._new({ email: `l${i}@x` }, { sid: `l-${i}` });
        })();
        const [[a, b]] = await Promise.all([children, local]);
        expect(a.code, a.stderr).to.equal(0);
        expect(b.code, b.stderr).to.equal(0);
        await until(() => seen.length >= 590 || failed !== undefined, 'every event to reach the feed', 60_000);
        await new Promise((r) => setTimeout(r, 100));
        sub.unsubscribe();
        expect(failed).to.equal(undefined);
        expect(seen.map((e) => e.position)).to.deep.equal(range(1, 590));
        const acknowledged = [...a.stdout.split('\n'), ...b.stdout.split('\n')].filter(Boolean);
        const sids = new Set(seen.map((e) => e.sid));
        expect(sids.size).to.equal(590);
        for (const sid of acknowledged) expect(sids.has(sid), sid).to.equal(true);
      } finally {
        await store.close();
      }
    });

    it('applies a user projection exactly once although its process is SIGKILLed mid-way, again and again', async () => {
      const url = fixture.freshUrl();
      const total = 2000;
      await fill(url, total);
      const args = [url, 'tally', String(total), '20', '3'];
      for (const threshold of [200, 800, 1400]) {
        const run = startFixture('projector.ts', args);
        await run.line((l) => l.startsWith('at ') && Number(l.slice(3)) >= threshold);
        run.child.kill('SIGKILL');
        expect((await run.exited).signal, `run killed after ${threshold}`).to.equal('SIGKILL');
      }
      const last = startFixture('projector.ts', args);
      await last.line((l) => l === 'done');
      expect((await last.exited).code, last.stderr()).to.equal(0);
      const store = await openStore(url, { schema: SCHEMA, durability: 'normal' });
      try {
        const rows = await store.withProjectionDb((db) => db.prepare('SELECT position FROM feed_tally ORDER BY position, rowid').pluck().all());
        expect(rows).to.deep.equal(range(1, total));
        expect((await store.stats()).subscribers.tally).to.deep.equal({ kind: 'projection', position: total });
      } finally {
        await store.close();
      }
    });

    it('delivers every event at least once to a named subscriber whose process is SIGKILLed and restarted', async () => {
      const url = fixture.freshUrl();
      const total = 1500;
      await fill(url, total);
      const out = path.join(tempDir(), 'delivered.txt');
      const args = [url, 'mailer', String(total), '25', '3', 'subscribe', out];
      for (const threshold of [300, 1000]) {
        const run = startFixture('projector.ts', args);
        await run.line((l) => l.startsWith('at ') && Number(l.slice(3)) >= threshold);
        run.child.kill('SIGKILL');
        expect((await run.exited).signal).to.equal('SIGKILL');
      }
      const last = startFixture('projector.ts', args);
      await last.line((l) => l === 'done');
      expect((await last.exited).code, last.stderr()).to.equal(0);
      const delivered = fs.readFileSync(out, 'utf8').split('\n').filter(Boolean).map(Number);
      expect([...new Set(delivered)].sort((x, y) => x - y)).to.deep.equal(range(1, total));
      // Redelivery is bounded: at most the batch in hand at each kill.
      expect(delivered.length - total).to.be.at.most(2 * 25);
    });
  });
}
