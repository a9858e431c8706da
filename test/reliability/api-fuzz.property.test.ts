import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect } from 'chai';
import fc from 'fast-check';
import { OsisError, openStore, type Store } from '../../src';
import { runCli } from '../../src/api/cli/main';
import { parseJsonInput } from '../../src/api/library/json-input';
import { parseSchema } from '../../src/api/library/schema';
import { checkSeed, readSeedFile, seedStore } from '../../src/api/library/seed';
import { parseToml, stringifyToml } from '../../src/log/toml-codec';
import { tempDir } from '../helpers/temp';
import { captureOutput } from './helpers/capture';
import { RELIABILITY, figure } from './helpers/config';

const SCHEMA = { types: { item: { index: ['n'], unique: ['email'], text: ['title'] } } };
const RUNS = RELIABILITY.runs;

/** Keys that attack prototypes or names, mixed with ordinary ones. */
const hostileKey = fc.constantFrom('__proto__', 'constructor', 'prototype', 'sid', 'n', 'email', 'title', 'Bad-Key', '', 'a.b', '../x', 'toString', 'valueOf');
const key = fc.oneof(hostileKey, fc.string({ maxLength: 6 }));

/** JSON text built from values with hostile keys (JSON.stringify of an own "__proto__" key keeps it). */
const jsonValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.oneof(fc.integer(), fc.double(), fc.constant(1e309 as number)),
    fc.string({ maxLength: 10 }),
    fc.string({ maxLength: 10, unit: 'binary' }),
    fc.array(tie('value'), { maxLength: 4 }),
    tie('object'),
  ),
  object: fc.array(fc.tuple(key, tie('value')), { maxLength: 5 }).map((entries) => {
    const o: Record<string, unknown> = {};
    for (const [k, v] of entries) Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
    return o;
  }),
})).value;

const sidArb = fc.oneof(fc.constantFrom('a', 'b', 'c', 'new1'), fc.constantFrom('../x', '', 'a/b', '%2e%2e', 'x'.repeat(129)), fc.string({ maxLength: 5 }));
/** Objects near validity: a sid and a few fields, some of them bad. */
const objectish = fc
  .tuple(fc.option(sidArb, { nil: undefined }), fc.array(fc.tuple(fc.oneof(fc.constantFrom('n', 'email', 'title', 'note'), key), jsonValue), { maxLength: 4 }))
  .map(([sid, entries]) => {
    const o: Record<string, unknown> = {};
    for (const [k, v] of entries) Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
    if (sid !== undefined) o.sid = sid;
    return o;
  });
/** Options near validity: known option names with random values, or anything. */
const optionish = fc.oneof(
  fc.record(
    { sid: sidArb, expectedVersion: fc.oneof(fc.integer({ min: -1, max: 3 }), fc.constantFrom('any', 'exists', 'no_stream', 'latest', null)), idempotencyKey: fc.oneof(fc.string(), jsonValue), meta: jsonValue, at: jsonValue, withMeta: jsonValue, limit: jsonValue, cursor: jsonValue, filter: jsonValue, text: jsonValue },
    { requiredKeys: [] },
  ),
  fc.constantFrom(null, undefined, 0, '', [], 'x'),
);

/** Text that is JSON, nearly JSON (one edit away), or anything. */
const jsonText = fc.oneof(
  jsonValue.map((v) => JSON.stringify(v) ?? 'null'),
  fc.tuple(jsonValue, fc.nat(), fc.string({ maxLength: 3, unit: 'binary' })).map(([v, at, ins]) => {
    const text = JSON.stringify(v) ?? 'null';
    const i = at % (text.length + 1);
    return text.slice(0, i) + ins + text.slice(i + (at % 2));
  }),
  fc.string({ maxLength: 40, unit: 'binary' }),
  fc.nat({ max: 200 }).map((n) => '['.repeat(n) + ']'.repeat(n)),
);

/** A thrown value is fine only when it is one of the store's typed errors. */
function expectTyped(error: unknown, what: string): asserts error is OsisError {
  if (!(error instanceof OsisError)) throw new Error(`${what} threw an untyped error: ${error instanceof Error ? error.stack : String(error)}`);
}

