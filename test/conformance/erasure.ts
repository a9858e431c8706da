import { expect } from 'chai';
import { openStore, type Store } from '../../src';
import type { StoredEvent } from '../../src/log/event';
import { PersonalEventLog } from '../../src/log/personal';
import type { BackendFixture } from './backends';
import { expectCode } from '../helpers/expect-error';

/** The schema of the erasure cases: `user` has personal fields, one of them unique and indexed, two in full text. */
export const PERSONAL_SCHEMA = {
  types: {
    user: { index: ['country', 'email'], unique: ['email'], text: ['name', 'bio'], personal: ['name', 'email', 'phone'] },
    plain: { index: ['country'] },
  },
};

/** The events as the backend's own log stores them (under the personal-data decorator). */
export async function rawEvents(store: Store): Promise<StoredEvent[]> {
  const log = store.eventLog;
  if (!(log instanceof PersonalEventLog)) throw new Error('expected a store with personal data');
  return log.inner.readAll(1);
}

export function erasureCases(fixture: BackendFixture): void {
  if (!fixture.caps.erasure) {
    describe('personal fields and erase (crypto-shredding)', () => {
      it('refuses personal fields at open with a clear error, writing nothing (this backend keeps no data keys)', async () => {
        const url = fixture.freshUrl();
        const error = await openStore(url, { schema: PERSONAL_SCHEMA }).then(() => undefined, (e) => e);
        expect(error?.code).to.equal('INVALID_INPUT');
        expect(error.message).to.match(/personal fields .* need a key store/);
        const plain = await openStore(url, { schema: { types: { user: { index: ['country'] } } } });
        try {
          expect(await plain.log.head()).to.equal(0);
          await expectCode(plain.collection('user')._erase('u1'), 'INVALID_INPUT');
        } finally {
          await plain.close();
        }
      });
    });
    return;
  }
  describe('personal fields and erase (crypto-shredding)', () => {
    let store: Store;
    let url: string;
    beforeEach(async () => {
      url = fixture.freshUrl();
      store = await openStore(url, { schema: PERSONAL_SCHEMA, durability: 'normal' });
    });
    afterEach(async () => store?.close());

    const ann = { name: 'Annabel Quorvex', email: 'annabel.quorvex@example.org', phone: '+32 470 11 22 33', country: 'be', bio: 'likes chess' };

    it('round-trips personal fields, stored sealed in the log and plain in reads, queries and history', async () => {
      const users = store.collection('user');
      await users._new(ann, { sid: 'u1' });
      await users._update('u1', { bio: 'likes chess and go' });
      expect(await users._get('u1')).to.deep.equal({ sid: 'u1', ...ann, bio: 'likes chess and go' });
      expect((await users._find({ filter: { email: ann.email } })).items).to.deep.equal(['u1']);
      expect((await users._find({ text: 'quorvex' })).items).to.deep.equal(['u1']);
      const history = await users._history('u1');
      expect(history.map((e) => e.data.email)).to.deep.equal([ann.email, ann.email]);
      const raw = (await rawEvents(store)).filter((e) => e.sid === 'u1');
      expect(raw).to.have.length(2);
      for (const event of raw) {
        for (const field of ['name', 'email', 'phone']) expect(event.data[field]).to.have.property('$enc').that.is.a('string');
        expect(event.data.country).to.equal('be');
        expect(JSON.stringify(event.data)).to.not.include('Quorvex').and.not.include('annabel');
      }
      expect(new Set(raw.map((e) => (e.data.email as { $enc: string }).$enc.split(':')[0])).size, 'one data key per object').to.equal(1);
    });

    it('erases: NOT_FOUND, history without personal values, no index, text or unique claim left', async () => {
      const users = store.collection('user');
      await users._new(ann, { sid: 'u1' });
      await users._update('u1', { country: 'nl' });
      await users._new({ name: 'Bob Other', email: 'bob@example.org', country: 'be' }, { sid: 'u2' });
      const before = await users._history('u1');
      await users._erase('u1', { reason: 'GDPR art. 17 request 42', meta: { actor: 'dpo' } });

      await expectCode(users._get('u1'), 'NOT_FOUND');
      expect(await users._exists('u1')).to.equal(false);
      const history = await users._history('u1');
      expect(history.map((e) => [e.kind, e.version, e.position, e.ts])).to.deep.equal([
        ...before.map((e) => [e.kind, e.version, e.position, e.ts]),
        ['erased', 3, history[2].position, history[2].ts],
      ]);
      for (const event of history) {
        expect(event.data).to.not.have.any.keys('name', 'email', 'phone');
        expect(JSON.stringify(event)).to.not.include('Quorvex');
      }
      expect(history[1].data.country, 'other fields stay').to.equal('nl');
      expect(history[2].meta).to.include({ reason: 'GDPR art. 17 request 42', actor: 'dpo' });
      expect((await users._find({ filter: { email: ann.email } })).items).to.deep.equal([]);
      expect((await users._find({ text: 'quorvex' })).items).to.deep.equal([]);
      expect((await users._list()).items).to.deep.equal(['u2']);
      expect(await users._get('u2')).to.include({ name: 'Bob Other' });
      // the unique email is free again
      await users._new({ name: 'Annabel Q.', email: ann.email }, { sid: 'u3' });
      expect((await users._find({ filter: { email: ann.email } })).items).to.deep.equal(['u3']);
    });

    it('an erased object is erased at every point in time, and after a rebuild', async () => {
      const users = store.collection('user');
      await users._new(ann, { sid: 'u1' });
      await users._update('u1', { bio: 'go' });
      await users._new({ name: 'Bob', country: 'be' }, { sid: 'u2' });
      const head = await store.log.head();
      await users._erase('u1');
      for (let at = 1; at <= head + 1; at++) {
        await expectCode(users._get('u1', { at }), 'NOT_FOUND');
        expect((await users._list({ at })).items, `_list at ${at}`).to.not.include('u1');
        expect((await users._find({ at, filter: { country: 'be' } })).items, `_find at ${at}`).to.not.include('u1');
      }
      await users._get('u2', { at: head });
      await store.rebuild();
      await expectCode(users._get('u1'), 'NOT_FOUND');
      expect((await users._find({ text: 'quorvex' })).items).to.deep.equal([]);
      const report = await store.verify();
      expect(report.problems).to.deep.equal([]);
    });

    it('the log and the change feed carry no personal value of an erased object', async () => {
      const users = store.collection('user');
      await users._new(ann, { sid: 'u1' });
      await users._erase('u1', { reason: 'request' });
      const events = await store.log.readAll(1);
      expect(events.map((e) => e.kind)).to.deep.equal(['created', 'erased']);
      expect(events[0].shredded).to.equal(true);
      expect(JSON.stringify(events)).to.not.include('Quorvex').and.not.include('annabel');
      expect(events[0].data).to.deep.equal({ sid: 'u1', country: 'be', bio: 'likes chess' });
    });

    it('refuses to erase twice, to update an erased object, an unknown object, or a type without personal fields', async () => {
      const users = store.collection('user');
      await users._new(ann, { sid: 'u1' });
      await users._erase('u1');
      const again = await expectCode(users._erase('u1'), 'NOT_FOUND');
      expect(again.message).to.include('already erased');
      await expectCode(users._update('u1', { country: 'fr' }), 'NOT_FOUND');
      await expectCode(users._set({ sid: 'u1', name: 'X' }), 'NOT_FOUND');
      await expectCode(users._delete('u1'), 'NOT_FOUND');
      const unknown = await expectCode(users._erase('nobody'), 'NOT_FOUND');
      expect(unknown.message).to.include('user/nobody');
      await store.collection('plain')._new({ country: 'be' }, { sid: 'p1' });
      const plain = await expectCode(store.collection('plain')._erase('p1'), 'INVALID_INPUT');
      expect(plain.message).to.include('declares no personal fields');
      await expectCode(store.collection('ghost')._erase('g1'), 'INVALID_INPUT');
      await expectCode(users._erase('u1', { reason: 42 as unknown as string }), 'INVALID_INPUT');
      await expectCode(users._erase('u1', { bogus: 1 } as never), 'INVALID_INPUT');
    });

    it('erases an object without personal values, and a deleted object', async () => {
      const users = store.collection('user');
      await users._new({ country: 'be' }, { sid: 'u1' });
      await users._erase('u1');
      await expectCode(users._get('u1'), 'NOT_FOUND');
      await users._new(ann, { sid: 'u2' });
      await users._delete('u2');
      await users._erase('u2');
      const history = await users._history('u2');
      expect(history.map((e) => e.kind)).to.deep.equal(['created', 'deleted', 'erased']);
      expect(JSON.stringify(history)).to.not.include('Quorvex');
    });

    it('a sid can be used again after its erasure, with new keys', async () => {
      const users = store.collection('user');
      await users._new(ann, { sid: 'u1' });
      await users._erase('u1');
      await users._new({ name: 'Carla New', email: 'carla@example.org' }, { sid: 'u1' });
      expect(await users._get('u1')).to.deep.equal({ sid: 'u1', name: 'Carla New', email: 'carla@example.org' });
      const history = await users._history('u1');
      expect(history.map((e) => e.kind)).to.deep.equal(['created', 'erased', 'created']);
      expect(history[0].data).to.not.have.property('name');
      expect(history[2].data.name).to.equal('Carla New');
    });

    if (fixture.caps.persistent) {
      it('keeps live personal values readable, and erased ones gone, after reopening', async () => {
        const users = store.collection('user');
        await users._new(ann, { sid: 'u1' });
        await users._new({ name: 'Bob Keeper', email: 'bob@example.org' }, { sid: 'u2' });
        await users._erase('u1');
        await store.close();
        store = await openStore(url, { schema: PERSONAL_SCHEMA, durability: 'normal' });
        const again = store.collection('user');
        expect(await again._get('u2')).to.include({ name: 'Bob Keeper', email: 'bob@example.org' });
        await again._update('u2', { country: 'lu' });
        expect(await again._get('u2')).to.include({ name: 'Bob Keeper', country: 'lu' });
        await expectCode(again._get('u1'), 'NOT_FOUND');
        expect(JSON.stringify(await again._history('u1'))).to.not.include('Quorvex');
        expect((await again._find({ text: 'keeper' })).items).to.deep.equal(['u2']);
      });

      it('a field once declared personal stays sealed when the store is opened without the schema', async () => {
        await store.collection('user')._new(ann, { sid: 'u1' });
        await store.close();
        store = await openStore(url, { schema: { types: {} }, durability: 'normal' });
        const users = store.collection('user');
        await users._new({ name: 'Dora Schemaless', email: 'dora@example.org' }, { sid: 'u2' });
        expect(await users._get('u2')).to.deep.equal({ sid: 'u2', name: 'Dora Schemaless', email: 'dora@example.org' });
        const raw = (await rawEvents(store)).find((e) => e.sid === 'u2')!;
        expect(raw.data.email).to.have.property('$enc');
        expect(JSON.stringify(raw)).to.not.include('Dora');
        await users._erase('u1');
        await expectCode(users._get('u1'), 'NOT_FOUND');
      });
    }
  });
}
