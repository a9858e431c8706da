import { expect } from 'chai';
import * as path from 'node:path';
import { openStore } from '../../src';
import { tempDir } from '../helpers/temp';

const SCHEMA = { types: { user: { index: ['country'], unique: ['email'], text: ['name'] } } };

describe('blue-green rebuild', function () {
  this.timeout(120_000);

  it('keeps serving reads and takes other writers’ appends while it rebuilds, then swaps', async () => {
    const url = `sqlite:${path.join(tempDir(), 'osis.db')}`;
    const store = await openStore(url, { schema: SCHEMA, durability: 'normal' });
    const other = await openStore(url, { schema: SCHEMA, durability: 'normal' });
    try {
      const users = store.collection('user');
      await Promise.all(Array.from({ length: 3000 }, (_, i) => users._new({ name: `user ${i}`, country: i % 2 ? 'be' : 'nl', email: `${i}@x` }, { sid: `u${i}` })));
      let reads = 0;
      let writes = 0;
      let rebuilding = true;
      const reader = (async () => {
        while (rebuilding) {
          expect(await users._get('u1')).to.include({ sid: 'u1' });
          expect((await users._find({ filter: { country: 'be' }, limit: 5 })).items).to.have.length(5);
          reads++;
          await new Promise((r) => setImmediate(r));
        }
      })();
      const writer = (async () => {
        while (rebuilding) {
          await other.collection('user')._new({ name: `late ${writes}`, country: 'be' }, { sid: `late${writes}` });
          writes++;
          await new Promise((r) => setTimeout(r, 1));
        }
      })();
      const result = await store.rebuild();
      rebuilding = false;
      await Promise.all([reader, writer]);
      expect(reads).to.be.greaterThan(0);
      expect(writes).to.be.greaterThan(0);
      expect(result.objects).to.be.at.least(3000);
      const report = await store.verify();
      expect(report.problems).to.deep.equal([]);
      expect(report.objects).to.equal(3000 + writes);
      expect((await users._find({ text: `late ${writes - 1}` })).items).to.include(`late${writes - 1}`);
      expect((await users._find({ filter: { country: 'nl' }, limit: 10_000 })).items).to.have.length(1500);
      expect((await store.stats()).checkpoints.objects).to.equal(await store.log.head());
      const error = await users._new({ email: '1@x' }).catch((e) => e);
      expect(error.code).to.equal('UNIQUE_VIOLATION');
    } finally {
      await other.close();
      await store.close();
    }
  });

  it('rebuilds twice in a row and after reopening (table generations swap cleanly)', async () => {
    const url = `sqlite:${path.join(tempDir(), 'osis.db')}`;
    let store = await openStore(url, { schema: SCHEMA });
    await store.collection('user')._new({ name: 'Ann', country: 'be' }, { sid: 'a' });
    await store.rebuild();
    await store.rebuild();
    await store.close();
    store = await openStore(url, { schema: SCHEMA });
    try {
      await store.collection('user')._new({ name: 'Bob', country: 'be' }, { sid: 'b' });
      await store.rebuild();
      expect((await store.collection('user')._find({ filter: { country: 'be' } })).items).to.deep.equal(['a', 'b']);
      expect((await store.collection('user')._find({ text: 'bob' })).items).to.deep.equal(['b']);
      expect((await store.verify()).ok).to.equal(true);
    } finally {
      await store.close();
    }
  });
});
