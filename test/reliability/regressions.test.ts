import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect } from 'chai';
import { openStore } from '../../src';
import { readSeedFile, seedStore } from '../../src/api/library/seed';
import { verifyLogDir } from '../../src/backends/file/verify-log';
import { osis } from '../cli/run-osis';
import { expectCode } from '../helpers/expect-error';
import { tempDir } from '../helpers/temp';

/** One test per bug the reliability suite found; each title names the bug. */
describe('regressions found by the reliability suite', () => {
  it('bug: a seed with one invalid object wrote the valid ones before failing; now it writes none', async () => {
    const file = path.join(tempDir(), 'seed.json');
    fs.writeFileSync(file, JSON.stringify({ user: [{ sid: 'ok', name: 'Ann' }, { sid: 'bad', 'Bad-Field': 1 }] }));
    const store = await openStore('memory:');
    try {
      const error = await expectCode((async () => seedStore(store, readSeedFile(file)))(), 'INVALID_INPUT');
      expect(error.message).to.match(/user\[1\].*Bad-Field/);
      expect(await store.log.head()).to.equal(0);
      await expectCode(store.collection('user')._seed([{ sid: 'ok' }, { sid: 'bad', a: { __proto__x: 1, 'no-dash': 2 } }, { sid: 'big', x: 'x'.repeat(1024 * 1024) }]), 'INVALID_INPUT');
      expect(await store.log.head()).to.equal(0);
    } finally {
      await store.close();
    }
  });

  it('bug: null or non-object options threw a TypeError from _new/_get/_set/_update/_delete/_list; now INVALID_INPUT naming the method', async () => {
    const store = await openStore('memory:');
    try {
      const users = store.collection('user');
      await users._new({ name: 'Ann' }, { sid: 'u1' });
      for (const bad of [null, 5, 'x', []]) {
        await expectCode(users._new({ name: 'B' }, bad as never), 'INVALID_INPUT');
        await expectCode(users._get('u1', bad as never), 'INVALID_INPUT');
        await expectCode(users._set({ sid: 'u1' }, bad as never), 'INVALID_INPUT');
        await expectCode(users._update('u1', { a: 1 }, bad as never), 'INVALID_INPUT');
        await expectCode(users._delete('u1', bad as never), 'INVALID_INPUT');
        await expectCode(users._list(bad as never), 'INVALID_INPUT');
      }
      const misspelt = await expectCode(users._set({ sid: 'u1' }, { expectVersion: 1 } as never), 'INVALID_INPUT');
      expect(misspelt.message).to.match(/_set: unknown option "expectVersion"/);
      expect(await store.log.head()).to.equal(1);
    } finally {
      await store.close();
    }
  });

  it('bug: usage errors found by the argument parser printed "error: …" instead of "osis: CODE: …"', () => {
    const run = osis(['new', 'user', '-e5', '--store', 'memory:']);
    expect(run.code).to.equal(2);
    expect(run.stderr).to.match(/^osis: INVALID_INPUT: unknown option '-e5'/);
    expect(osis(['frobnicate']).stderr).to.match(/^osis: INVALID_INPUT: unknown command 'frobnicate'/);
  });

  it('bug: a text query with a NUL or other control character surfaced SQLite\'s "unterminated string" error; now INVALID_INPUT naming it', async () => {
    for (const url of ['memory:', `sqlite:${path.join(tempDir(), 'osis.db')}`]) {
      const store = await openStore(url);
      try {
        await store.collection('note')._new({ body: 'hello world' });
        const error = await expectCode(store.collection('note')._find({ text: 'hello\0world' }), 'INVALID_INPUT');
        expect(error.message).to.equal('text query contains the control character U+0000 at position 6');
        await expectCode(store.collection('note')._find({ text: 'a\u001bb' }), 'INVALID_INPUT');
        expect((await store.collection('note')._find({ text: 'hello\tworld' })).items).to.have.length(1);
      } finally {
        await store.close();
      }
    }
  });

  it('bug: a flipped byte in the last, complete frame of a file log was "repaired" as a torn tail, dropping an acknowledged event; now CORRUPT', async () => {
    const dir = path.join(tempDir(), 'log');
    const store = await openStore(`file:${dir}`);
    for (let i = 0; i < 3; i++) await store.collection('user')._new({ name: `user ${i}` }, { sid: `u${i}` });
    await store.close();
    const segment = path.join(dir, '00000000000000000001.otoml');
    const bytes = fs.readFileSync(segment);
    bytes[bytes.length - 5] ^= 0x20;
    fs.writeFileSync(segment, bytes);
    const report = verifyLogDir(dir);
    expect(report.incompleteTail).to.equal(undefined);
    expect(report.problems).to.have.length(1);
    expect(report.problems[0].message).to.match(/CRC mismatch: the bytes are all there, so this is damage, not a torn write/);
    const reopened = await openStore(`file:${dir}`).catch((error: unknown) => error);
    if (!(reopened instanceof Error)) {
      const error = await expectCode((reopened as import('../../src').Store).collection('user')._new({ name: 'next' }), 'CORRUPT');
      expect(error.message).to.match(/offset \d+/);
      await (reopened as import('../../src').Store).close();
    } else expect((reopened as { code?: string }).code).to.equal('CORRUPT');
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.broken')), 'nothing was cut away').to.deep.equal([]);
  });

  it('bug: a byte of the last frame flipped to zero was taken for an unwritten sector and "repaired", dropping an acknowledged event; now CORRUPT', async () => {
    const dir = path.join(tempDir(), 'log');
    const store = await openStore(`file:${dir}`);
    // The last frame is over 512 bytes long, so a sector boundary falls inside it.
    for (let i = 0; i < 3; i++) await store.collection('user')._new({ name: `user ${i}`, bio: 'b'.repeat(i === 2 ? 1200 : 10) }, { sid: `u${i}` });
    await store.close();
    const segment = path.join(dir, '00000000000000000001.otoml');
    const original = fs.readFileSync(segment);
    const lastFrame = original.lastIndexOf('#@ pos=');
    // The final newline, and a byte inside the payload, each zeroed on its own.
    for (const at of [original.length - 1, lastFrame + Math.floor((original.length - lastFrame) / 2)]) {
      if (at % 512 === 0) continue;
      const bytes = Buffer.from(original);
      bytes[at] = 0;
      fs.writeFileSync(segment, bytes);
      const report = verifyLogDir(dir);
      expect(report.incompleteTail, `zero at ${at}`).to.equal(undefined);
      expect(report.problems, `zero at ${at}`).to.have.length(1);
      const reopened = await openStore(`file:${dir}`).catch((error: unknown) => error);
      if (reopened instanceof Error) expect((reopened as { code?: string }).code).to.equal('CORRUPT');
      else {
        await expectCode((reopened as import('../../src').Store).collection('user')._new({ name: 'next' }), 'CORRUPT');
        await (reopened as import('../../src').Store).close();
      }
      expect(fs.readdirSync(dir).filter((f) => f.endsWith('.broken')), `zero at ${at}: nothing was cut away`).to.deep.equal([]);
    }
    // The segment restored, a verify finds the log whole and lifts the damage the opens above recorded.
    fs.writeFileSync(segment, original);
    const restored = await openStore(`file:${dir}`);
    expect((await restored.verify()).ok).to.equal(true);
    await restored.close();
    // Sectors that never landed (zeros from a sector boundary to the end) are still a torn tail: repaired.
    const torn = Buffer.from(original);
    const boundary = Math.ceil((lastFrame + 1) / 512) * 512;
    expect(boundary).to.be.below(torn.length);
    {
      torn.fill(0, boundary);
      fs.writeFileSync(segment, torn);
      expect(verifyLogDir(dir).incompleteTail).to.not.equal(undefined);
      const repaired = await openStore(`file:${dir}`, { durability: 'full' });
      try {
        await repaired.collection('user')._new({ name: 'next' }, { sid: 'next' });
        expect((await repaired.log.readAll(1)).map((e) => e.sid)).to.deep.equal(['u0', 'u1', 'next']);
      } finally {
        await repaired.close();
      }
    }
  });

  it('bug: withProjectionDb on a file store missed the writer\'s own acknowledged appends, which it indexes up to 10 ms later (the CI flake in "hostile queries … file:": full-text tables appeared after the "before" snapshot)', async () => {
    const store = await openStore(`file:${path.join(tempDir(), 'log')}`, { schema: { types: { item: { text: ['title'] } } } });
    try {
      await Promise.all(Array.from({ length: 20 }, (_, i) => store.collection('item')._new({ title: `item ${i}` }, { sid: `i${i}` })));
      const count = await store.withProjectionDb((db) => db.prepare('SELECT count(*) FROM objects').pluck().get());
      expect(count).to.equal(20);
    } finally {
      await store.close();
    }
  });
});
