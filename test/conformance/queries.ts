import { expect } from 'chai';
import type { Collection, Store } from '../../src';
import type { BackendFixture } from './backends';
import { useStore } from './context';
import { expectCode } from '../helpers/expect-error';

async function allPages(fetch: (cursor?: string) => Promise<{ items: unknown[]; next_cursor?: string }>): Promise<unknown[][]> {
  const pages: unknown[][] = [];
  let cursor: string | undefined;
  do {
    const page = await fetch(cursor);
    pages.push(page.items);
    cursor = page.next_cursor;
  } while (cursor);
  return pages;
}

async function snapshot(store: Store): Promise<unknown> {
  const out: Record<string, unknown> = {};
  for (const type of ['user', 'note']) {
    const c = store.collection(type);
    out[type] = {
      all: (await c._list_full({ limit: 10_000 })).items,
      be: (await c._find({ filter: { country: 'be' }, limit: 10_000 })).items,
      text: (await c._find({ text: 'alpha', limit: 10_000 })).items,
    };
  }
  return out;
}

export function queryCases(fixture: BackendFixture): void {
  describe('lists, filters, full text, rebuild', () => {
    const ctx = useStore(fixture);
    let users: Collection;
    beforeEach(() => {
      users = ctx.store().collection('user');
    });

    it('pages through _list in sid order with cursors, each sid once', async () => {
      await Promise.all(Array.from({ length: 250 }, (_, i) => users._new({ i }, { sid: `u${String(i).padStart(3, '0')}` })));
      const pages = await allPages((cursor) => users._list({ limit: 100, cursor }));
      expect(pages.map((p) => p.length)).to.deep.equal([100, 100, 50]);
      const sids = pages.flat();
      expect(sids).to.deep.equal([...sids].sort());
      expect(new Set(sids).size).to.equal(250);
      const full = await users._list_full({ limit: 2 });
      expect(full.items).to.deep.equal([{ sid: 'u000', i: 0 }, { sid: 'u001', i: 1 }]);
    });

    it('filters by equality, range, in and ne on indexed and unindexed fields', async () => {
      for (let i = 0; i < 30; i++) await users._new({ age: i, country: i % 3 === 0 ? 'be' : 'nl', level: i % 2 }, { sid: `u${String(i).padStart(2, '0')}` });
      expect((await users._find({ filter: { country: 'be' } })).items).to.have.length(10);
      expect((await users._find({ filter: { age: { gte: 10, lt: 13 } } })).items).to.deep.equal(['u10', 'u11', 'u12']);
      expect((await users._find({ filter: { age: { in: [1, 2, 99] } } })).items).to.deep.equal(['u01', 'u02']);
      expect((await users._find({ filter: { level: 1, country: 'be' } })).items).to.deep.equal(['u03', 'u09', 'u15', 'u21', 'u27']);
      expect((await users._find({ filter: { country: { ne: 'nl' }, age: { lt: 7 } } })).items).to.deep.equal(['u00', 'u03', 'u06']);
      const pages = await allPages((cursor) => users._find({ filter: { country: 'nl' }, limit: 7, cursor }));
      expect(pages.flat()).to.have.length(20);
      const full = await users._find_full({ filter: { age: 29 } });
      expect(full.items).to.deep.equal([{ sid: 'u29', age: 29, country: 'nl', level: 1 }]);
    });

    it('finds by full text with BM25 ranking, prefixes, phrases, AND and OR', async () => {
      await users._new({ name: 'Ann Lee', bio: 'gardening and chess' }, { sid: 'ann' });
      await users._new({ name: 'Bob Stone', bio: 'chess chess chess, competitive chess player' }, { sid: 'bob' });
      await users._new({ name: 'Cleo', bio: 'likes gardens', country: 'be' }, { sid: 'cleo' });
      expect((await users._find({ text: 'chess' })).items).to.deep.equal(['bob', 'ann']);
      expect((await users._find({ text: 'garden*' })).items).to.have.members(['ann', 'cleo']);
      expect((await users._find({ text: '"competitive chess"' })).items).to.deep.equal(['bob']);
      expect((await users._find({ text: 'chess gardening' })).items).to.deep.equal(['ann']);
      expect((await users._find({ text: 'stone OR cleo' })).items).to.have.members(['bob', 'cleo']);
      expect((await users._find({ text: 'garden*', filter: { country: 'be' } })).items).to.deep.equal(['cleo']);
      expect((await users._find_full({ text: 'lee' })).items).to.deep.equal([{ sid: 'ann', name: 'Ann Lee', bio: 'gardening and chess' }]);
    });

    it('sees the caller’s own preceding writes, updates and deletes in full text', async () => {
      await users._new({ name: 'Zed' }, { sid: 'z' });
      expect((await users._find({ text: 'zed' })).items).to.deep.equal(['z']);
      await users._update('z', { name: 'Yan' });
      expect((await users._find({ text: 'zed' })).items).to.deep.equal([]);
      expect((await users._find({ text: 'yan' })).items).to.deep.equal(['z']);
      await users._delete('z');
      expect((await users._find({ text: 'yan' })).items).to.deep.equal([]);
    });

    it('indexes every top-level string of an undeclared type', async () => {
      const notes = ctx.store().collection('note');
      await notes._new({ title: 'Quarterly report', body: 'numbers', n: 5 }, { sid: 'n1' });
      expect((await notes._find({ text: 'quarterly numbers' })).items).to.deep.equal(['n1']);
    });

    it('pages through ranked text results without repeats', async () => {
      await Promise.all(Array.from({ length: 45 }, (_, i) => users._new({ name: `match ${'x '.repeat(i % 5)}` }, { sid: `m${i}` })));
      const pages = await allPages((cursor) => users._find({ text: 'match', limit: 20, cursor }));
      expect(pages.map((p) => p.length)).to.deep.equal([20, 20, 5]);
      expect(new Set(pages.flat()).size).to.equal(45);
    });

    it('treats FTS5 and SQL syntax in text as plain words, and rejects a broken phrase', async () => {
      await users._new({ name: 'Ann', bio: 'name: NEAR drop table' }, { sid: 'a' });
      for (const text of ['name:Ann', 'NEAR(ann bob)', "'; DROP TABLE objects; --", 'bio:drop', '{name bio}: ann', 'ann AND', 'NOT ann', '^ann', 'ann -bob']) {
        const page = await users._find({ text });
        expect(page.items, text).to.be.an('array');
      }
      expect((await users._find({ text: 'name: NEAR' })).items).to.deep.equal(['a']);
      await expectCode(users._find({ text: '"unterminated' }), 'INVALID_INPUT');
      await expectCode(users._find({ text: '   ' }), 'INVALID_INPUT');
      await expectCode(users._find({ text: 'OR ann' }), 'INVALID_INPUT');
      expect(await users._exists('a')).to.equal(true);
    });

    it('rebuilds projections equal to the ones maintained inline', async () => {
      const notes = ctx.store().collection('note');
      for (let i = 0; i < 60; i++) {
        const sid = `u${i % 17}`;
        const target = i % 2 ? users : notes;
        if (!(await target._exists(sid))) await target._new({ name: `alpha ${i}`, country: i % 3 ? 'be' : 'nl' }, { sid });
        else if (i % 7 === 0) await target._delete(sid);
        else await target._update(sid, { name: i % 4 ? `alpha ${i}` : `beta ${i}`, country: i % 5 ? 'be' : 'nl' });
      }
      const before = await snapshot(ctx.store());
      const result = await ctx.store().rebuild();
      expect(result.events).to.equal(await ctx.store().log.head());
      expect(await snapshot(ctx.store())).to.deep.equal(before);
    });

    it('delivers history then live events through changes() with no gap or duplicate', async () => {
      await users._new({ n: 1 }, { sid: 'a' });
      await users._new({ n: 2 }, { sid: 'b' });
      const seen: number[] = [];
      const done = new Promise<void>((resolve, reject) => {
        const sub = ctx.store().changes({ from: 2, pollMs: 5 }).subscribe({
          next: (e) => {
            seen.push(e.position);
            if (seen.length === 3) {
              sub.unsubscribe();
              resolve();
            }
          },
          error: reject,
        });
      });
      await users._new({ n: 3 }, { sid: 'c' });
      await users._update('a', { n: 4 });
      await done;
      expect(seen).to.deep.equal([2, 3, 4]);
    });
  });
}
