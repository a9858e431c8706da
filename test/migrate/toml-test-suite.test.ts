import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openStore, type Store } from '../../src';
import { importTree } from '../../src/migrate';
import { decodeFrame, encodeFrame, readFrame } from '../../src/log/otoml-record';
import { fromParsedToml } from '../../src/log/otoml-value';
import { parseToml } from '../../src/log/toml-codec';
import { tempDir } from '../helpers/temp';

/**
 * The valid cases of the TOML project's own suite (toml-lang/toml-test, TOML 1.0.0 list, vendored in
 * test/fixtures/toml-test with its licence) through `osis import` and through the file log's record codec.
 * Each case is one legacy object file. A case the object model can hold must come back equal to the
 * suite's expected JSON; any other must be refused with the reason, never altered.
 */

const ROOT = path.join(__dirname, '..', 'fixtures', 'toml-test');
const FIELD = /^[a-z][a-z0-9_]{0,62}$/;

type Typed = { type: string; value: string } | Typed[] | { [key: string]: Typed };

function isLeaf(value: Typed): value is { type: string; value: string } {
  return !Array.isArray(value) && typeof (value as { type?: unknown }).type === 'string' && typeof (value as { value?: unknown }).value === 'string' && Object.keys(value).length === 2;
}

/** Why the object model cannot hold this expected value (values first, as import reads them before names). */
function refusal(value: Typed): string | undefined {
  return valueRefusal(value) ?? (Object.keys(value).some((key) => !FIELD.test(key)) ? 'invalid field name' : undefined);
}

function valueRefusal(value: Typed): string | undefined {
  if (isLeaf(value)) {
    if (value.type === 'float' && /^[+-]?(inf|nan)$/.test(value.value)) return 'inf or nan';
    if (value.type === 'integer' && !Number.isSafeInteger(Number(value.value))) return 'integer beyond 2^53';
    return undefined;
  }
  for (const item of Array.isArray(value) ? value : Object.values(value)) {
    const reason = valueRefusal(item);
    if (reason) return reason;
  }
  return undefined;
}

/** A date-time text with trailing zeros of its fraction dropped (the suite writes `.6` as `.600`). */
const canonicalTime = (text: string) => text.replace(/\.(\d*?)0+(?=$|Z|[+-])/, (_, digits: string) => (digits ? `.${digits}` : ''));

/** The expected JSON value the store should hold (floats -0.0 compare as 0: JSON numbers have no negative zero). */
function expectedJson(value: Typed): unknown {
  if (isLeaf(value)) {
    switch (value.type) {
      case 'string':
        return value.value;
      case 'bool':
        return value.value === 'true';
      case 'integer':
      case 'float':
        return Number(value.value) + 0;
      default:
        return canonicalTime(value.value);
    }
  }
  if (Array.isArray(value)) return value.map(expectedJson);
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) Object.defineProperty(out, key, { value: expectedJson(item), enumerable: true });
  return out;
}

/** The stored value with date-time texts (where the suite expects a date-time) canonical and -0 as 0. */
function comparable(actual: unknown, expected: Typed): unknown {
  if (isLeaf(expected)) {
    if (typeof actual === 'number') return actual + 0;
    return ['datetime', 'datetime-local', 'date-local', 'time-local'].includes(expected.type) && typeof actual === 'string' ? canonicalTime(actual) : actual;
  }
  if (Array.isArray(expected)) return Array.isArray(actual) ? actual.map((item, i) => comparable(item, expected[i])) : actual;
  if (actual === null || typeof actual !== 'object') return actual;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(actual as Record<string, unknown>)) {
    Object.defineProperty(out, key, { value: key in expected ? comparable(item, (expected as Record<string, Typed>)[key]) : item, enumerable: true });
  }
  return out;
}

interface Case {
  name: string;
  bytes: Buffer;
  expected: Typed;
  reason: string | undefined;
}

function loadCases(): Case[] {
  const out: Case[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.toml')) {
        const expected = JSON.parse(fs.readFileSync(full.replace(/\.toml$/, '.json'), 'utf8')) as Typed;
        out.push({ name: path.relative(ROOT, full), bytes: fs.readFileSync(full), expected, reason: refusal(expected) });
      }
    }
  };
  walk(path.join(ROOT, 'valid'));
  return out;
}

/** The case as a legacy object file: the `O:` line (after a byte-order mark, if the case starts with one). */
function objectFile(bytes: Buffer): Buffer {
  const bom = bytes.subarray(0, 3).equals(Buffer.from([0xef, 0xbb, 0xbf]));
  const crlf = bytes.includes(Buffer.from('\r\n'));
  const head = Buffer.from(`${bom ? '\ufeff' : ''}O:${crlf ? '\r\n' : '\n'}`);
  return Buffer.concat([head, bom ? bytes.subarray(3) : bytes]);
}

