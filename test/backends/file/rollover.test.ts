import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseSegmentFileName } from '../../../src/backends/file/segment-files';
import { verifyLogDir } from '../../../src/backends/file/verify-log';
import { created, freshDir, openLog } from './helpers';

describe('file backend: segment rollover', function () {
  this.timeout(120_000);

  it('starts a new segment, named by its first position, once a segment reaches the configured size', async () => {
    const dir = freshDir();
    const { log } = await openLog(dir, { segmentBytes: 4096 });
    const reader = (await openLog(dir)).log;
    try {
      for (let i = 0; i < 120; i++) {
        const batch = i % 10 === 0 ? [created(`b${i}`), created(`c${i}`, { x: 'y'.repeat(300) })] : [created(`s${i}`, { body: 'z'.repeat(i * 3) })];
        await log.append(batch);
      }
      const head = await log.head();
      const segments = fs.readdirSync(dir).filter((f) => parseSegmentFileName(f) !== undefined).sort();
      expect(segments.length).to.be.greaterThan(5);
      expect(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'))).to.deep.equal([]);
      const all = await log.readAll(1);
      expect(all.map((e) => e.position)).to.deep.equal(Array.from({ length: head }, (_, i) => i + 1));
      for (const name of segments) {
        const first = parseSegmentFileName(name)!;
        const text = fs.readFileSync(path.join(dir, name), 'utf8');
        expect(text.startsWith(`#! osis-log format=1 store=`)).to.equal(true);
        expect(text.split('\n')[0]).to.match(new RegExp(` first=${first}$`));
        if (text.includes('#@ ')) expect(text.split('\n')[1]).to.match(new RegExp(`^#@ pos=${first} part=1/`));
        if (name !== segments[segments.length - 1]) expect(fs.statSync(path.join(dir, name)).size).to.be.at.most(4096 + 1024);
      }
      for (const batchStart of all.filter((e) => e.sid.startsWith('b'))) {
        const [, second] = await log.readAll(batchStart.position, { limit: 2 });
        expect(second.sid).to.equal(`c${batchStart.sid.slice(1)}`);
      }
      expect((await log.readAll(head - 2)).map((e) => e.position)).to.deep.equal([head - 2, head - 1, head]);
      expect(await reader.head()).to.equal(head);
      expect(await reader.readAll(1)).to.deep.equal(all);
      expect((await reader.readStream('user', 's77'))[0].data).to.deep.equal({ sid: 's77', body: 'z'.repeat(231) });
      const report = verifyLogDir(dir);
      expect(report).to.include({ events: head, head, segments: segments.length });
      expect(report.problems).to.deep.equal([]);
    } finally {
      await log.close();
      await reader.close();
    }
    const reopened = (await openLog(dir, { segmentBytes: 4096 })).log;
    try {
      const [next] = await reopened.append([created('after-reopen')]);
      expect(next.position).to.equal((await reopened.readAll(1)).length);
    } finally {
      await reopened.close();
    }
  });

  it('keeps an append larger than a segment whole, in a segment of its own', async () => {
    const dir = freshDir();
    const { log } = await openLog(dir, { segmentBytes: 4096 });
    try {
      await log.append([created('small')]);
      const big = Array.from({ length: 20 }, (_, i) => created(`big${i}`, { pad: 'p'.repeat(400) }));
      const stored = await log.append(big);
      expect(fs.existsSync(path.join(dir, '00000000000000000002.otoml'))).to.equal(true);
      expect(stored.map((e) => e.position)).to.deep.equal(Array.from({ length: 20 }, (_, i) => i + 2));
      const [after] = await log.append([created('after')]);
      expect(fs.existsSync(path.join(dir, `${String(after.position).padStart(20, '0')}.otoml`))).to.equal(true);
    } finally {
      await log.close();
    }
  });

  it('reads frames larger than a read chunk, by position and by stream', async () => {
    const dir = freshDir();
    const { log } = await openLog(dir);
    try {
      const big = 'ü'.repeat(600_000);
      await log.append([created('small')]);
      await log.append([created('huge', { big })]);
      await log.append([{ type: 'user', sid: 'huge', kind: 'updated', data: { sid: 'huge', big: `${big}!` } }]);
      expect((await log.readStream('user', 'huge')).map((e) => (e.data.big as string).length)).to.deep.equal([600_000, 600_001]);
      expect((await log.readAll(2, { types: ['user'], limit: 1 }))[0].data.big).to.equal(big);
      expect((await log.readAll(1)).map((e) => e.position)).to.deep.equal([1, 2, 3]);
    } finally {
      await log.close();
    }
  });
});
