import { expect } from 'chai';
import * as path from 'node:path';
import { openStore, type Store } from '../../src';
import { copyLog } from '../../src/migrate';
import { tempDir } from '../helpers/temp';
import { expectCode } from '../helpers/expect-error';
import { PgSchemas, pgUrl } from '../backends/postgres/pg-fixture';

const SCHEMA = { types: { user: { index: ['country'], unique: ['email'], text: ['name'] } } };

async function fill(store: Store): Promise<void> {
  const users = store.collection('user');
  for (let i = 0; i < 40; i++) await users._new({ name: `user ${i} ünï "q"`, email: `u${i}@x`, country: i % 2 ? 'be' : 'nl', tags: [i, null, { deep: [1.5] }] }, { sid: `u${i}` });
  for (let i = 0; i < 40; i += 3) await users._update(`u${i}`, { country: 'fr' }, { meta: { actor: 'test' } });
  for (let i = 0; i < 40; i += 5) await users._delete(`u${i}`);
  await users._new({ name: 'back again', email: 'u0@x' }, { sid: 'u0', idempotencyKey: 'recreate-u0' });
  await store.collection('note')._new({ body: 'a note' }, { sid: 'n1' });
}

describe('copyLog', function () {
  this.timeout(120_000);
  // PostgreSQL pairs run when OSIS_PG_URL is set (each store on its own schema, dropped after).
  const pgServer = pgUrl();
  const pg = pgServer ? new PgSchemas(pgServer) : undefined;
  after(() => pg?.dropAll());
  const urls = {
    file: () => `file:${path.join(tempDir(), 'log')}`,
    sqlite: () => `sqlite:${path.join(tempDir(), 'o.db')}`,
    memory: () => 'memory:',
    postgres: () => pg!.freshUrl(),
  };
  const pairs: Array<[keyof typeof urls, keyof typeof urls]> = [['file', 'sqlite'], ['sqlite', 'file'], ['memory', 'file'], ['file', 'file']];
  if (pg) pairs.push(['sqlite', 'postgres'], ['postgres', 'file'], ['postgres', 'postgres']);

  for (const [from, to] of pairs) {
    it(`copies a ${from} log into ${to}, keeping positions, ids, versions and timestamps`, async () => {
      const source = await openStore(urls[from](), { schema: SCHEMA, durability: 'normal' });
      try {
        await fill(source);
        const destUrl = urls[to]();
        const phases = new Set<string>();
        const report = await copyLog(source, destUrl, { durability: 'normal', batchSize: 17, onProgress: (_d, _t, phase) => phases.add(phase) });
        expect(report).to.include({ events: await source.log.head(), head: await source.log.head(), verified: true });
        expect([...phases]).to.deep.equal(['copy', 'verify']);
        const dest = await openStore(destUrl, { schema: SCHEMA });
        try {
          expect(await dest.log.readAll(1)).to.deep.equal(await source.log.readAll(1));
          expect(await dest.collection('user')._find({ filter: { country: 'fr' }, limit: 100 })).to.deep.equal(
            await source.collection('user')._find({ filter: { country: 'fr' }, limit: 100 }),
          );
          expect((await dest.collection('user')._find({ text: 'again' })).items).to.deep.equal(['u0']);
          await expectCode(dest.collection('user')._new({ email: 'u1@x' }), 'UNIQUE_VIOLATION');
          const retried = await dest.collection('user')._new({ name: 'back again', email: 'u0@x' }, { sid: 'u0', idempotencyKey: 'recreate-u0' });
          expect(retried).to.deep.equal(await dest.collection('user')._get('u0'));
          expect(await dest.log.head()).to.equal(await source.log.head());
          const next = await dest.collection('note')._new({ body: 'after the copy' });
          expect((await dest.collection('note')._history(next.sid as string))[0].position).to.equal((await source.log.head()) + 1);
        } finally {
          await dest.close();
        }
      } finally {
        await source.close();
      }
    });
  }

  it('refuses a destination that is not empty, writing nothing', async () => {
    const source = await openStore('memory:');
    const destUrl = urls.file();
    const dest = await openStore(destUrl);
    await dest.collection('note')._new({ body: 'already here' });
    await dest.close();
    try {
      await source.collection('note')._new({ body: 'x' });
      await expectCode(copyLog(source, destUrl), 'INVALID_INPUT');
      const again = await openStore(destUrl);
      expect(await again.log.head()).to.equal(1);
      await again.close();
    } finally {
      await source.close();
    }
  });

  it('refuses imported events that do not continue the log or break its rules', async () => {
    for (const url of [urls.file(), urls.sqlite(), urls.memory()]) {
      const store = await openStore(url, { schema: SCHEMA });
      try {
        const event = { position: 1, id: '01JAAAAAAAAAAAAAAAAAAAAAAA', type: 'user', sid: 'u1', kind: 'created' as const, version: 1, ts: '2025-01-01T00:00:00.000Z', data: { sid: 'u1', email: 'a' } };
        await expectCode(store.importEvents([{ ...event, position: 2 }]), 'INVALID_INPUT');
        await expectCode(store.importEvents([{ ...event, version: 2 }]), 'INVALID_INPUT');
        await expectCode(store.importEvents([{ ...event, ts: 'yesterday' }]), 'INVALID_INPUT');
        await expectCode(store.importEvents([event, { ...event, position: 2, sid: 'u2', data: { sid: 'u2', email: 'a' } }]), 'UNIQUE_VIOLATION');
        expect(await store.log.head(), url).to.equal(0);
        await store.importEvents([event]);
        expect(await store.collection('user')._get('u1')).to.deep.equal(event.data);
      } finally {
        await store.close();
      }
    }
  });
});
