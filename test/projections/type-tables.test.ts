import Database from 'better-sqlite3';
import { expect } from 'chai';
import fc from 'fast-check';
import * as path from 'node:path';
import { openStore } from '../../src';
import { LIVE, SHADOW, ftsTable, typeOfTable, typeTable } from '../../src/projections/sqlite/tables';
import { tempDir } from '../helpers/temp';
import { RELIABILITY } from '../reliability/helpers/config';

/** The tables SQLite derives from an FTS5 table by appending these (contentless tables use the first four). */
const FTS5_SUFFIXES = ['_data', '_idx', '_config', '_docsize', '_content'];
/** Fixed names of the store's own tables: the log, projections and checkpoints. */
const FIXED = ['events', 'objects', 'object_index', 'objects_next', 'object_index_next', 'projection_checkpoints', 'subscriber_checkpoints'];

/** Every table name a type's per-type tables bring into the database, in both generations. */
function namesOf(type: string): string[] {
  return [LIVE, SHADOW].flatMap((g) => [ftsTable(type, g), ...FTS5_SUFFIXES.map((s) => `${ftsTable(type, g)}${s}`), typeTable(g.championPrefix, type)]);
}

const typeName = fc.oneof(
  fc.stringMatching(/^[a-z][a-z0-9_]{0,20}$/),
  // Names built to collide: another name plus a suffix, a digit run, or a generation prefix.
  fc.tuple(fc.stringMatching(/^[a-z][a-z0-9_]{0,8}$/), fc.constantFrom(...FTS5_SUFFIXES, '_1', '_10_x', 'next_', '4_note')).map(([a, b]) => `${a}${b}`.slice(0, 63)),
  fc.constantFrom('note', 'note_data', 'note_idx', 'note_config', 'note_docsize', 'note_content', 'next_note', 'x', 'x_1_x'),
);

describe('internal table names no type name can produce', () => {
  it('property: two different types never share a table name, FTS5 suffix included (SQLite names ignore case)', () => {
    fc.assert(
      fc.property(typeName, typeName, (a, b) => {
        fc.pre(a !== b);
        const mine = new Set(namesOf(a).map((n) => n.toLowerCase()));
        for (const name of [...namesOf(b), ...FIXED]) expect(mine.has(name.toLowerCase()), `${a} vs ${b}: ${name}`).to.equal(false);
      }),
      { numRuns: RELIABILITY.runs * 20 },
    );
  });

  it('property: a per-type table name gives its type back, and no derived name parses as a table', () => {
    fc.assert(
      fc.property(typeName, fc.constantFrom('fts_', 'ftsnext_', 'ftstop_', 'ftstopnext_'), (type, prefix) => {
        expect(typeOfTable(prefix, typeTable(prefix, type))).to.equal(type);
        for (const suffix of FTS5_SUFFIXES) expect(typeOfTable(prefix, `${typeTable(prefix, type)}${suffix}`)).to.equal(undefined);
        expect(typeOfTable(prefix, `${prefix}${type}`), 'the names of earlier versions').to.equal(undefined);
      }),
      { numRuns: RELIABILITY.runs * 20 },
    );
  });

  for (const backend of ['sqlite', 'file']) {
    for (const order of ['note first', 'note last']) {
      it(`${backend}, ${order}: note beside note_data, note_idx, note_config, note_docsize and note_content: text finds, rebuild and verify work`, async () => {
        const dir = tempDir();
        const url = backend === 'sqlite' ? `sqlite:${path.join(dir, 'osis.db')}` : `file:${path.join(dir, 'log')}`;
        const others = FTS5_SUFFIXES.map((s) => `note${s}`);
        const types = order === 'note first' ? ['note', ...others] : [...others, 'note'];
        const store = await openStore(url);
        try {
          for (const type of types) {
            await store.collection(type)._new({ title: `hello from ${type}` }, { sid: 's1' });
            // Index after each type, so each type's table is created while the others exist.
            expect((await store.collection(type)._find({ text: 'hello' })).items).to.deep.equal(['s1']);
          }
          for (const type of types) expect((await store.collection(type)._find({ text: type.replace(/_/g, ' ') })).items, type).to.deep.equal(['s1']);
          await store.rebuild();
          for (const type of types) expect((await store.collection(type)._find({ text: 'hello' })).items, `${type} after rebuild`).to.deep.equal(['s1']);
          expect((await store.verify()).ok).to.equal(true);
        } finally {
          await store.close();
        }
      });
    }
  }

  it('an existing store with the old table names migrates on open, keeping its index', async () => {
    const file = path.join(tempDir(), 'osis.db');
    const store = await openStore(`sqlite:${file}`);
    await store.collection('note')._new({ title: 'alpha' }, { sid: 'n1' });
    await store.collection('memo')._new({ title: 'beta' }, { sid: 'm1' });
    expect((await store.collection('note')._find({ text: 'alpha' })).items).to.deep.equal(['n1']);
    await store.close();
    // Give the tables the names earlier versions used (FTS5 renames its own tables along).
    const db = new Database(file);
    db.exec(`ALTER TABLE ${ftsTable('note')} RENAME TO fts_note; ALTER TABLE ${ftsTable('memo')} RENAME TO fts_memo;`);
    const fulltext = db.prepare("SELECT position FROM projection_checkpoints WHERE name = 'fulltext'").pluck().get();
    db.close();

    const reopened = await openStore(`sqlite:${file}`);
    try {
      const raw = reopened.projectionEngine.db;
      const names = raw.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'fts%' ORDER BY name").pluck().all() as string[];
      expect(names.filter((n) => !/_(data|idx|config|docsize|content)$/.test(n))).to.deep.equal([ftsTable('memo'), ftsTable('note')]);
      expect(raw.prepare("SELECT position FROM projection_checkpoints WHERE name = 'fulltext'").pluck().get(), 'nothing re-indexed').to.equal(fulltext);
      expect((await reopened.collection('note')._find({ text: 'alpha' })).items).to.deep.equal(['n1']);
      await reopened.collection('note_data')._new({ title: 'gamma' }, { sid: 'd1' });
      expect((await reopened.collection('note_data')._find({ text: 'gamma' })).items).to.deep.equal(['d1']);
      expect((await reopened.collection('note')._find({ text: 'alpha' })).items).to.deep.equal(['n1']);
    } finally {
      await reopened.close();
    }
  });
});
