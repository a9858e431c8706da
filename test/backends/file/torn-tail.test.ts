import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { verifyLogDir } from '../../../src/backends/file/verify-log';
import { WriterLock } from '../../../src/backends/file/writer-lock';
import { tempDir } from '../../helpers/temp';
import { copyDir, created, FIRST_SEGMENT, frameOffsets, freshDir, openLog } from './helpers';

describe('file backend: torn tails', function () {
  this.timeout(300_000);

  /** A closed log with `acknowledged` appends, and the bytes of one more append that will be torn. */
  async function prepare(acknowledged: number, tornEvents: number) {
    const base = freshDir();
    let { log } = await openLog(base, { durability: 'full' });
    for (let i = 0; i < acknowledged; i++) await log.append([created(`a${i}`, { name: `acknowledged ${i} ünï "q"`, nested: { list: [i, null] } })]);
    const events = await log.readAll(1);
    await log.close();
    const segment = path.join(base, FIRST_SEGMENT);
    const good = fs.readFileSync(segment);
    const withTail = freshDir();
    copyDir(base, withTail);
    ({ log } = await openLog(withTail));
    await log.append(Array.from({ length: tornEvents }, (_, i) => created(`t${i}`, { name: 'never acknowledged' })));
    await log.close();
    const full = fs.readFileSync(path.join(withTail, FIRST_SEGMENT));
    return { base, good, tail: full.subarray(good.length), events };
  }

  it('repairs a tail torn at every byte of the last record: no acknowledged event is lost', async () => {
    const { base, good, tail, events } = await prepare(12, 1);
    const dir = freshDir();
    for (let cut = 1; cut < tail.length; cut++) {
      copyDir(base, dir);
      const segment = path.join(dir, FIRST_SEGMENT);
      fs.writeFileSync(segment, Buffer.concat([good, tail.subarray(0, cut)]));
      const { log, warnings } = await openLog(dir);
      try {
        expect(await log.head(), `cut at ${cut}`).to.equal(12);
        expect(await log.readAll(1)).to.deep.equal(events);
        expect(fs.statSync(segment).size, 'opening repaired without the lock').to.equal(good.length + cut);
        const [next] = await log.append([created('after')]);
        expect(next.position).to.equal(13);
        expect(fs.statSync(segment).size).to.be.greaterThan(good.length);
        expect(await log.readAll(1)).to.deep.equal([...events, next]);
        const broken = fs.readdirSync(dir).filter((f) => f.endsWith('.broken'));
        expect(broken).to.deep.equal([`${FIRST_SEGMENT}.${good.length}.broken`]);
        expect(fs.readFileSync(path.join(dir, broken[0]))).to.deep.equal(tail.subarray(0, cut));
        expect(warnings.join('\n')).to.match(new RegExp(`repaired a torn tail: ${FIRST_SEGMENT} offset ${good.length}`));
      } finally {
        await log.close();
      }
    }
  });

  it('removes a whole append when it is torn after some of its frames: appends stay atomic', async () => {
    const { base, good, tail, events } = await prepare(5, 3);
    const dir = freshDir();
    const starts = frameOffsets(path.join(base, FIRST_SEGMENT));
    expect(starts).to.have.length(5);
    for (const cut of [tail.indexOf('#@ pos=7'), tail.indexOf('#@ pos=8') + 20, tail.length - 1]) {
      copyDir(base, dir);
      fs.writeFileSync(path.join(dir, FIRST_SEGMENT), Buffer.concat([good, tail.subarray(0, cut)]));
      const { log } = await openLog(dir);
      try {
        expect(await log.head()).to.equal(5);
        expect(await log.readAll(1)).to.deep.equal(events);
        expect(await log.readStream('user', 't0')).to.deep.equal([]);
        const [next] = await log.append([created('after')]);
        expect(next.position).to.equal(6);
        expect((await log.readAll(1)).map((e) => e.sid)).to.deep.equal([...events.map((e) => e.sid), 'after']);
      } finally {
        await log.close();
      }
    }
  });

  it('repairs a zero-filled tail (a crash after the file grew but before its data landed)', async () => {
    const { base, good } = await prepare(3, 1);
    fs.writeFileSync(path.join(base, FIRST_SEGMENT), Buffer.concat([good, Buffer.alloc(4096)]));
    const { log } = await openLog(base);
    try {
      expect(await log.head()).to.equal(3);
      await log.append([created('after')]);
      expect(await log.head()).to.equal(4);
      expect(verifyLogDir(base).problems).to.deep.equal([]);
    } finally {
      await log.close();
    }
  });

  it('lets readers treat an incomplete tail as not yet written, and never repair it', async () => {
    const { base, good, tail } = await prepare(4, 1);
    const segment = path.join(base, FIRST_SEGMENT);
    fs.writeFileSync(segment, Buffer.concat([good, tail.subarray(0, 30)]));
    const holder = new WriterLock(base);
    expect(holder.tryAcquire()).to.equal(true);
    try {
      const { log, warnings } = await openLog(base);
      expect(await log.head()).to.equal(4);
      expect((await log.readAll(1)).map((e) => e.position)).to.deep.equal([1, 2, 3, 4]);
      expect(fs.statSync(segment).size).to.equal(good.length + 30);
      expect(fs.readdirSync(base).filter((f) => f.endsWith('.broken'))).to.deep.equal([]);
      expect(warnings).to.deep.equal([]);
      holder.drop();
      const [event] = await log.append([created('writer')]);
      expect(event.position).to.equal(5);
      expect(fs.readdirSync(base).filter((f) => f.endsWith('.broken'))).to.have.length(1);
      await log.close();
    } finally {
      holder.drop();
    }
  });

  it('picks up appends another writer made, then keeps its own offset', async () => {
    const dir = path.join(tempDir(), 'log');
    const a = (await openLog(dir)).log;
    const b = (await openLog(dir)).log;
    try {
      await a.append([created('from-a')]);
      expect(await b.head()).to.equal(1);
      const [fromB] = await b.append([created('from-b')]);
      expect(fromB.position).to.equal(2);
      const [again] = await a.append([created('from-a-2')]);
      expect(again.position).to.equal(3);
      expect((await b.readAll(1)).map((e) => e.sid)).to.deep.equal(['from-a', 'from-b', 'from-a-2']);
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe('file backend: the writer lock', function () {
  this.timeout(60_000);

  it('takes over a lock left behind by a writer that died', async () => {
    const dir = freshDir();
    const { log } = await openLog(dir);
    await log.close();
    const lockDir = path.join(dir, 'writer.lock');
    fs.mkdirSync(lockDir);
    const old = new Date(Date.now() - 60_000);
    fs.utimesSync(lockDir, old, old);
    const reopened = (await openLog(dir)).log;
    try {
      const [event] = await reopened.append([created('after-takeover')]);
      expect(event.position).to.equal(1);
    } finally {
      await reopened.close();
    }
  });

  it('fails with LOCKED, writing nothing, while another writer keeps the lock too long', async () => {
    const dir = freshDir();
    await (await openLog(dir)).log.close();
    const { log } = await openLog(dir, { lock: { timeoutMs: 300 } });
    const holder = new WriterLock(dir);
    expect(holder.tryAcquire()).to.equal(true);
    try {
      const error = await log.append([created('blocked')]).catch((e) => e);
      expect(error.code).to.equal('LOCKED');
      expect(error.message).to.match(/locked by another writer/);
      holder.drop();
      expect(await log.head()).to.equal(0);
      const [event] = await log.append([created('now')]);
      expect(event.position).to.equal(1);
    } finally {
      holder.drop();
      await log.close();
    }
  });
});
