import { expect } from 'chai';
import Database from 'better-sqlite3';
import * as path from 'node:path';
import { openStore } from '../../src';
import { tempDir } from '../helpers/temp';
import { runFixture } from '../helpers/spawn-ts';

describe('sqlite backend', function () {
  this.timeout(120_000);

  it('takes appends from two processes writing one file at once: none lost, none duplicated', async () => {
    const file = path.join(tempDir(), 'osis.db');
    const url = `sqlite:${file}`;
    const [a, b] = await Promise.all([runFixture('writer.ts', [url, 'a', '300', '10']), runFixture('writer.ts', [url, 'b', '300', '1'])]);
    expect(a.code, a.stderr).to.equal(0);
    expect(b.code, b.stderr).to.equal(0);
    const acknowledged = [...a.stdout.split('\n'), ...b.stdout.split('\n')].filter(Boolean);
    expect(acknowledged).to.have.length(600);
    const store = await openStore(url, { schema: { types: { user: { unique: ['email'] } } } });
    try {
      const events = await store.log.readAll(1);
      expect(events.map((e) => e.position)).to.deep.equal(Array.from({ length: 600 }, (_, i) => i + 1));
      expect(new Set(events.map((e) => e.sid))).to.deep.equal(new Set(acknowledged));
      expect((await store.collection('user')._list({ limit: 1000 })).items).to.have.length(600);
      expect((await store.verify()).ok).to.equal(true);
    } finally {
      await store.close();
    }
  });

  it('never reuses a position, even after the tail of the events table is deleted', async () => {
    const file = path.join(tempDir(), 'osis.db');
    let store = await openStore(`sqlite:${file}`);
    for (let i = 0; i < 5; i++) await store.collection('note')._new({ i });
    await store.close();
    const db = new Database(file);
    db.prepare('DELETE FROM events WHERE position > 3').run();
    db.close();
    store = await openStore(`sqlite:${file}`);
    try {
      const [event] = await store.collection('note')._history((await store.collection('note')._new({ i: 6 })).sid as string);
      expect(event.position).to.equal(6);
    } finally {
      await store.close();
    }
  });

  it('opens an existing store without rebuilding: checkpoints carry over', async () => {
    const file = path.join(tempDir(), 'osis.db');
    let store = await openStore(`sqlite:${file}`);
    await store.collection('note')._new({ body: 'searchable words' }, { sid: 'n1' });
    await store.collection('note')._find({ text: 'searchable' });
    await store.close();
    const db = new Database(file);
    db.prepare("UPDATE objects SET data = '{\"sid\":\"n1\",\"body\":\"marker\"}'").run();
    db.close();
    store = await openStore(`sqlite:${file}`);
    try {
      expect(await store.collection('note')._get('n1')).to.deep.equal({ sid: 'n1', body: 'marker' });
    } finally {
      await store.close();
    }
  });

  it('rebuilds the unique-key table when a unique field is declared later, and refuses clashing data', async () => {
    const file = path.join(tempDir(), 'osis.db');
    let store = await openStore(`sqlite:${file}`);
    await store.collection('user')._new({ email: 'a@x' }, { sid: 'u1' });
    await store.close();
    store = await openStore(`sqlite:${file}`, { schema: { types: { user: { unique: ['email'] } } } });
    try {
      const error = await store.collection('user')._new({ email: 'a@x' }).catch((e) => e);
      expect(error.code).to.equal('UNIQUE_VIOLATION');
    } finally {
      await store.close();
    }
    store = await openStore(`sqlite:${file}`);
    await store.collection('user')._new({ email: 'a@x' }, { sid: 'u2' });
    await store.close();
    const refused = await openStore(`sqlite:${file}`, { schema: { types: { user: { unique: ['email'] } } } }).catch((e) => e);
    expect(refused.code).to.equal('INVALID_INPUT');
    expect(refused.message).to.match(/held by both u1 and u2/);
  });
});
