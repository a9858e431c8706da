import { expect } from 'chai';
import { openStore } from '../../src';
import { PostgresEventLog } from '../../src/backends/postgres/postgres-log';
import { PgSchemas, pgUrl } from './postgres/pg-fixture';

const url = pgUrl();
if (url) {
  describe('postgres: another host opens a store with no replay', function () {
    this.timeout(60_000);
    const schemas = new PgSchemas(url);
    after(() => schemas.dropAll());

    it('reads no event of the log at open, and answers at once from the shared projections', async () => {
      const storeUrl = schemas.freshUrl();
      const schema = { types: { user: { index: ['country'], unique: ['email'], text: ['name'] } } };
      const first = await openStore(storeUrl, { schema });
      const users = first.collection('user');
      for (let i = 0; i < 300; i += 50) await Promise.all(Array.from({ length: 50 }, (_, j) => users._new({ name: `n${i + j}`, email: `${i + j}@x`, country: (i + j) % 2 ? 'be' : 'nl' }, { sid: `u${i + j}` })));
      const reads: number[] = [];
      const readAll = PostgresEventLog.prototype.readAll;
      const readAllEncoded = PostgresEventLog.prototype.readAllEncoded;
      PostgresEventLog.prototype.readAll = async function (from, options) {
        const events = await readAll.call(this, from, options);
        reads.push(...events.map((e) => e.position));
        return events;
      };
      PostgresEventLog.prototype.readAllEncoded = async function (from, options) {
        const events = await readAllEncoded.call(this, from, options);
        reads.push(...events.map((e) => e.position));
        return events;
      };
      try {
        const second = await openStore(storeUrl, { schema });
        try {
          expect(await second.collection('user')._get('u7')).to.include({ name: 'n7', country: 'be' });
          expect((await second.collection('user')._find({ filter: { country: 'nl' }, limit: 1000 })).items).to.have.length(150);
          expect((await second.collection('user')._find({ text: 'n299' })).items).to.deep.equal(['u299']);
          expect(reads, 'the second host read no event of the log').to.deep.equal([]);
          // A write on one host is read on the other at once (same transaction as its projections).
          await second.collection('user')._new({ name: 'late', email: 'late@x' }, { sid: 'late' });
          expect(await users._get('late')).to.include({ name: 'late' });
        } finally {
          await second.close();
        }
      } finally {
        PostgresEventLog.prototype.readAll = readAll;
        PostgresEventLog.prototype.readAllEncoded = readAllEncoded;
        await first.close();
      }
    });
  });
}
