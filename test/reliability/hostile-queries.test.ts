import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect } from 'chai';
import { OsisError, openStore, type Store } from '../../src';
import { parseJsonInput } from '../../src/api/library/json-input';
import { loadSchema } from '../../src/api/library/schema';
import { readSeedFile, seedStore } from '../../src/api/library/seed';
import { parseToml } from '../../src/log/toml-codec';
import { osis } from '../cli/run-osis';
import { expectCode } from '../helpers/expect-error';
import { tempDir } from '../helpers/temp';
import { figure } from './helpers/config';
import { fileFixture, memoryFixture, sqliteFixture } from '../conformance/backends';

const SCHEMA = { types: { item: { index: ['tag'], text: ['title'] } } };

/** SQL that would do damage if it reached a statement as text. */
const SQL = [
  "' OR 1=1 --", '" OR ""="', "x'); DROP TABLE objects; --", '1; DELETE FROM events', "' UNION SELECT data FROM objects --",
  '%', '_', '*', "\\'", 'NULL', '1) OR (1=1', "x' AND json_extract(data,'$.tag') LIKE '%", 'objects', 'sqlite_master',
];
/** FTS5 syntax: column filters, operators, NEAR, prefix, carets, parentheses, quotes. */
const FTS_VALID = [
  'title:alpha', 'alpha AND bravo', 'alpha NOT bravo', 'NEAR(alpha bravo)', 'NEAR(alpha bravo, 2)', '^alpha', 'alpha + bravo', '{title}: alpha',
  '-alpha', '(alpha OR bravo)', 'alpha*', '"alpha bravo"', 'alpha OR bravo', 'al"pha', 'rowid:1', '* alpha', "alpha'", 'alpha) OR (1',
  "x'); DROP TABLE objects; --", 'body MATCH alpha', 'bm25(fts_item)',
];
/** Invalid search syntax: each must be refused with a message that says what is wrong. */
const FTS_INVALID: [string, RegExp][] = [
  ['"alpha bravo', /unterminated phrase/],
  ['OR', /OR without a term/],
  ['alpha OR', /ends with OR/],
  ['OR alpha', /OR without a term/],
  ['alpha OR OR bravo', /OR without a term/],
  ['***', /no searchable term/],
  ['()', /no searchable term/],
  ['', /no searchable term/],
  ['x'.repeat(1001), /longer than 1000/],
];

function schemaOf(db: import('better-sqlite3').Database): string {
  return JSON.stringify(db.prepare('SELECT type, name, sql FROM sqlite_master ORDER BY name').all());
}

describe('hostile queries: SQL and FTS5 syntax in filters and text never inject', function () {
  this.timeout(60_000);
  let tried = 0;
  after(() => figure(`hostile queries: ${tried} filters and text queries tried, 0 injections, schema and data unchanged`));

  for (const fixture of [memoryFixture, sqliteFixture, fileFixture]) {
    it(`${fixture.name}: SQL in filter values matches only equal values; FTS5 syntax is searched as words; bad syntax gets a clear error`, async () => {
      const store: Store = await openStore(fixture.freshUrl(), { schema: SCHEMA });
      try {
        const items = store.collection('item');
        for (const [i, s] of SQL.entries()) await items._new({ tag: s, title: `alpha bravo ${i}`, other: s }, { sid: `s${i}` });
        await items._new({ tag: 'plain', title: 'charlie' }, { sid: 'plain' });
        const db = store.projectionEngine.db;
        // As every read does: bring the projections level with the log (the file writer indexes its own
        // appends up to 10 ms later), then the full text.
        await store.catchUp();
        await store.projectionEngine.ensureFullText();
        const schemaBefore = schemaOf(db);
        const head = await store.log.head();
        for (const [i, s] of SQL.entries()) {
          for (const field of ['tag', 'other']) {
            tried++;
            expect((await items._find({ filter: { [field]: s } })).items, `${field} = ${s}`).to.deep.equal([`s${i}`]);
            tried++;
            expect((await items._find({ filter: { [field]: { in: [s, 'nope'] } } })).items).to.deep.equal([`s${i}`]);
            tried++;
            const others = (await items._find({ filter: { [field]: { ne: s } }, limit: 100 })).items;
            expect(others).to.not.include(`s${i}`);
          }
        }
        for (const q of FTS_VALID) {
          tried++;
          const [outcome] = await Promise.allSettled([items._find({ text: q, limit: 100 })]);
          if (outcome.status === 'rejected') {
            expect(outcome.reason instanceof OsisError && outcome.reason.code === 'INVALID_INPUT', `${q}: ${outcome.reason}`).to.equal(true);
          }
        }
        expect((await items._find({ text: 'title:alpha' })).items, 'a column filter is just words').to.deep.equal([]);
        expect((await items._find({ text: 'NEAR(alpha bravo)', limit: 100 })).items, 'NEAR( is a word, not an operator').to.deep.equal([]);
        for (const [q, message] of FTS_INVALID) {
          tried++;
          const error = await expectCode(items._find({ text: q }), 'INVALID_INPUT');
          expect(error.message, q).to.match(message);
          expect(error.message, q).to.not.match(/sqlite|fts5 syntax/i);
        }
        for (const field of ["tag') OR 1=1 --", 'tag;', 'TAG', 'tag"', 'json_extract(data)']) {
          tried++;
          await expectCode(items._find({ filter: { [field]: 'x' } }), 'INVALID_INPUT');
        }
        for (const sort of ['title', 'title; DROP TABLE objects', 'rank']) {
          tried++;
          await expectCode(items._find({ sort } as never), 'INVALID_INPUT');
        }
        expect(schemaOf(db), 'sqlite_master').to.equal(schemaBefore);
        expect(await store.log.head()).to.equal(head);
        expect((await items._list({ limit: 100 })).items).to.have.length(SQL.length + 1);
        expect((await store.verify()).ok).to.equal(true);
      } finally {
        await store.close();
      }
    });
  }

  it('the CLI reports invalid search syntax as a usage error with the reason', () => {
    const url = `sqlite:${path.join(tempDir(), 'osis.db')}`;
    expect(osis(['new', 'item', '{"title":"alpha"}', '--store', url]).code).to.equal(0);
    const run = osis(['find', 'item', '--text', '"alpha', '--store', url]);
    expect(run.code).to.equal(2);
    expect(run.stderr).to.match(/^osis: INVALID_INPUT: text query has an unterminated phrase starting at character 1/);
  });
});

