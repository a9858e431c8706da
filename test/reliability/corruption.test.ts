import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect } from 'chai';
import { openStore, type StoredEvent } from '../../src';
import { FileEventLog } from '../../src/backends/file/file-log';
import { verifyLogDir } from '../../src/backends/file/verify-log';
import { tempDir } from '../helpers/temp';
import { RELIABILITY, figure } from './helpers/config';
import { expectProjectionsMatchLog } from './helpers/parity';

const SEGMENT = '00000000000000000001.otoml';
const SCHEMA = { types: { user: { index: ['n'], text: ['name'] } } };

/** Offsets where frames start (`#@ pos=` at a line start). */
function frameStarts(bytes: Buffer): number[] {
  const out: number[] = [];
  for (let i = bytes.indexOf('#@ pos='); i >= 0; i = bytes.indexOf('#@ pos=', i + 1)) if (bytes[i - 1] === 0x0a) out.push(i);
  return out;
}

/** How one damaged copy of the log fared. */
type Outcome = 'intact' | 'repaired' | 'detected' | 'silent-loss';

async function examine(dir: string, acknowledged: StoredEvent[], keep: number): Promise<Outcome> {
  const problems = verifyLogDir(dir).problems;
  let log: FileEventLog;
  try {
    log = await FileEventLog.open(dir, { durability: 'normal', onWarning: () => undefined });
  } catch (error) {
    if ((error as { code?: string }).code === 'CORRUPT') return 'detected';
    throw error;
  }
  try {
    let events: StoredEvent[];
    try {
      events = await log.readAll(1);
    } catch (error) {
      if ((error as { code?: string }).code === 'CORRUPT') return 'detected';
      throw error;
    }
    if (problems.length > 0) return 'detected';
    // Only a torn tail may shorten the log, and only by what the damage physically removed.
    if (JSON.stringify(events) !== JSON.stringify(acknowledged.slice(0, events.length)) || events.length < keep) return 'silent-loss';
    const torn = verifyLogDir(dir).incompleteTail !== undefined;
    // The next append is where the writer repairs a torn tail.
    const [next] = await log.append([{ type: 'user', sid: 'after', kind: 'created', data: { sid: 'after' } }]);
    expect(next.position).to.equal(events.length + 1);
    const after = verifyLogDir(dir);
    expect(after.problems).to.deep.equal([]);
    expect(after.incompleteTail).to.equal(undefined);
    return events.length === acknowledged.length && !torn ? 'intact' : 'repaired';
  } finally {
    await log.close();
  }
}

