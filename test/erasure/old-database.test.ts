import { expect } from 'chai';
import Database from 'better-sqlite3';
import * as path from 'node:path';
import { openStore } from '../../src';
import { LOG_SCHEMA } from '../../src/backends/sqlite/log-schema';
import { tempDir } from '../helpers/temp';
import { PERSONAL_SCHEMA } from '../conformance/erasure';

describe('a sqlite store written before the erased kind existed', () => {
  it('widens the events CHECK at open (writable_schema), keeps its rows, and takes erased events', async () => {
    const file = path.join(tempDir(), 'old.db');
    const old = new Database(file);
    old.pragma('journal_mode = WAL');
    old.exec(LOG_SCHEMA.replace("CHECK (kind IN ('created', 'updated', 'deleted', 'erased'))", "CHECK (kind IN ('created', 'updated', 'deleted'))"));
    expect(() => old.prepare("INSERT INTO events (id, type, sid, kind, version, ts, data) VALUES ('x', 't', 's', 'erased', 1, 0, '{}')").run()).to.throw(/CHECK/);
    old.close();
    let store = await openStore(`sqlite:${file}`, { schema: PERSONAL_SCHEMA });
    await store.collection('user')._new({ name: 'Olga Older', email: 'olga@example.org' }, { sid: 'o1' });
    await store.collection('user')._erase('o1');
    await store.close();
    const db = new Database(file);
    try {
      expect(db.pragma('integrity_check', { simple: true })).to.equal('ok');
      expect(db.prepare("SELECT sql FROM sqlite_master WHERE name = 'events'").pluck().get()).to.include("'erased'");
      expect(db.prepare('SELECT kind FROM events ORDER BY position').pluck().all()).to.deep.equal(['created', 'erased']);
    } finally {
      db.close();
    }
    store = await openStore(`sqlite:${file}`, { schema: PERSONAL_SCHEMA });
    expect((await store.collection('user')._history('o1')).map((e) => e.kind)).to.deep.equal(['created', 'erased']);
    await store.close();
  });
});
