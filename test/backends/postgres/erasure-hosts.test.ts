import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openStore, type Store } from '../../../src';
import { PersonalEventLog } from '../../../src/log/personal';
import { PERSONAL_SCHEMA, rawEvents } from '../../conformance/erasure';
import { expectCode } from '../../helpers/expect-error';
import { tempDir } from '../../helpers/temp';
import { PgSchemas, pgUrl, withSchema } from './pg-fixture';
import { grepRelations, schemaRelationFiles } from './relation-files';

const base = pgUrl();
const ann = { name: 'Annabel Quorvex', email: 'annabel.quorvex@example.org', phone: '+32 470 11 22 33', country: 'be', bio: 'likes chess' };
const bob = { name: 'Bob Keeper', email: 'bob.keeper@example.org', country: 'nl' };

/** The personal log under a store (its key store and inner log). */
function personal(store: Store): PersonalEventLog {
  const log = store.eventLog;
  if (!(log instanceof PersonalEventLog)) throw new Error('expected a store with personal data');
  return log;
}

const schemaOf = (url: string) => new URL(url).searchParams.get('schema')!;

/**
 * Two stores opened on one schema stand for two hosts: each has its own connection pools, key cache and
 * shredder; they share only what is in PostgreSQL (as two hosts do).
 */