describe('corruption of the file log: torn tails repaired, mid-log damage detected, silent loss 0', function () {
  this.timeout(0);
  let base: string;
  let bytes: Buffer;
  let events: StoredEvent[];
  let starts: number[];
  const work = () => path.join(tempDir(), 'log');
  const copy = (to: string, segment: Buffer, sidecar: boolean) => {
    fs.cpSync(base, to, { recursive: true });
    if (!sidecar) for (const f of fs.readdirSync(to)) if (f.startsWith('projections.db')) fs.rmSync(path.join(to, f));
    fs.writeFileSync(path.join(to, SEGMENT), segment);
  };

  before(async () => {
    base = path.join(tempDir(), 'base');
    const store = await openStore(`file:${base}`, { schema: SCHEMA, durability: 'full' });
    const users = store.collection('user');
    for (let i = 0; i < 24; i++) await users._new({ n: i, name: `user ${i} ünï "q"`, tags: ['a', i], nested: { deep: { x: i } } }, { sid: `u${i}` });
    await users._update('u3', { name: 'changed' });
    await users._delete('u4');
    events = await store.log.readAll(1);
    await store.close();
    bytes = fs.readFileSync(path.join(base, SEGMENT));
    starts = frameStarts(bytes);
    expect(starts).to.have.length(events.length);
  });

  it('truncated at every byte offset of the last three records: repaired, nothing before the cut lost', async () => {
    const from = starts[starts.length - 3];
    let tried = 0;
    let repaired = 0;
    for (let cut = from; cut < bytes.length; cut++) {
      const dir = work();
      copy(dir, bytes.subarray(0, cut), cut % 2 === 0);
      const complete = starts.filter((s, i) => (starts[i + 1] ?? bytes.length) <= cut).length;
      const outcome = await examine(dir, events, complete);
      tried++;
      expect(outcome, `cut at ${cut}`).to.be.oneOf(['repaired', 'intact']);
      // A cut exactly at a frame boundary leaves a clean, shorter log: nothing to repair.
      if (outcome === 'repaired') repaired++;
      else expect(cut, 'only a cut at a frame boundary leaves nothing to repair').to.equal(starts[complete]);
      if (cut % 25 === 0) {
        // Through the store, with the sidecar still holding projections of what the cut removed.
        const again = work();
        copy(again, bytes.subarray(0, cut), true);
        const store = await openStore(`file:${again}`, { schema: SCHEMA });
        try {
          await store.collection('user')._new({ n: 99 }, { sid: 'after' });
          expect((await store.verify()).problems).to.deep.equal([]);
          await expectProjectionsMatchLog(store, `cut at ${cut}`);
        } finally {
          await store.close();
        }
      }
      fs.rmSync(dir, { recursive: true, force: true });
    }
    figure(`torn tails: ${repaired} of ${tried} truncation offsets (every byte of the last three records) repaired, every event before the cut kept (0 lost)`);
  });

  it('4 KiB of zeros or garbage: after the end repaired or refused, over the middle always detected', async () => {
    const tally: Record<string, number> = {};
    const note = (k: string) => (tally[k] = (tally[k] ?? 0) + 1);
    const zeros = Buffer.alloc(4096);
    const garbage = () => Buffer.from(Array.from({ length: 4096 }, () => 1 + Math.floor(Math.random() * 255)));
    for (const [kind, fill] of [['zeros', () => zeros], ['garbage', garbage]] as const) {
      for (const sidecar of [true, false]) {
        const dir = work();
        copy(dir, Buffer.concat([bytes, fill()]), sidecar);
        const outcome = await examine(dir, events, events.length);
        expect(outcome, `${kind} after the end`).to.be.oneOf(kind === 'zeros' ? ['repaired'] : ['detected']);
        note(`${kind} after the end: ${outcome}`);
      }
      const lastMid = starts[starts.length - 3] - 4096;
      for (let i = 0; i < 20; i++) {
        const at = Math.floor(Math.random() * lastMid);
        const damaged = Buffer.from(bytes);
        fill().copy(damaged, at);
        const dir = work();
        copy(dir, damaged, i % 2 === 0);
        const outcome = await examine(dir, events, events.length);
        expect(outcome, `${kind} at ${at}`).to.equal('detected');
        note(`${kind} mid-log: ${outcome}`);
      }
    }
    figure(`4 KiB zeros/garbage: ${Object.entries(tally).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  });

  it(`a random byte flipped anywhere (${RELIABILITY.flips} trials): detected or harmless, never silent loss`, async () => {
    const tally: Record<Outcome, number> = { intact: 0, repaired: 0, detected: 0, 'silent-loss': 0 };
    for (let t = 0; t < RELIABILITY.flips; t++) {
      const at = Math.floor(Math.random() * bytes.length);
      const damaged = Buffer.from(bytes);
      damaged[at] ^= 1 + Math.floor(Math.random() * 255);
      const dir = work();
      copy(dir, damaged, t % 2 === 0);
      const outcome = await examine(dir, events, events.length);
      tally[outcome]++;
      expect(outcome, `flip at ${at}: ${JSON.stringify(bytes.subarray(Math.max(0, at - 30), at + 30).toString())}`).to.not.equal('silent-loss');
      expect(outcome, `flip at ${at}`).to.not.equal('repaired');
      fs.rmSync(dir, { recursive: true, force: true });
    }
    figure(`byte flips: ${RELIABILITY.flips} trials: ${tally.detected} detected, ${tally.intact} harmless (data identical), 0 repaired away, 0 silent loss`);
  });
});