const REASONS: Record<string, RegExp> = {
  'inf or nan': /\(inf or nan\) has no JSON form/,
  'integer beyond 2^53': /integer -?\d+ is beyond ±\(2\^53 − 1\)/,
  'invalid field name': /invalid field name .*must match/,
};

describe('toml-test valid cases (TOML 1.0.0) through import and the file log codec', function () {
  this.timeout(120_000);
  const cases = loadCases();
  let store: Store;
  let bad: Map<string, string>;
  const sidOf = (index: number) => `case${index}`;

  before(async () => {
    const dir = path.join(tempDir(), 'tree', 'thing');
    fs.mkdirSync(dir, { recursive: true });
    cases.forEach((c, i) => fs.writeFileSync(path.join(dir, `${sidOf(i)}.otoml`), objectFile(c.bytes)));
    store = await openStore('memory:');
    const report = await importTree(store, path.dirname(dir));
    bad = new Map(report.bad.map((b) => [path.basename(b.path, '.otoml'), b.message]));
  });
  after(async () => store.close());

  it('the suite is here whole: 210 valid cases, each with its expected JSON, and its licence', () => {
    expect(cases.length).to.equal(210);
    expect(fs.readFileSync(path.join(ROOT, 'LICENSE'), 'utf8')).to.match(/MIT License/);
  });

  it('imports every case the object model can hold equal to the expected JSON, and refuses every other with its reason', async () => {
    const passed: string[] = [];
    const refused: string[] = [];
    for (const [i, c] of cases.entries()) {
      const message = bad.get(sidOf(i));
      if (c.reason) {
        expect(message, `${c.name} should be refused: ${c.reason}`).to.be.a('string');
        expect(message, c.name).to.match(REASONS[c.reason]);
        refused.push(`${c.name} (${c.reason})`);
        continue;
      }
      expect(message, `${c.name} was refused`).to.equal(undefined);
      const stored = (await store.collection('thing')._get(sidOf(i))) as Record<string, unknown>;
      const { sid, ...object } = stored;
      expect(sid).to.equal(sidOf(i));
      expect(comparable(object, c.expected), c.name).to.deep.equal(expectedJson(c.expected));
      passed.push(c.name);
    }
    expect(passed.length + refused.length).to.equal(cases.length);
    console.log(`      [toml-test] ${passed.length} pass, ${refused.length} refused: ${refused.join('; ')}`);
  });

  it('the TOML codec reads every case equal to the expected JSON, whatever its keys; only inf, nan and big integers are refused', () => {
    let refused = 0;
    for (const c of cases) {
      const reason = valueRefusal(c.expected);
      const read = () => fromParsedToml(parseToml(c.bytes.toString('utf8'), c.name));
      if (reason) {
        expect(read, c.name).to.throw(REASONS[reason]);
        refused++;
        continue;
      }
      expect(comparable(read(), c.expected), c.name).to.deep.equal(expectedJson(c.expected));
    }
    expect(refused).to.equal(4);
  });

  it('every case goes through a file-log record and back unchanged (as a nested value), and reads the same with a general TOML parser', async () => {
    for (const [i, c] of cases.entries()) {
      if (valueRefusal(c.expected)) continue;
      // As every backend stores it: JSON (where -0.0 is 0).
      const doc = JSON.parse(JSON.stringify(fromParsedToml(parseToml(c.bytes.toString('utf8'), c.name)))) as unknown;
      const data = c.reason ? { sid: sidOf(i), doc } : ((await store.collection('thing')._get(sidOf(i))) as Record<string, unknown>);
      const event = { position: i + 1, id: '01J9Z3M0C8X2T4V6W8Y0A2B4C6', type: 'thing', sid: sidOf(i), kind: 'created' as const, version: 1, ts: '2025-05-01T12:00:00.000Z', data };
      const { bytes } = encodeFrame(event, { part: 1, parts: 1 });
      const read = readFrame(bytes, 0);
      if (!read.ok) throw new Error(`${c.name}: ${read.reason}`);
      expect(decodeFrame(bytes, read.frame).event, c.name).to.deep.equal(event);
      const payload = bytes.subarray(read.frame.payloadStart).toString('utf8');
      const outside = fromParsedToml(parseToml(payload, c.name)) as { data: unknown };
      expect(outside.data, `${c.name} read by a general TOML parser`).to.deep.equal(data);
    }
  });
});