describe('__proto__ in JSON and TOML never pollutes and is never silently dropped', () => {
  afterEach(() => {
    expect(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted'), 'Object.prototype.polluted').to.equal(false);
  });

  it('the TOML codec keeps [__proto__] tables and keys as own data (checked behaviour of smol-toml), never as prototypes', () => {
    const table = parseToml('[__proto__]\npolluted = 1\n');
    expect(Object.getOwnPropertyNames(table)).to.deep.equal(['__proto__']);
    expect(Object.getPrototypeOf(table)).to.equal(Object.prototype);
    const nested = parseToml('[a.__proto__]\npolluted = 1\n[b]\nc = { __proto__ = { polluted = 2 } }\n');
    expect(Object.getOwnPropertyNames(nested.a)).to.deep.equal(['__proto__']);
    expect(Object.getPrototypeOf(nested.a)).to.equal(Object.prototype);
    expect(Object.getOwnPropertyNames((nested.b as Record<string, unknown>).c)).to.deep.equal(['__proto__']);
    expect(Object.getOwnPropertyNames(parseToml('[[__proto__]]\nx = 1\n'))).to.deep.equal(['__proto__']);
    expect(Object.getOwnPropertyNames(parseToml('[constructor.prototype]\npolluted = 1\n'))).to.deep.equal(['constructor']);
  });

  it('schema files with [__proto__], [types.__proto__] or prototype keys are refused by name', () => {
    const dir = tempDir();
    const cases: [string, RegExp][] = [
      ['[__proto__]\npolluted = 1\n', /unknown key "__proto__"/],
      ['[types.__proto__]\nindex = ["a"]\n', /invalid type name "__proto__"/],
      ['[types.user.__proto__]\npolluted = 1\n', /unknown key "__proto__"/],
      ['[types.user]\nindex = ["__proto__"]\n', /invalid field name "__proto__"/],
      ['[constructor.prototype]\npolluted = 1\n', /unknown key "constructor"/],
      ['__proto__ = { polluted = 1 }\n', /unknown key "__proto__"/],
    ];
    for (const [i, [text, message]] of cases.entries()) {
      const file = path.join(dir, `schema${i}.toml`);
      fs.writeFileSync(file, text);
      let error: unknown;
      try {
        loadSchema(file);
      } catch (e) {
        error = e;
      }
      expect((error as OsisError)?.code, text).to.equal('INVALID_INPUT');
      expect((error as Error).message, text).to.match(message);
    }
  });

  it('seed files (TOML and JSON) with __proto__ tables or keys are refused and write nothing', async () => {
    const dir = tempDir();
    const cases = [
      ['seed0.toml', '[[__proto__]]\nsid = "a"\n'],
      ['seed1.toml', '[[user]]\nsid = "a"\n[user.__proto__]\npolluted = 1\n'],
      ['seed2.toml', '[[user]]\nsid = "a"\nprofile = { __proto__ = { polluted = 1 } }\n'],
      ['seed3.toml', '[[user]]\nsid = "a"\n[[user]]\nsid = "b"\n[user.constructor.prototype]\npolluted = 1\n'],
      ['seed4.json', '{"user":[{"sid":"a"},{"sid":"b","__proto__":{"polluted":1}}]}'],
      ['seed5.json', '{"__proto__":[{"sid":"a"}]}'],
      ['seed6.json', '{"user":[{"sid":"a","x":{"constructor":{"prototype":{"polluted":1}}}}]}'],
    ];
    const store = await openStore('memory:');
    try {
      for (const [name, text] of cases) {
        const file = path.join(dir, name);
        fs.writeFileSync(file, text);
        await expectCode((async () => seedStore(store, readSeedFile(file)))(), 'INVALID_INPUT');
      }
      expect(await store.log.head()).to.equal(0);
    } finally {
      await store.close();
    }
  });

  it('JSON input and CLI arguments with __proto__ are refused', () => {
    for (const text of ['{"__proto__":{"polluted":1}}', '{"a":[{"__proto__":{"polluted":1}}]}', '{"constructor":{"prototype":{"polluted":1}}}']) {
      expect(() => parseJsonInput(text), text).to.throw(/is not allowed/);
    }
    const url = `sqlite:${path.join(tempDir(), 'osis.db')}`;
    const run = osis(['new', 'user', '{"name":"a","x":{"__proto__":{"polluted":1}}}', '--store', url]);
    expect(run.code).to.equal(2);
    expect(run.stderr).to.match(/^osis: INVALID_INPUT: key "__proto__" at \/x is not allowed/);
  });
});
