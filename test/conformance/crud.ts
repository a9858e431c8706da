import { expect } from 'chai';
import type { BackendFixture } from './backends';
import { useStore } from './context';
import { expectCode } from '../helpers/expect-error';

export function crudCases(fixture: BackendFixture): void {
  describe('objects', () => {
    const ctx = useStore(fixture);

    it('creates an object with a minted ULID sid and reads it back', async () => {
      const users = ctx.store().collection('user');
      const ann = await users._new({ name: 'Ann' });
      expect(ann.sid).to.match(/^[0-9A-HJKMNP-TV-Z]{26}$/);
      expect(await users._get(ann.sid as string)).to.deep.equal({ sid: ann.sid, name: 'Ann' });
    });

    it('creates an object under a given sid, from the option or the object', async () => {
      const users = ctx.store().collection('user');
      await users._new({ name: 'Ann' }, { sid: 'u1' });
      await users._new({ sid: 'u2', name: 'Bob' });
      expect(await users._get('u1')).to.deep.equal({ sid: 'u1', name: 'Ann' });
      expect(await users._get('u2')).to.deep.equal({ sid: 'u2', name: 'Bob' });
    });

    it('returns version, position and timestamps with withMeta', async () => {
      const users = ctx.store().collection('user');
      await users._new({ name: 'Ann' }, { sid: 'u1' });
      await users._update('u1', { country: 'be' });
      const record = (await users._get('u1', { withMeta: true })) as Record<string, unknown>;
      expect(record.object).to.deep.equal({ sid: 'u1', name: 'Ann', country: 'be' });
      expect(record.version).to.equal(2);
      expect(record.position).to.equal(2);
      expect(Date.parse(record.created_at as string)).to.be.at.most(Date.parse(record.updated_at as string));
    });

    it('replaces the whole object with _set (OSIS full replace)', async () => {
      const users = ctx.store().collection('user');
      await users._new({ name: 'Ann', country: 'be' }, { sid: 'u1' });
      await users._set({ sid: 'u1', name: 'Ann L.' });
      expect(await users._get('u1')).to.deep.equal({ sid: 'u1', name: 'Ann L.' });
    });

    it('applies an RFC 7396 merge patch with _update', async () => {
      const users = ctx.store().collection('user');
      await users._new({ name: 'Ann', country: 'be', address: { city: 'Gent', zip: '9000' }, tags: ['a'] }, { sid: 'u1' });
      const after = await users._update('u1', { country: null, address: { zip: '9050' }, tags: ['b', 'c'] });
      const expected = { sid: 'u1', name: 'Ann', address: { city: 'Gent', zip: '9050' }, tags: ['b', 'c'] };
      expect(after).to.deep.equal(expected);
      expect(await users._get('u1')).to.deep.equal(expected);
    });

    it('deletes an object; _get then fails with NOT_FOUND and _exists is false', async () => {
      const users = ctx.store().collection('user');
      await users._new({ name: 'Ann' }, { sid: 'u1' });
      expect(await users._exists('u1')).to.equal(true);
      await users._delete('u1');
      expect(await users._exists('u1')).to.equal(false);
      await expectCode(users._get('u1'), 'NOT_FOUND');
    });

    it('fails with NOT_FOUND for _get, _set, _update, _delete and _history of an unknown sid', async () => {
      const users = ctx.store().collection('user');
      await expectCode(users._get('nobody'), 'NOT_FOUND');
      await expectCode(users._set({ sid: 'nobody', name: 'x' }), 'NOT_FOUND');
      await expectCode(users._update('nobody', { name: 'x' }), 'NOT_FOUND');
      await expectCode(users._delete('nobody'), 'NOT_FOUND');
      await expectCode(users._history('nobody'), 'NOT_FOUND');
      expect(await ctx.store().log.head()).to.equal(0);
    });

    it('recreates a deleted sid, continuing its version', async () => {
      const users = ctx.store().collection('user');
      await users._new({ name: 'Ann' }, { sid: 'u1' });
      await users._delete('u1');
      await users._new({ name: 'Ann again' }, { sid: 'u1' });
      const record = (await users._get('u1', { withMeta: true })) as { version: number; object: unknown };
      expect(record.object).to.deep.equal({ sid: 'u1', name: 'Ann again' });
      expect(record.version).to.equal(3);
    });

    it('keeps every change in _history, oldest first', async () => {
      const users = ctx.store().collection('user');
      await users._new({ name: 'Ann' }, { sid: 'u1' });
      await users._update('u1', { name: 'Ann L.' });
      await users._delete('u1');
      const history = await users._history('u1');
      expect(history.map((e) => [e.kind, e.version])).to.deep.equal([['created', 1], ['updated', 2], ['deleted', 3]]);
      expect(history[1].data).to.deep.equal({ sid: 'u1', name: 'Ann L.' });
      expect(history.every((e) => /^[0-9A-HJKMNP-TV-Z]{26}$/.test(e.id))).to.equal(true);
    });

    it('reads an object as it was at a position or a time', async () => {
      const users = ctx.store().collection('user');
      await users._new({ name: 'v1' }, { sid: 'u1' });
      const [first] = await users._history('u1');
      await new Promise((r) => setTimeout(r, 5)); // distinct timestamps: a time-based read includes its whole millisecond
      await users._update('u1', { name: 'v2' });
      await users._delete('u1');
      expect(await users._get('u1', { at: first.position })).to.deep.equal({ sid: 'u1', name: 'v1' });
      expect(await users._get('u1', { at: first.position + 1 })).to.deep.equal({ sid: 'u1', name: 'v2' });
      expect(await users._get('u1', { at: new Date(first.ts) })).to.have.property('sid', 'u1');
      await expectCode(users._get('u1', { at: first.position + 2 }), 'NOT_FOUND');
      await expectCode(users._get('u1', { at: 0 }), 'NOT_FOUND');
      await expectCode(users._get('u1', { at: 'yesterday' }), 'INVALID_INPUT');
    });

    it('keeps types apart: the same sid in two types is two objects', async () => {
      await ctx.store().collection('user')._new({ name: 'Ann' }, { sid: 'x1' });
      await ctx.store().collection('note')._new({ body: 'hello' }, { sid: 'x1' });
      expect(await ctx.store().collection('user')._get('x1')).to.deep.equal({ sid: 'x1', name: 'Ann' });
      expect(await ctx.store().collection('note')._get('x1')).to.deep.equal({ sid: 'x1', body: 'hello' });
    });

    it('stores unicode, nested values and big payloads exactly', async () => {
      const notes = ctx.store().collection('note');
      const object = { sid: 'n1', body: 'ünïcødé 😀 "quotes" \\ back', nested: { a: [1, 2.5, null, true, { b: 'c' }] }, empty: '' };
      await notes._new(object);
      expect(await notes._get('n1')).to.deep.equal(object);
    });

    if (fixture.caps.persistent) {
      it('keeps everything across close and reopen, without rebuilding', async () => {
        const users = ctx.store().collection('user');
        await users._new({ name: 'Ann', email: 'ann@x' }, { sid: 'u1' });
        await users._update('u1', { country: 'be' });
        const store = await ctx.reopen();
        expect(await store.collection('user')._get('u1')).to.deep.equal({ sid: 'u1', name: 'Ann', email: 'ann@x', country: 'be' });
        expect((await store.stats()).checkpoints.objects).to.equal(2);
        await expectCode(store.collection('user')._new({ email: 'ann@x' }), 'UNIQUE_VIOLATION');
        expect((await store.collection('user')._find({ text: 'ann' })).items).to.deep.equal(['u1']);
      });
    }
  });
}