if (base) {
  describe('postgres: erasure across hosts sharing one store', function () {
    this.timeout(60_000);
    const schemas = new PgSchemas(base);
    const open: Store[] = [];
    const host = async (url: string, options: Parameters<typeof openStore>[1] = {}) => {
      const store = await openStore(url, { schema: PERSONAL_SCHEMA, durability: 'normal', ...options });
      open.push(store);
      return store;
    };
    afterEach(async () => {
      for (const store of open.splice(0)) await store.close();
    });
    after(() => schemas.dropAll());

    it("host A erases: host B's _get is NOT_FOUND and B's history, log and text search lose the values B had read; live values cross both ways", async () => {
      const url = schemas.freshUrl();
      const a = await host(url);
      const b = await host(url);
      await a.collection('user')._new(ann, { sid: 'u1' });
      await a.collection('user')._new(bob, { sid: 'u2' });
      // B opens values sealed by A (it loads A's keys) and keeps them cached.
      expect((await b.collection('user')._history('u1'))[0].data).to.include({ name: ann.name, email: ann.email });
      expect(await b.collection('user')._get('u1')).to.include({ name: ann.name });

      await a.collection('user')._erase('u1', { reason: 'art. 17', meta: { actor: 'dpo' } });

      const users = b.collection('user');
      await expectCode(users._get('u1'), 'NOT_FOUND');
      const history = await users._history('u1');
      expect(history.map((e) => e.kind)).to.deep.equal(['created', 'erased']);
      expect(history[0].shredded).to.equal(true);
      expect(JSON.stringify(history)).to.not.include('Quorvex').and.not.include('annabel');
      expect(JSON.stringify(await b.log.readAll(1))).to.not.include('Quorvex');
      expect((await users._find({ text: 'quorvex' })).items).to.deep.equal([]);
      await expectCode(users._update('u1', { country: 'fr' }), 'NOT_FOUND');
      expect((await users._erase('u1').catch((e) => e)).message).to.include('already erased');

      // Live values sealed by A are readable on B; B's writes are readable on A.
      expect(await users._get('u2')).to.include(bob);
      expect((await users._history('u2'))[0].data).to.include({ name: bob.name });
      await users._update('u2', { name: 'Bob Renamed' });
      expect((await a.collection('user')._history('u2'))[1].data).to.include({ name: 'Bob Renamed', email: bob.email });
      // The unique email A's object held is free again, for B.
      await users._new({ name: 'Annabel Again', email: ann.email }, { sid: 'u3' });
      expect((await a.collection('user')._find({ filter: { email: ann.email } })).items).to.deep.equal(['u3']);

      // And the other way round: B erases an object whose key A has cached.
      await users._erase('u2');
      await expectCode(a.collection('user')._get('u2'), 'NOT_FOUND');
      expect(JSON.stringify(await a.collection('user')._history('u2'))).to.not.include('Keeper').and.not.include('Renamed');
      const keys = await schemas.sql(`SELECT count(*)::int AS n FROM "${schemaOf(url)}".osis_keys`);
      expect(keys[0].n, 'only u3 has a live key left (plus unused pooled keys)').to.be.greaterThan(0);
    });

    it('ten erasures at once: all erased, no purge left pending, no erased byte in the relation files', async () => {
      const url = schemas.freshUrl();
      const a = await host(url);
      const users = a.collection('user');
      const person = (i: number) => ({ name: `Concurrent Zelmira${i}`, email: `zelmira${i}@example.org` });
      for (let i = 0; i < 12; i++) await users._new(person(i), { sid: `c${i}` });
      await Promise.all(Array.from({ length: 10 }, (_, i) => users._erase(`c${i}`)));
      for (let i = 0; i < 10; i++) await expectCode(users._get(`c${i}`), 'NOT_FOUND');
      expect(await users._get('c11')).to.include(person(11));
      expect(await schemas.sql(`SELECT * FROM "${schemaOf(url)}".osis_erasing`)).to.deep.equal([]);
      const files = await schemaRelationFiles(schemas, schemaOf(url));
      expect(grepRelations(files, Array.from({ length: 10 }, (_, i) => person(i).email))).to.deep.equal([]);
      expect(grepRelations(files, [person(10).email, person(11).email])).to.have.length.greaterThan(0);
    });

    it('an erasure interrupted after its erased event (a crashed host) is finished by the next host that opens', async () => {
      const url = schemas.freshUrl();
      const a = await host(url);
      await a.collection('user')._new(ann, { sid: 'u4' });
      const log = personal(a);
      const keyIds = [...new Set((await rawEvents(a)).map((e) => (e.data.email as { $enc: string }).$enc.split(':')[0]))];
      // Steps 1 and 2 of an erasure, then the host "dies" before destroying the keys.
      await log.shredder.keys.beginErasure('user', 'u4');
      await log.inner.append([{ type: 'user', sid: 'u4', kind: 'erased', data: {}, expectedVersion: 'any' }]);
      const live = await schemas.sql(`SELECT id FROM "${schemaOf(url)}".osis_keys WHERE id = ANY($1::text[])`, [keyIds]);
      expect(live, 'the keys still exist').to.have.length(keyIds.length);

      const b = await host(url); // finishes the pending erasure at open
      expect(await schemas.sql(`SELECT id FROM "${schemaOf(url)}".osis_keys WHERE id = ANY($1::text[])`, [keyIds])).to.deep.equal([]);
      expect(await schemas.sql(`SELECT type, sid, stage FROM "${schemaOf(url)}".osis_erasing`)).to.deep.equal([]);
      await expectCode(b.collection('user')._get('u4'), 'NOT_FOUND');
      expect(JSON.stringify(await a.collection('user')._history('u4'))).to.not.include('Quorvex');
      expect(JSON.stringify(await b.collection('user')._history('u4'))).to.not.include('Quorvex');
    });

    it('claims made at open (a field newly declared unique) are made on plaintext, whoever sealed it', async () => {
      const url = schemas.freshUrl();
      const loose = { types: { user: { personal: ['name', 'email'], index: ['email'] } } };
      const a = await host(url, { schema: loose });
      await a.collection('user')._new({ name: 'Cleo', email: 'cleo@example.org' }, { sid: 'c1' });
      await a.collection('user')._new({ name: 'Dirk', email: 'dirk@example.org' }, { sid: 'c2' });
      const b = await host(url, { schema: { types: { user: { personal: ['name', 'email'], unique: ['email'] } } } });
      const clash = await expectCode(b.collection('user')._new({ name: 'Other', email: 'cleo@example.org' }, { sid: 'c3' }), 'UNIQUE_VIOLATION');
      expect(clash.message).to.include('c1');
      const claims = await schemas.sql(`SELECT key FROM "${schemaOf(url)}".unique_keys ORDER BY key`);
      expect(claims.map((r) => r.key)).to.deep.equal(['"cleo@example.org"', '"dirk@example.org"']);
    });

    it('keys in another schema (keys option, a postgres:// URL): none in the store schema; read back with the same option', async () => {
      const url = schemas.freshUrl();
      const keysUrl = schemas.freshUrl();
      const a = await host(url, { keys: keysUrl });
      await a.collection('user')._new(ann, { sid: 'u1' });
      await a.collection('user')._new(bob, { sid: 'u2' });
      await a.collection('user')._erase('u1');
      const tables = async (s: string) =>
        (await schemas.sql(`SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_name LIKE 'osis_%' ORDER BY 1`, [s])).map((r) => r.table_name);
      expect(await tables(schemaOf(url))).to.deep.equal([]);
      expect(await tables(schemaOf(keysUrl))).to.include.members(['osis_keys', 'osis_erased', 'osis_erasing']);
      const b = await host(url, { keys: keysUrl });
      expect(await b.collection('user')._get('u2')).to.include(bob);
      expect((await b.collection('user')._history('u2'))[0].data).to.include({ email: bob.email });
      await expectCode(b.collection('user')._get('u1'), 'NOT_FOUND');
    });

    it('a purge held off by a long transaction: _erase is LOCKED, the object is erased all the same, the purge finishes at the next open', async () => {
      const url = schemas.freshUrl();
      const schema = schemaOf(url);
      const a = await host(url);
      await a.collection('user')._new(ann, { sid: 'u5' });
      const holder = await schemas.client();
      const before = process.env.OSIS_PURGE_LOCK_TIMEOUT_MS;
      process.env.OSIS_PURGE_LOCK_TIMEOUT_MS = '300';
      try {
        await holder.query(`BEGIN; SELECT count(*) FROM "${schema}".objects`); // holds ACCESS SHARE until COMMIT
        const error = await expectCode(a.collection('user')._erase('u5'), 'LOCKED');
        expect(error.message).to.include('the object is erased, but the purge').and.include('finished at the next open');
        await expectCode(a.collection('user')._get('u5'), 'NOT_FOUND');
        expect(JSON.stringify(await a.collection('user')._history('u5'))).to.not.include('Quorvex');
        expect(await schemas.sql(`SELECT sid, stage FROM "${schema}".osis_erasing`)).to.deep.equal([{ sid: 'u5', stage: 'purge' }]);
        expect((await a.verifyErased()).pending, 'verify --erased reports the purge not done').to.equal(1);
      } finally {
        await holder.query('COMMIT').catch(() => undefined);
        await holder.end();
        if (before === undefined) delete process.env.OSIS_PURGE_LOCK_TIMEOUT_MS;
        else process.env.OSIS_PURGE_LOCK_TIMEOUT_MS = before;
      }
      const b = await host(url);
      expect(await schemas.sql(`SELECT sid, stage FROM "${schema}".osis_erasing`)).to.deep.equal([]);
      expect((await b.verifyErased()).pending).to.equal(0);
    });

    it('a snapshot older than the erasure holds the purge off (the rewrite would keep rows it may see): LOCKED, then purged at the next open', async () => {
      const url = schemas.freshUrl();
      const schema = schemaOf(url);
      const a = await host(url);
      await a.collection('user')._new(ann, { sid: 'u6' });
      const holder = await schemas.client();
      const before = process.env.OSIS_PURGE_LOCK_TIMEOUT_MS;
      process.env.OSIS_PURGE_LOCK_TIMEOUT_MS = '400';
      try {
        // A snapshot of the database taken before the erasure (another store's table: no lock on this one).
        await holder.query('BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT count(*) FROM pg_class');
        const error = await expectCode(a.collection('user')._erase('u6'), 'LOCKED');
        expect(error.message).to.include('a transaction older than the erasure to end').and.include(`pid ${(holder as unknown as { processID: number }).processID}`);
        await expectCode(a.collection('user')._get('u6'), 'NOT_FOUND');
        expect(await schemas.sql(`SELECT sid, stage FROM "${schema}".osis_erasing`)).to.deep.equal([{ sid: 'u6', stage: 'purge' }]);
      } finally {
        await holder.query('COMMIT').catch(() => undefined);
        await holder.end();
        if (before === undefined) delete process.env.OSIS_PURGE_LOCK_TIMEOUT_MS;
        else process.env.OSIS_PURGE_LOCK_TIMEOUT_MS = before;
      }
      await host(url);
      expect(await schemas.sql(`SELECT sid, stage FROM "${schema}".osis_erasing`)).to.deep.equal([]);
      const files = await schemaRelationFiles(schemas, schema);
      expect(grepRelations(files, [ann.name, ann.email, 'quorvex'])).to.deep.equal([]);
    });

    describe('bad input: a precise error, nothing written', () => {
      const noSchema = async (url: string) => (await schemas.sql('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schemaOf(url)])).length === 0;

      it('a SQLite key file for a postgres store is INVALID_INPUT (hosts would not share it)', async () => {
        const url = schemas.freshUrl();
        const file = path.join(tempDir(), 'keys.db');
        for (const keys of [file, `sqlite:${file}`]) {
          const error = await expectCode(openStore(url, { schema: PERSONAL_SCHEMA, keys }), 'INVALID_INPUT');
          expect(error.message).to.match(/postgres:\/\/ store keeps its data keys in PostgreSQL/).and.include('not shared between hosts');
        }
        expect(fs.existsSync(file)).to.equal(false);
        expect(await noSchema(url)).to.equal(true);
      });

      it('a malformed postgres:// key URL is INVALID_INPUT', async () => {
        const url = schemas.freshUrl();
        const error = await expectCode(openStore(url, { schema: PERSONAL_SCHEMA, keys: withSchema(base, 'Not-A-Schema') }), 'INVALID_INPUT');
        expect(error.message).to.include('not a valid store schema name');
        expect(await noSchema(url)).to.equal(true);
      });

      it('a postgres:// key store for a sqlite store is INVALID_INPUT', async () => {
        const file = path.join(tempDir(), 'osis.db');
        const keysUrl = schemas.freshUrl();
        const error = await expectCode(openStore(`sqlite:${file}`, { schema: PERSONAL_SCHEMA, keys: keysUrl }), 'INVALID_INPUT');
        expect(error.message).to.include('serves postgres:// stores only');
        expect(fs.existsSync(file)).to.equal(false);
        expect(await noSchema(keysUrl)).to.equal(true);
      });

      it('erasing an unknown object, or in a type without personal fields, writes nothing', async () => {
        const url = schemas.freshUrl();
        const a = await host(url);
        await expectCode(a.collection('user')._erase('nobody'), 'NOT_FOUND');
        await a.collection('plain')._new({ country: 'be' }, { sid: 'p1' });
        await expectCode(a.collection('plain')._erase('p1'), 'INVALID_INPUT');
        expect(await a.log.head()).to.equal(1);
        expect(await schemas.sql(`SELECT * FROM "${schemaOf(url)}".osis_erasing`)).to.deep.equal([]);
        expect(await schemas.sql(`SELECT * FROM "${schemaOf(url)}".osis_erased`)).to.deep.equal([]);
      });
    });
  });
}