function expectNoPollution(): void {
  for (const name of ['polluted', 'n', 'email', 'title', 'sid', 'x', 'a']) {
    expect(Object.prototype.hasOwnProperty.call(Object.prototype, name), `Object.prototype.${name}`).to.equal(false);
  }
}

describe('property: random JSON and TOML at the API never crash and never write on error', function () {
  this.timeout(0);
  const tally: Record<string, number> = {};
  const count = (name: string) => (tally[name] = (tally[name] ?? 0) + 1);
  after(() => figure(`API fuzz runs per property: ${Object.entries(tally).map(([k, v]) => `${k} ${v}`).join(', ')}`));

  it('parseJsonInput returns a checked value or throws INVALID_INPUT, for any text', () => {
    fc.assert(
      fc.property(jsonText, (text) => {
        count('parseJsonInput');
        try {
          parseJsonInput(text);
        } catch (error) {
          expectTyped(error, 'parseJsonInput');
          expect(error.code).to.equal('INVALID_INPUT');
        }
        expectNoPollution();
      }),
      { numRuns: RUNS * 5 },
    );
  });

  describe('collection methods', () => {
    let store: Store;
    before(async () => {
      store = await openStore(`sqlite:${path.join(tempDir(), 'osis.db')}`, { schema: SCHEMA, durability: 'normal' });
      await store.collection('item')._new({ n: 1, email: 'taken@e', title: 'seed' }, { sid: 'a' });
    });
    after(() => store.close());

    const anything = fc.oneof(
      objectish,
      optionish,
      sidArb,
      jsonValue,
      fc.anything({ withBigInt: true, withDate: true, withMap: true, withSet: true, withNullPrototype: true, withTypedArray: true, withSparseArray: true, withBoxedValues: true, withObjectString: true }),
    );
    const calls: [string, (s: Store, a: unknown, b: unknown, c: unknown) => Promise<unknown>][] = [
      ['_new', (s, a, b) => s.collection('item')._new(a as never, b as never)],
      ['_set', (s, a, b) => s.collection('item')._set(a as never, b as never)],
      ['_update', (s, a, b, c) => s.collection('item')._update(a as never, b as never, c as never)],
      ['_update a', (s, _a, b, c) => s.collection('item')._update('a', b as never, c as never)],
      ['_delete', (s, a, b) => s.collection('item')._delete(a as never, b as never)],
      ['_get', (s, a, b) => s.collection('item')._get(a as never, b as never)],
      ['_exists', (s, a) => s.collection('item')._exists(a as never)],
      ['_history', (s, a) => s.collection('item')._history(a as never)],
      ['_list', (s, a) => s.collection('item')._list(a as never)],
      ['_find', (s, a) => s.collection('item')._find(a as never)],
      ['_find filter', (s, a) => s.collection('item')._find({ filter: a } as never)],
      ['_find text', (s, a) => s.collection('item')._find({ text: a } as never)],
      ['_seed', (s, a) => s.collection('item')._seed(a as never)],
      ['collection', async (s, a) => s.collection(a as never)],
    ];
    for (const [name, call] of calls) {
      it(`${name}(random values) resolves, or rejects with a typed error and an unchanged log`, async () => {
        await fc.assert(
          fc.asyncProperty(anything, anything, anything, async (a, b, c) => {
            count(name);
            const head = await store.log.head();
            try {
              await call(store, a, b, c);
            } catch (error) {
              expectTyped(error, `${name}(${fc.stringify([a, b, c])})`);
              expect(await store.log.head(), `${name} wrote although it failed with ${error.code}`).to.equal(head);
            }
            expectNoPollution();
          }),
          { numRuns: RUNS },
        );
      });
    }
  });

  describe('TOML, schema and seed parsing', () => {
    const tomlText = fc.oneof(
      jsonValue.filter((v): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v)).map((v) => {
        try {
          return stringifyToml(v);
        } catch {
          return 'a = 1';
        }
      }),
      fc.tuple(fc.constantFrom('[types.item]\nindex = ["n"]\n', '[[item]]\nsid = "a"\nn = 1\n', '[__proto__]\npolluted = 1\n', '[[item]]\nsid = "b"\n[item.__proto__]\npolluted = 1\n', 'a = { __proto__ = { polluted = 1 } }\n'), fc.nat(), fc.string({ maxLength: 3, unit: 'binary' })).map(([t, at, ins]) => {
        const i = at % (t.length + 1);
        return t.slice(0, i) + ins + t.slice(i + (at % 2));
      }),
      fc.string({ maxLength: 60, unit: 'binary' }),
    );

    const seedText = fc.tuple(fc.array(objectish, { maxLength: 4 }), fc.boolean()).map(([objects, toml]) => {
      if (!toml) return JSON.stringify({ item: objects });
      try {
        return stringifyToml({ item: objects } as never);
      } catch {
        return JSON.stringify({ item: objects });
      }
    });

    it('parseToml, parseSchema and checkSeed return values or throw INVALID_INPUT', () => {
      fc.assert(
        fc.property(tomlText, (text) => {
          count('toml');
          for (const step of [() => parseToml(text), () => parseSchema(parseToml(text), 'schema'), () => checkSeed(parseToml(text))]) {
            try {
              step();
            } catch (error) {
              expectTyped(error, `TOML step on ${JSON.stringify(text)}`);
              expect(error.code).to.equal('INVALID_INPUT');
            }
          }
          expectNoPollution();
        }),
        { numRuns: RUNS * 5 },
      );
    });

    it('a seed file (TOML or JSON) either seeds or fails without writing anything', async () => {
      const dir = tempDir();
      let i = 0;
      await fc.assert(
        fc.asyncProperty(fc.oneof(tomlText, jsonText, seedText), fc.boolean(), async (text, asJson) => {
          count('seed file');
          const file = path.join(dir, `seed${i++}.${asJson ? 'json' : 'toml'}`);
          fs.writeFileSync(file, text);
          const store = await openStore('memory:', { schema: SCHEMA });
          try {
            await seedStore(store, readSeedFile(file));
          } catch (error) {
            expectTyped(error, `seed ${JSON.stringify(text)}`);
            expect(await store.log.head(), `seed wrote although it failed with ${error.code}`).to.equal(0);
          } finally {
            await store.close();
          }
          expectNoPollution();
        }),
        { numRuns: RUNS },
      );
    });
  });

  it('CLI JSON arguments: exit 0, 2, 3 or 4 with an "osis: CODE:" line, and nothing written on error', async () => {
    const url = `sqlite:${path.join(tempDir(), 'osis.db')}`;
    const head = async () => {
      const store = await openStore(url);
      try {
        return await store.log.head();
      } finally {
        await store.close();
      }
    };
    await captureOutput(() => runCli(['new', 'item', '{"n":1}', '--sid', 'a', '--store', url]));
    await fc.assert(
      fc.asyncProperty(jsonText, fc.constantFrom('new', 'set', 'update', 'where', 'text'), async (text, command) => {
        count('cli');
        const argv =
          command === 'new' ? ['new', 'item', text]
          : command === 'set' ? ['set', 'item', text]
          : command === 'update' ? ['update', 'item', 'a', text]
          : command === 'where' ? ['find', 'item', '--where', `n=${text}`]
          : ['find', 'item', '--text', text];
        const before = await head();
        process.exitCode = undefined;
        const { value: code, stderr } = await captureOutput(() => runCli([...argv, '--store', url, '--schema', writeSchema()]));
        process.exitCode = undefined;
        expect([0, 2, 3, 4], `osis ${argv.join(' ')}: ${stderr}`).to.include(code);
        if (code !== 0) {
          expect(stderr, `osis ${argv.join(' ')}`).to.match(/^osis: [A-Z_]+: /);
          expect(await head(), `osis ${argv.join(' ')} wrote although it exited ${code}`).to.equal(before);
        }
        expectNoPollution();
      }),
      { numRuns: RUNS },
    );
  });
});

let schemaFile: string | undefined;
function writeSchema(): string {
  if (!schemaFile) {
    schemaFile = path.join(tempDir(), 'osis.toml');
    fs.writeFileSync(schemaFile, '[types.item]\nindex = ["n"]\nunique = ["email"]\ntext = ["title"]\n');
  }
  return schemaFile;
}
