import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { verifyLogDir } from '../../../src/backends/file/verify-log';
import { created, FIRST_SEGMENT, frameOffsets, freshDir, openLog } from './helpers';

describe('file backend: group commit', function () {
  this.timeout(60_000);

  it('acknowledges concurrent appends with one write and one fdatasync', async () => {
    const dir = freshDir();
    const { log } = await openLog(dir, { durability: 'full' });
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const realFs = require('node:fs') as { fdatasync: typeof fs.fdatasync };
    const original = realFs.fdatasync;
    let syncs = 0;
    realFs.fdatasync = ((fd: number, cb: (e: NodeJS.ErrnoException | null) => void) => {
      syncs++;
      return original(fd, cb);
    }) as typeof fs.fdatasync;
    try {
      const stored = await Promise.all(Array.from({ length: 50 }, (_, i) => log.append([created(`c${i}`), created(`d${i}`)])));
      expect(syncs).to.equal(1);
      expect(stored.flat().map((e) => e.position).sort((a, b) => a - b)).to.deep.equal(Array.from({ length: 100 }, (_, i) => i + 1));
      for (const pair of stored) expect(pair[1].position).to.equal(pair[0].position + 1);
    } finally {
      realFs.fdatasync = original;
      await log.close();
    }
  });

  it('writes no frame for a request that fails, while the others in its batch commit', async () => {
    const dir = freshDir();
    const { log } = await openLog(dir);
    try {
      await log.append([created('taken', { email: 'x' })]);
      const results = await Promise.allSettled([
        log.append([created('a1'), created('a2')]),
        log.append([created('b1'), created('taken')]),
        log.append([created('c1', { bad: 'lone \ud800 surrogate' })]),
        log.append([created('d1')]),
      ]);
      expect(results.map((r) => r.status)).to.deep.equal(['fulfilled', 'rejected', 'rejected', 'fulfilled']);
      expect((results[1] as PromiseRejectedResult).reason.code).to.equal('VERSION_CONFLICT');
      expect((results[2] as PromiseRejectedResult).reason.code).to.equal('INVALID_INPUT');
      const events = await log.readAll(1);
      expect(events.map((e) => e.sid)).to.deep.equal(['taken', 'a1', 'a2', 'd1']);
      expect(frameOffsets(path.join(dir, FIRST_SEGMENT))).to.have.length(4);
      expect(fs.readFileSync(path.join(dir, FIRST_SEGMENT), 'utf8')).not.to.match(/sid = "(b1|c1)"/);
      expect(verifyLogDir(dir).problems).to.deep.equal([]);
    } finally {
      await log.close();
    }
  });
});
