import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { openStore } from '../../../src';
import { MAX_OBJECT_BYTES } from '../../../src/api/library/validate';
import { PgSchemas, pgUrl } from './pg-fixture';

const base = pgUrl();

/**
 * The store takes objects up to MAX_OBJECT_BYTES (1 MiB) of JSON on every backend. On postgres an
 * object whose text splits into many words (random base64: short words between `+` and `/`) is refused
 * by the full-text projection with PostgreSQL's raw `string is too long for tsvector (… bytes, max
 * 1048575 bytes)`: `documentVector` (projection-values.ts) budgets 1,000,000 bytes of lexeme text but
 * PostgreSQL's limit also counts each lexeme's positions and alignment. Found by the cross-host feed test.
 */
if (base) {
  describe('postgres: an object of the largest accepted size', function () {
    this.timeout(60_000);
    const schemas = new PgSchemas(base);
    after(() => schemas.dropAll());

    it('writes and reads back a 1 MiB object whose text has many words', async () => {
      const store = await openStore(schemas.freshUrl());
      try {
        const empty = Buffer.byteLength(JSON.stringify({ sid: 'big', blob: '' }));
        const blob = randomBytes(MAX_OBJECT_BYTES).toString('base64').slice(0, MAX_OBJECT_BYTES - empty);
        expect(Buffer.byteLength(JSON.stringify({ sid: 'big', blob }))).to.equal(MAX_OBJECT_BYTES);
        await store.collection('note')._new({ blob }, { sid: 'big' });
        expect(await store.collection('note')._get('big')).to.deep.equal({ sid: 'big', blob });
      } finally {
        await store.close();
      }
    });
  });
}
