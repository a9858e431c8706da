import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { copyLog } from '../../src/migrate';
import { tempDir } from '../helpers/temp';
import { openStore } from '../../src';
import { PgSchemas, pgUrl } from '../backends/postgres/pg-fixture';
import { grepRelations, schemaRelationFiles } from '../backends/postgres/relation-files';
import { PERSONAL_SCHEMA, rawEvents } from '../conformance/erasure';
import { NEEDLES, TARGET, fillWithTarget } from './erase-target';

/** A live object's values: the scan must keep finding them (it sees plaintext where there is some). */
const LIVE = { name: 'Ombretta Vasquillion', email: 'ombretta.vasquillion@erase-test.example' };

const base = pgUrl();
if (base) {
  describe('erase leaves no byte of personal plaintext in the table files of a postgres store', function () {
    this.timeout(120_000);
    const schemas = new PgSchemas(base);
    after(() => schemas.dropAll());

    it('finds the values and the data key before the erase, and neither in any relation file of the schema after', async () => {
      const url = schemas.freshUrl();
      const schema = new URL(url).searchParams.get('schema')!;
      const store = await openStore(url, { schema: PERSONAL_SCHEMA, durability: 'full' });
      try {
        await fillWithTarget(store, LIVE);
        const keyIds = new Set((await rawEvents(store)).filter((e) => e.sid === 'target').map((e) => (e.data.email as { $enc: string }).$enc.split(':')[0]));
        const keyRows = await schemas.sql(`SELECT key FROM "${schema}".osis_keys WHERE id = ANY($1::text[])`, [[...keyIds]]);
        expect(keyRows).to.have.length(keyIds.size).and.to.have.length.greaterThan(0);
        const keys = keyRows.map((r) => r.key as Buffer);

        const before = await schemaRelationFiles(schemas, schema);
        const seen = grepRelations(before, [...NEEDLES, ...keys]);
        expect(seen.some((h) => h.includes('objects')), 'the scan sees plaintext in the projections before the erase').to.equal(true);
        expect(seen.some((h) => h.startsWith(`${schema}.osis_keys: <32 bytes`)), 'the scan sees the data key before the erase').to.equal(true);

        await store.collection('user')._erase('target', { reason: 'byte-scan test' });

        const after = await schemaRelationFiles(schemas, schema);
        expect(after.map((r) => r.relation)).to.include.members([`${schema}.objects`, `${schema}.object_index`, `${schema}.unique_keys`, `${schema}.osis_keys`]);
        expect(grepRelations(after, [...NEEDLES, ...keys]), 'relation files of the schema after the erase').to.deep.equal([]);
        expect(grepRelations(after, [LIVE.name, LIVE.email]).length, 'a live object stays visible to the scan').to.be.greaterThan(0);
        expect(await store.collection('user')._get('live')).to.include(LIVE);

        const report = await store.verifyErased();
        expect(report.files).to.deep.equal([]);
        expect(report.unscanned).to.match(/PostgreSQL server .* no file of the store was scanned/);
        // the value hashes kept in PostgreSQL work: a plaintext copy planted in a local file is found
        const planted = path.join(tempDir(), 'planted.txt');
        fs.writeFileSync(planted, `leaked: ${TARGET.email}`);
        const found = await store.verifyErased([planted]);
        expect(found.hits.map((h) => [path.basename(h.file), h.offset, h.type, h.sid])).to.deep.include(['planted.txt', 8, 'user', 'target']);
      } finally {
        await store.close();
      }
    });

    it('a copy of a sqlite store with an erased object into postgres: erased there, live values resealed, no erased byte in its relation files', async () => {
      const source = await openStore(`sqlite:${path.join(tempDir(), 'src.db')}`, { schema: PERSONAL_SCHEMA, durability: 'normal' });
      const url = schemas.freshUrl();
      const schema = new URL(url).searchParams.get('schema')!;
      try {
        await fillWithTarget(source, LIVE);
        await source.collection('user')._erase('target', { reason: 'before the copy' });
        await copyLog(source, url, { durability: 'normal' });
      } finally {
        await source.close();
      }
      const copy = await openStore(url, { schema: PERSONAL_SCHEMA });
      try {
        const users = copy.collection('user');
        expect(await users._exists('target')).to.equal(false);
        expect((await users._history('target')).map((e) => e.kind)).to.deep.equal(['created', 'updated', 'erased']);
        expect(JSON.stringify(await users._history('target'))).to.not.include('Xylophrax');
        expect(await users._get('live')).to.include(LIVE);
        const raw = (await rawEvents(copy)).find((e) => e.sid === 'live')!;
        expect(raw.data.email, 'sealed under the copy\'s own keys').to.have.property('$enc');
        await copy.rebuild();
        expect((await users._find({ text: 'quendelmoor' })).items).to.deep.equal([]);
        const files = await schemaRelationFiles(schemas, schema);
        expect(grepRelations(files, NEEDLES)).to.deep.equal([]);
        expect(grepRelations(files, [LIVE.name]).length).to.be.greaterThan(0);
      } finally {
        await copy.close();
      }
    });

    it('a DELETE and a plain VACUUM leave the bytes in index files (why the purge rewrites the tables)', async () => {
      const url = schemas.freshUrl();
      const schema = new URL(url).searchParams.get('schema')!;
      const q = `"${schema}"`;
      await schemas.sql(`CREATE SCHEMA ${q}; CREATE TABLE ${q}.t (id serial PRIMARY KEY, v text, tsv tsvector);
        CREATE INDEX ON ${q}.t (v); CREATE INDEX ON ${q}.t USING gin (tsv)`);
      await schemas.sql(`INSERT INTO ${q}.t (v, tsv) SELECT 'filler ' || g, to_tsvector('simple', 'filler' || g) FROM generate_series(1, 500) g`);
      await schemas.sql(`INSERT INTO ${q}.t (v, tsv) VALUES ($1, to_tsvector('simple', $1))`, [TARGET.name]);
      await schemas.sql(`INSERT INTO ${q}.t (v, tsv) SELECT 'later ' || g, to_tsvector('simple', 'later' || g) FROM generate_series(1, 500) g`);
      await schemas.sql(`DELETE FROM ${q}.t WHERE v = $1`, [TARGET.name]);
      await schemas.sql(`VACUUM ${q}.t`);
      const plain = grepRelations(await schemaRelationFiles(schemas, schema), ['Xylophrax', 'xylophrax']);
      expect(plain.length, 'plain VACUUM leaves index entries').to.be.greaterThan(0);
      await schemas.sql(`VACUUM FULL ${q}.t`);
      expect(grepRelations(await schemaRelationFiles(schemas, schema), ['Xylophrax', 'xylophrax'])).to.deep.equal([]);
    });
  });
}
