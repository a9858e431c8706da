import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openStore } from '../../../src';
import { SIDECAR_FILE } from '../../../src/backends/file/sidecar';
import { verifyLogDir } from '../../../src/backends/file/verify-log';
import { expectCode } from '../../helpers/expect-error';
import { created, FIRST_SEGMENT, frameOffsets, freshDir, openLog } from './helpers';

function flip(file: string, offset: number): void {
  const bytes = fs.readFileSync(file);
  bytes[offset] ^= 0x20;
  fs.writeFileSync(file, bytes);
}

function removeSidecar(dir: string): void {
  for (const suffix of ['', '-wal', '-shm']) fs.rmSync(path.join(dir, `${SIDECAR_FILE}${suffix}`), { force: true });
}

describe('file backend: corruption is detected, never skipped', function () {
  this.timeout(120_000);
  let dir: string;
  let segment: string;
  let offsets: number[];

  beforeEach(async () => {
    dir = freshDir();
    const { log } = await openLog(dir);
    for (let i = 0; i < 30; i++) await log.append([created(`u${i}`, { name: `name ${i}`, n: i })]);
    await log.close();
    segment = path.join(dir, FIRST_SEGMENT);
    offsets = frameOffsets(segment);
  });

  it('names the segment and offset of a flipped byte mid-log in verify, reads and a rebuilding open', async () => {
    const bad = offsets[14];
    flip(segment, bad + 60);
    const report = verifyLogDir(dir);
    expect(report.problems).to.have.length(1);
    expect(report.problems[0].where).to.equal(`${FIRST_SEGMENT} offset ${bad}`);
    expect(report.problems[0].message).to.match(/CRC mismatch, and a valid frame follows/);

    const { log } = await openLog(dir);
    try {
      const error = await expectCode(log.readAll(1), 'CORRUPT');
      expect(error.message).to.contain(`${FIRST_SEGMENT}: offset ${bad}`);
      await expectCode(log.readStream('user', 'u14'), 'CORRUPT');
      expect((await log.readStream('user', 'u13')).map((e) => e.sid)).to.deep.equal(['u13']);
      expect((await log.verify()).problems).to.have.length(1);
    } finally {
      await log.close();
    }

    removeSidecar(dir);
    const refused = await expectCode(openLog(dir), 'CORRUPT');
    expect(refused.message).to.contain(`${FIRST_SEGMENT}: offset ${bad}`);
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.broken'))).to.deep.equal([]);
    const store = await openStore(`file:${dir}`).catch((e) => e);
    expect(store.code).to.equal('CORRUPT');
  });

  it('refuses to open read-write when damage past the index checkpoint is followed by valid frames', async () => {
    const sidecar = path.join(dir, SIDECAR_FILE);
    const indexedAt30 = fs.readFileSync(sidecar);
    const { log } = await openLog(dir);
    await log.append([created('x1')]);
    await log.append([created('x2')]);
    await log.close();
    removeSidecar(dir);
    fs.writeFileSync(sidecar, indexedAt30);
    const frames = frameOffsets(segment);
    flip(segment, frames[30] + 50);
    const before = fs.readFileSync(segment);
    const error = await expectCode(openLog(dir), 'CORRUPT');
    expect(error.message).to.contain(`${FIRST_SEGMENT}: offset ${frames[30]}`);
    expect(fs.readFileSync(segment)).to.deep.equal(before);
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.broken'))).to.deep.equal([]);
  });

  it('refuses a damaged frame length instead of treating it as a torn tail', async () => {
    const last = offsets[offsets.length - 1];
    const bytes = fs.readFileSync(segment);
    const line = bytes.toString('latin1', last, bytes.indexOf(0x0a, last));
    const len = Number(/len=(\d+)/.exec(line)![1]);
    const damaged = line.replace(`len=${len}`, `len=${len + 5}`);
    expect(damaged.length).to.equal(line.length);
    bytes.write(damaged, last, 'latin1');
    fs.writeFileSync(segment, bytes);
    removeSidecar(dir);
    const error = await expectCode(openLog(dir), 'CORRUPT');
    expect(error.message).to.match(/frame length field is damaged/);
  });

  it('refuses a frame whose position is out of sequence', async () => {
    const bytes = fs.readFileSync(segment).toString('latin1');
    const swapped = bytes.replace('#@ pos=3 ', '#@ pos=4 ');
    fs.writeFileSync(segment, Buffer.from(swapped, 'latin1'));
    const report = verifyLogDir(dir);
    expect(report.problems[0].where).to.equal(`${FIRST_SEGMENT} offset ${offsets[2]}`);
    removeSidecar(dir);
    await expectCode(openLog(dir), 'CORRUPT');
  });

  it('detects a damaged segment header', async () => {
    const bytes = fs.readFileSync(segment);
    bytes[5] ^= 0x01;
    fs.writeFileSync(segment, bytes);
    expect(verifyLogDir(dir).problems[0].where).to.equal(`${FIRST_SEGMENT} offset 0`);
    await expectCode(openLog(dir), 'CORRUPT');
  });

  it('refuses a segment that belongs to another store', async () => {
    fs.writeFileSync(path.join(dir, '00000000000000000031.otoml'), '#! osis-log format=1 store=01JOTHERSTORE0000000000000 first=31\n');
    expect(verifyLogDir(dir).problems[0].message).to.match(/store 01JOTHERSTORE/);
    const error = await expectCode(openLog(dir), 'CORRUPT');
    expect(error.message).to.match(/00000000000000000031.otoml: offset 0: segment of store 01JOTHERSTORE/);
  });
});
