import { expect } from 'chai';
import type { BackendFixture } from './backends';
import { useStore } from './context';
import { expectCode } from '../helpers/expect-error';

export function concurrencyCases(fixture: BackendFixture): void {
  describe('optimistic concurrency, unique keys, idempotency', () => {
    const ctx = useStore(fixture);

    it('rejects a _set, _update or _delete whose expected version is stale, writing nothing', async () => {
      const users = ctx.store().collection('user');
      await users._new({ name: 'Ann' }, { sid: 'u1' });
      await users._update('u1', { name: 'Ann 2' });
      const head = await ctx.store().log.head();
      const conflict = await expectCode(users._set({ sid: 'u1', name: 'stale' }, { expectedVersion: 1 }), 'VERSION_CONFLICT');
      expect(conflict.details).to.include({ expected: 1, actual: 2 });
      await expectCode(users._update('u1', { name: 'stale' }, { expectedVersion: 1 }), 'VERSION_CONFLICT');
      await expectCode(users._delete('u1', { expectedVersion: 1 }), 'VERSION_CONFLICT');
      expect(await ctx.store().log.head()).to.equal(head);
      expect(await users._get('u1')).to.deep.equal({ sid: 'u1', name: 'Ann 2' });
    });

    it('accepts writes whose expected version is current', async () => {
      const users = ctx.store().collection('user');
      await users._new({ name: 'Ann' }, { sid: 'u1' });
      await users._set({ sid: 'u1', name: 'B' }, { expectedVersion: 1 });
      await users._update('u1', { name: 'C' }, { expectedVersion: 2 });
      await users._delete('u1', { expectedVersion: 3 });
      expect(await users._exists('u1')).to.equal(false);
    });

    it('rejects _new of a sid that exists with VERSION_CONFLICT', async () => {
      const users = ctx.store().collection('user');
      await users._new({ name: 'Ann' }, { sid: 'u1' });
      await expectCode(users._new({ name: 'Other' }, { sid: 'u1' }), 'VERSION_CONFLICT');
      expect(await users._get('u1')).to.deep.equal({ sid: 'u1', name: 'Ann' });
    });

    it('lets exactly one of many concurrent _update calls with the same expected version win', async () => {
      const users = ctx.store().collection('user');
      await users._new({ n: 0 }, { sid: 'u1' });
      const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => users._update('u1', { n: i + 1 }, { expectedVersion: 1 })));
      expect(results.filter((r) => r.status === 'fulfilled')).to.have.length(1);
      for (const r of results) if (r.status === 'rejected') expect(r.reason.code).to.equal('VERSION_CONFLICT');
    });

    it('retries unconditioned concurrent _update calls so none is lost', async () => {
      const users = ctx.store().collection('user');
      await users._new({}, { sid: 'u1' });
      await Promise.all(Array.from({ length: 8 }, (_, i) => users._update('u1', { [`f${i}`]: i })));
      const object = await users._get('u1');
      for (let i = 0; i < 8; i++) expect(object).to.have.property(`f${i}`, i);
    });

    it('enforces declared unique fields on create and update, and frees them on delete', async () => {
      const users = ctx.store().collection('user');
      await users._new({ email: 'a@x' }, { sid: 'u1' });
      await users._new({ email: 'b@x' }, { sid: 'u2' });
      const clash = await expectCode(users._new({ email: 'a@x' }, { sid: 'u3' }), 'UNIQUE_VIOLATION');
      expect(clash.details).to.include({ field: 'email', heldBy: 'u1' });
      await expectCode(users._update('u2', { email: 'a@x' }), 'UNIQUE_VIOLATION');
      await users._update('u1', { email: 'a@x', name: 'same email is fine' });
      await users._delete('u1');
      await users._update('u2', { email: 'a@x' });
      expect(await users._exists('u3')).to.equal(false);
    });

    it('lets one of many concurrent creators of one unique value win', async () => {
      const users = ctx.store().collection('user');
      const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => users._new({ email: 'same@x' }, { sid: `c${i}` })));
      expect(results.filter((r) => r.status === 'fulfilled')).to.have.length(1);
      expect(results.filter((r) => r.status === 'rejected' && r.reason.code === 'UNIQUE_VIOLATION')).to.have.length(19);
    });

    it('does not apply unique constraints to undeclared types', async () => {
      const notes = ctx.store().collection('note');
      await notes._new({ email: 'a@x' });
      await notes._new({ email: 'a@x' });
      expect((await notes._list()).items).to.have.length(2);
    });

    it('returns the original outcome for a retried idempotency key, writing one event', async () => {
      const users = ctx.store().collection('user');
      const first = await users._new({ name: 'Ann' }, { idempotencyKey: 'req-1' });
      const again = await users._new({ name: 'Ann' }, { idempotencyKey: 'req-1' });
      expect(again.sid).to.equal(first.sid);
      expect(await ctx.store().log.head()).to.equal(1);
      const history = await users._history(first.sid as string);
      expect(history[0].meta).to.include({ idempotencyKey: 'req-1' });
    });

    it('fails one conflicting append alone while concurrent ones commit (group commit)', async () => {
      const users = ctx.store().collection('user');
      await users._new({ name: 'x' }, { sid: 'taken' });
      const writes = Array.from({ length: 200 }, (_, i) => users._new({ i }, { sid: i === 100 ? 'taken' : `g${i}` }));
      const results = await Promise.allSettled(writes);
      expect(results.filter((r) => r.status === 'rejected')).to.have.length(1);
      expect((results[100] as PromiseRejectedResult).reason.code).to.equal('VERSION_CONFLICT');
      expect(await ctx.store().log.head()).to.equal(200);
      const positions = (await ctx.store().log.readAll(1)).map((e) => e.position);
      expect(positions).to.have.length(200);
      expect(positions.every((p, i) => i === 0 || p > positions[i - 1])).to.equal(true);
    });
  });
}
