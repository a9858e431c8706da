import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openStore, type Store } from '../../../src';
import { SIDECAR_FILE } from '../../../src/backends/file/sidecar';
import { tempDir } from '../../helpers/temp';
import { expectCode } from '../../helpers/expect-error';

const SCHEMA = { types: { user: { index: ['country'], unique: ['email'], text: ['name'] } } };

function removeSidecar(dir: string): void {
  for (const suffix of ['', '-wal', '-shm']) fs.rmSync(path.join(dir, `${SIDECAR_FILE}${suffix}`), { force: true });
}

async function snapshot(store: Store) {
  const users = store.collection('user');
  return {
    head: await store.log.head(),
    all: (await users._list_full({ limit: 1000 })).items,
    be: (await users._find({ filter: { country: 'be' }, limit: 1000 })).items,
    text: (await users._find({ text: 'smith' })).items,
    history: await users._history('u3'),
  };
}

describe('file backend: the sidecar is only a cache of the log', function () {
  this.timeout(120_000);
  let dir: string;

  beforeEach(async () => {
    dir = path.join(tempDir(), 'log');
    const store = await openStore(`file:${dir}`, { schema: SCHEMA, durability: 'normal' });
    const users = store.collection('user');
    for (let i = 0; i < 50; i++) {
      await users._new({ name: i % 7 === 0 ? `Ann Smith ${i}` : `Bob ${i}`, email: `u${i}@x`, country: i % 3 ? 'be' : 'nl' }, { sid: `u${i}`, idempotencyKey: `create-${i}` });
    }
    for (let i = 0; i < 50; i += 4) await users._update(`u${i}`, { country: 'fr' });
    await users._delete('u5');
    await store.close();
  });

  it('rebuilds a deleted sidecar: objects, index, full text, unique keys and idempotency come back', async () => {
    let store = await openStore(`file:${dir}`, { schema: SCHEMA });
    const before = await snapshot(store);
    await store.close();
    removeSidecar(dir);
    store = await openStore(`file:${dir}`, { schema: SCHEMA });
    try {
      expect(await snapshot(store)).to.deep.equal(before);
      await expectCode(store.collection('user')._new({ email: 'u1@x' }), 'UNIQUE_VIOLATION');
      const retried = await store.collection('user')._new({ name: 'ignored', email: 'u7@x' }, { sid: 'u7', idempotencyKey: 'create-7' });
      expect(retried).to.deep.equal({ country: 'be', email: 'u7@x', name: 'Ann Smith 7', sid: 'u7' });
      expect(await store.log.head()).to.equal(before.head);
      expect((await store.verify()).ok).to.equal(true);
    } finally {
      await store.close();
    }
  });

  it('replaces a sidecar that belongs to another store', async () => {
    const other = path.join(tempDir(), 'other');
    const foreign = await openStore(`file:${other}`, { schema: SCHEMA });
    await foreign.collection('user')._new({ name: 'stranger', email: 's@x' }, { sid: 'zz' });
    await foreign.close();
    let store = await openStore(`file:${dir}`, { schema: SCHEMA });
    const before = await snapshot(store);
    await store.close();
    removeSidecar(dir);
    fs.copyFileSync(path.join(other, SIDECAR_FILE), path.join(dir, SIDECAR_FILE));
    store = await openStore(`file:${dir}`, { schema: SCHEMA });
    try {
      expect(await snapshot(store)).to.deep.equal(before);
      await expectCode(store.collection('user')._get('zz'), 'NOT_FOUND');
    } finally {
      await store.close();
    }
  });

  it('catches a stale sidecar up from the log instead of rebuilding', async () => {
    const stale = fs.readFileSync(path.join(dir, SIDECAR_FILE));
    let store = await openStore(`file:${dir}`, { schema: SCHEMA });
    await store.collection('user')._new({ name: 'late', email: 'late@x' }, { sid: 'late' });
    const before = await snapshot(store);
    await store.close();
    removeSidecar(dir);
    fs.writeFileSync(path.join(dir, SIDECAR_FILE), stale);
    store = await openStore(`file:${dir}`, { schema: SCHEMA });
    try {
      expect(await snapshot(store)).to.deep.equal(before);
      expect(await store.collection('user')._get('late')).to.include({ name: 'late' });
    } finally {
      await store.close();
    }
  });

  it('re-derives unique claims when a unique field is declared later, and refuses clashing data', async () => {
    let store = await openStore(`file:${dir}`);
    await store.collection('user')._new({ nick: 'ann' }, { sid: 'n1' });
    await store.close();
    const withNick = { types: { user: { ...SCHEMA.types.user, unique: ['email', 'nick'] } } };
    store = await openStore(`file:${dir}`, { schema: withNick });
    await expectCode(store.collection('user')._new({ nick: 'ann' }), 'UNIQUE_VIOLATION');
    await store.close();
    store = await openStore(`file:${dir}`);
    await store.collection('user')._new({ nick: 'ann' }, { sid: 'n2' });
    await store.close();
    const refused = await expectCode(openStore(`file:${dir}`, { schema: withNick }), 'INVALID_INPUT');
    expect(refused.message).to.match(/held by both n1 and n2/);
  });
});
