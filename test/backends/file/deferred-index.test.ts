import { expect } from 'chai';
import Database from 'better-sqlite3';
import * as path from 'node:path';
import { SIDECAR_FILE } from '../../../src/backends/file/sidecar';
import { expectCode } from '../../helpers/expect-error';
import { created, freshDir, openLog } from './helpers';

/** The index checkpoint position as another connection sees it in the sidecar. */
function indexedPosition(dir: string): number {
  const db = new Database(path.join(dir, SIDECAR_FILE), { readonly: true });
  try {
    return (db.prepare('SELECT position FROM log_state WHERE id = 1').get() as { position: number }).position;
  } finally {
    db.close();
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('file backend: the writer indexes its own appends in batches', function () {
  this.timeout(30_000);

  it('checks versions and unique keys against appends not yet indexed', async () => {
    const dir = freshDir();
    // A long delay, so nothing is indexed while the appends below are checked.
    const { log } = await openLog(dir, { unique: { user: ['email'] }, indexDelayMs: 60_000 });
    try {
      await log.append([created('a', { email: 'x@example.org' })]);
      await log.append([{ type: 'user', sid: 'a', kind: 'updated', data: { sid: 'a', email: 'y@example.org' }, expectedVersion: 1 }]);
      expect(indexedPosition(dir), 'nothing indexed yet').to.equal(0);
      await expectCode(log.append([created('b', { email: 'y@example.org' })]), 'UNIQUE_VIOLATION');
      await expectCode(log.append([{ type: 'user', sid: 'a', kind: 'updated', data: { sid: 'a' }, expectedVersion: 1 }]), 'VERSION_CONFLICT');
      await expectCode(log.append([created('a')]), 'VERSION_CONFLICT');
      await log.append([created('c', { email: 'x@example.org' })]);
      expect((await log.streamState('user', 'a')).version).to.equal(2);
    } finally {
      await log.close();
    }
  });

  it('replays an idempotent append whose first copy is not yet indexed', async () => {
    const dir = freshDir();
    const { log } = await openLog(dir, { indexDelayMs: 60_000 });
    try {
      const first = await log.append([created('a')], { idempotencyKey: 'k1' });
      const again = await log.append([created('a')], { idempotencyKey: 'k1' });
      expect(again).to.deep.equal(first);
      expect(await log.head()).to.equal(1);
    } finally {
      await log.close();
    }
  });

  it('indexes within a few milliseconds without any read, before a read, and on close', async () => {
    const dir = freshDir();
    const { log } = await openLog(dir);
    await log.append([created('a')]);
    // The 10 ms timer; a loaded machine may run it late, never not at all.
    for (let waited = 0; indexedPosition(dir) < 1 && waited < 5000; waited += 20) await sleep(20);
    expect(indexedPosition(dir), 'indexed on the timer').to.equal(1);
    await log.close();
    const { log: slow } = await openLog(dir, { indexDelayMs: 60_000 });
    await slow.append([created('b')]);
    expect(indexedPosition(dir), 'waiting').to.equal(1);
    expect((await slow.readAll(2)).map((e) => e.sid)).to.deep.equal(['b']);
    expect(indexedPosition(dir), 'indexed before the read').to.equal(2);
    await slow.append([created('c')]);
    await slow.close();
    expect(indexedPosition(dir), 'indexed on close').to.equal(3);
  });

  it('another reader of the directory sees waiting appends by reading the log', async () => {
    const dir = freshDir();
    const { log: writer } = await openLog(dir, { indexDelayMs: 60_000 });
    const { log: reader } = await openLog(dir);
    try {
      for (let i = 0; i < 5; i++) await writer.append([created(`u${i}`)]);
      expect((await reader.readAll(1)).map((e) => e.sid)).to.deep.equal(['u0', 'u1', 'u2', 'u3', 'u4']);
      await writer.append([created('u5')]);
      expect((await writer.readAll(1)).map((e) => e.position)).to.deep.equal([1, 2, 3, 4, 5, 6]);
      expect(indexedPosition(dir)).to.equal(6);
    } finally {
      await reader.close();
      await writer.close();
    }
  });
});
