import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openStore } from '../../../src';
import { verifyLogDir } from '../../../src/backends/file/verify-log';
import { tempDir } from '../../helpers/temp';
import { runFixture } from '../../helpers/spawn-ts';
import { openLog } from './helpers';

describe('file backend: several processes', function () {
  this.timeout(300_000);

  it('takes appends from two processes through the writer lock: no interleaving, no duplicate positions', async () => {
    const dir = path.join(tempDir(), 'log');
    const url = `file:${dir}`;
    const seen: number[] = [];
    const reader = await openStore(url, { schema: { types: { user: { unique: ['email'] } } } });
    const polling = setInterval(() => void reader.log.head().then((h) => seen.push(h)), 20);
    const [a, b] = await Promise.all([runFixture('writer.ts', [url, 'a', '300', '10', 'full']), runFixture('writer.ts', [url, 'b', '300', '1', 'full'])]);
    clearInterval(polling);
    expect(a.code, a.stderr).to.equal(0);
    expect(b.code, b.stderr).to.equal(0);
    const acknowledged = [...a.stdout.split('\n'), ...b.stdout.split('\n')].filter(Boolean);
    expect(acknowledged).to.have.length(600);
    try {
      const events = await reader.log.readAll(1);
      expect(events.map((e) => e.position)).to.deep.equal(Array.from({ length: 600 }, (_, i) => i + 1));
      expect(new Set(events.map((e) => e.sid))).to.deep.equal(new Set(acknowledged));
      expect((await reader.collection('user')._list({ limit: 1000 })).items).to.have.length(600);
      expect(seen.every((h, i) => i === 0 || h >= seen[i - 1])).to.equal(true);
      const report = verifyLogDir(dir);
      expect(report.problems).to.deep.equal([]);
      expect(report.events).to.equal(600);
      expect((await reader.verify()).ok).to.equal(true);
    } finally {
      await reader.close();
    }
  });

  it('hands the lock between two appending processes: appends stay whole, positions unique and gapless', async () => {
    const dir = path.join(tempDir(), 'log');
    const go = path.join(tempDir(), 'go');
    const runs = [runFixture('file-appender.ts', [dir, 'a', '150', go, '20']), runFixture('file-appender.ts', [dir, 'b', '150', go, '20'])];
    // Both processes must be open and waiting before either starts, or a slow start-up means no contention.
    const ready = () => ['a', 'b'].every((p) => fs.existsSync(`${go}.${p}.ready`));
    const deadline = Date.now() + 60_000;
    while (!ready() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    fs.writeFileSync(go, '');
    const [a, b] = await Promise.all(runs);
    expect(a.code, a.stderr).to.equal(0);
    expect(b.code, b.stderr).to.equal(0);
    const { log } = await openLog(dir);
    try {
      const events = await log.readAll(1);
      expect(events.map((e) => e.position)).to.deep.equal(Array.from({ length: 900 }, (_, i) => i + 1));
      for (const line of [...a.stdout.split('\n'), ...b.stdout.split('\n')].filter(Boolean)) {
        const positions = line.split(',').map(Number);
        const sids = positions.map((p) => events[p - 1].sid);
        expect(positions[1] - positions[0]).to.equal(1);
        expect(positions[2] - positions[1]).to.equal(1);
        expect(new Set(sids.map((s) => s.replace(/-\d$/, ''))).size, `append ${line} was interleaved`).to.equal(1);
      }
      let turns = 0;
      for (let i = 1; i < events.length; i++) if (events[i].sid[0] !== events[i - 1].sid[0]) turns++;
      expect(turns, 'the processes never took turns').to.be.at.least(2);
      expect(verifyLogDir(dir).problems).to.deep.equal([]);
    } finally {
      await log.close();
    }
  });

  it('holds unique keys across processes: each contested value is won exactly once', async () => {
    const url = `file:${path.join(tempDir(), 'log')}`;
    const [a, b] = await Promise.all([runFixture('unique-racer.ts', [url, 'a', '150']), runFixture('unique-racer.ts', [url, 'b', '150'])]);
    expect(a.code, a.stderr).to.equal(0);
    expect(b.code, b.stderr).to.equal(0);
    const wins = [...a.stdout.split('\n'), ...b.stdout.split('\n')].filter((l) => l.startsWith('won '));
    expect(wins.map((l) => l.slice(4)).sort()).to.deep.equal(Array.from({ length: 150 }, (_, k) => String(k)).sort());
    const store = await openStore(url, { schema: { types: { user: { unique: ['email'] } } } });
    try {
      expect(await store.log.head()).to.equal(150);
    } finally {
      await store.close();
    }
  });
});
