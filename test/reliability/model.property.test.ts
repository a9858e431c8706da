import { expect } from 'chai';
import fc from 'fast-check';
import { openStore, type Store } from '../../src';
import type { Collection } from '../../src/api/library/collection';
import { fileFixture, memoryFixture, sqliteFixture, type BackendFixture } from '../conformance/backends';
import { RELIABILITY, figure } from './helpers/config';
import { MODEL_SCHEMA, Model, SIDS, WORDS, opArb, type Op, type Outcome } from './helpers/model';
import { expectProjectionsMatchLog } from './helpers/parity';

/** Backends the model properties run on. */
const BACKENDS: BackendFixture[] = [memoryFixture, sqliteFixture, fileFixture];

async function run(items: Collection, op: Op, expected: unknown): Promise<Outcome> {
  const ev = expected === undefined ? {} : { expectedVersion: expected as never };
  try {
    switch (op.op) {
      case 'new':
        return { ok: true, data: await items._new(op.data, { sid: op.sid }) };
      case 'set':
        return { ok: true, data: await items._set({ ...op.data, sid: op.sid }, ev) };
      case 'update':
        return { ok: true, data: await items._update(op.sid, op.patch, ev) };
      case 'delete':
        await items._delete(op.sid, ev);
        return { ok: true };
    }
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === undefined) throw error;
    return { ok: false, code };
  }
}

/** Everything the store answers about its objects must equal the model. */
async function expectStoreEqualsModel(store: Store, model: Model, label: string): Promise<void> {
  const items = store.collection('item');
  const live = model.live();
  const listed = await items._list_full({ limit: 100 });
  expect(listed.items, `${label}: _list_full`).to.deep.equal(live.map(([, data]) => data));
  for (const sid of SIDS) {
    const state = model.state(sid);
    expect(await items._exists(sid), `${label}: _exists ${sid}`).to.equal(state.exists);
    if (state.exists) {
      const record = (await items._get(sid, { withMeta: true })) as { object: unknown; version: number };
      expect(record.object, `${label}: _get ${sid}`).to.deep.equal(state.data);
      expect(record.version, `${label}: version of ${sid}`).to.equal(state.version);
    }
    if (state.version > 0) expect(await items._history(sid), `${label}: history of ${sid}`).to.have.length(state.version);
  }
  for (let n = 0; n <= 3; n++) {
    const found = await items._find({ filter: { n }, limit: 100 });
    expect(found.items, `${label}: _find n=${n}`).to.deep.equal(live.filter(([, d]) => d.n === n).map(([sid]) => sid));
  }
  for (const word of WORDS) {
    const found = await items._find({ text: word, limit: 100 });
    const expected = live.filter(([, d]) => typeof d.title === 'string' && d.title.split(' ').includes(word)).map(([sid]) => sid);
    expect([...found.items].sort(), `${label}: _find text ${word}`).to.deep.equal(expected);
  }
  const report = await store.verify();
  expect(report.problems, `${label}: verify`).to.deep.equal([]);
  await expectProjectionsMatchLog(store, label);
}

describe('property: random _new/_set/_update/_delete with OCC equal an in-memory model and a fresh rebuild', function () {
  this.timeout(0);

  for (const fixture of BACKENDS) {
    it(`${fixture.name}: every answer equals the model's; projections equal the model, the log and a fresh rebuild${fixture.caps.persistent ? ', also after reopening' : ''}`, async () => {
      let runs = 0;
      let ops = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 40, size: 'medium' }), async (sequence) => {
          runs++;
          const url = fixture.freshUrl();
          let store = await openStore(url, { schema: MODEL_SCHEMA, durability: 'normal' });
          const model = new Model();
          try {
            for (const [i, op] of sequence.entries()) {
              const expected = model.resolve('ev' in op ? op.ev : undefined, op.sid);
              const want = model.apply(op, expected);
              const got = await run(store.collection('item'), op, expected);
              expect(got, `op ${i} ${JSON.stringify(op)} (expected version ${JSON.stringify(expected)})`).to.deep.equal(want);
              ops++;
            }
            await expectStoreEqualsModel(store, model, 'after the sequence');
            if (fixture.caps.persistent) {
              await store.close();
              store = await openStore(url, { schema: MODEL_SCHEMA, durability: 'normal' });
              await expectStoreEqualsModel(store, model, 'after reopening');
            }
            const rebuilt = await store.rebuild();
            expect(rebuilt.objects, 'objects after rebuild').to.equal(model.live().length);
            await expectStoreEqualsModel(store, model, 'after a rebuild');
          } finally {
            await store.close();
          }
        }),
        { numRuns: RELIABILITY.runs },
      );
      figure(`model property ${fixture.name}: ${runs} runs, ${ops} operations, 0 mismatches`);
    });

    it(`${fixture.name}: of concurrent writes with the same expected version exactly one wins, the rest fail and write nothing`, async () => {
      let runs = 0;
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 2, max: 8 }), fc.constantFrom('set', 'update', 'delete'), async (writers, kind) => {
          runs++;
          const store = await openStore(fixture.freshUrl(), { schema: MODEL_SCHEMA, durability: 'normal' });
          try {
            const items = store.collection('item');
            await items._new({ n: 0 }, { sid: 'a' });
            const outcomes = await Promise.allSettled(
              Array.from({ length: writers }, (_, w) =>
                kind === 'set'
                  ? items._set({ sid: 'a', n: w }, { expectedVersion: 1 })
                  : kind === 'update'
                    ? items._update('a', { n: w }, { expectedVersion: 1 })
                    : items._delete('a', { expectedVersion: 1 }),
              ),
            );
            expect(outcomes.filter((o) => o.status === 'fulfilled'), 'winners').to.have.length(1);
            // The losers' expected version is stale; once the winner deleted the object they find it gone.
            const loserCode = kind === 'delete' ? 'NOT_FOUND' : 'VERSION_CONFLICT';
            for (const o of outcomes) if (o.status === 'rejected') expect((o.reason as { code: string }).code).to.equal(loserCode);
            expect(await store.log.head()).to.equal(2);
            await expectProjectionsMatchLog(store);
          } finally {
            await store.close();
          }
        }),
        { numRuns: Math.max(10, Math.round(RELIABILITY.runs / 5)) },
      );
      figure(`concurrent OCC property ${fixture.name}: ${runs} runs, exactly one winner each`);
    });
  }
});
