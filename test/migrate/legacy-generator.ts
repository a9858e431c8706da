import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Writes a legacy OSIS object tree the way the old file-per-object store did (`O:` line, sorted keys,
 * nested objects as inline tables), independently of the store's own writer.
 */

function str(value: string): string {
  return JSON.stringify(value).replace(/\x7f/g, '\\u007f');
}

function key(name: string): string {
  return /^[A-Za-z0-9_-]+$/.test(name) ? name : str(name);
}

function value(v: unknown): string {
  if (typeof v === 'string') return str(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return v.length === 0 ? '[]' : `[${v.map(value).join(', ')}]`;
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o).sort();
  return keys.length === 0 ? '{}' : `{ ${keys.map((k) => `${key(k)} = ${value(o[k])}`).join(', ')} }`;
}

/** The legacy text of one object. */
export function legacyText(object: Record<string, unknown>): string {
  return `O:\n${Object.keys(object)
    .sort()
    .map((k) => `${key(k)} = ${value(object[k])}\n`)
    .join('')}`;
}

const WORDS = ['Ann', 'Émile', '東京', 'naïve café', 'emoji 🎉🚀', 'quote " inside', "single ' quote", 'back\\slash', 'tab\tand\nnewline', 'del\x7fchar', 'ctrl\x01x', 'zero‍width', 'ﬁ ligature', '𝔘𝔫𝔦𝔠𝔬𝔡𝔢'];

/** A deterministic pseudo-random object with nested tables, arrays, unicode and quotes. */
export function legacyObject(i: number): Record<string, unknown> {
  const w = (k: number) => WORDS[(i * 7 + k) % WORDS.length];
  const object: Record<string, unknown> = {
    name: `${w(0)} ${i}`,
    count: i,
    ratio: (i % 13) / 8 - 0.75,
    active: i % 2 === 0,
    tags: [w(1), w(2), `t${i % 5}`],
    address: { city: w(3), zip: String(1000 + i), geo: { lat: 50.5 + (i % 10) / 100, lon: -4.25 } },
    items: [{ sku: `A-${i}`, qty: i % 4 }, { sku: `B-${i}`, note: w(4) }],
    matrix: [[1, 2], [3, i]],
    labels: { 'a key': w(5), 'ключ': i, 'quote"d': true, 'x.y': 'dotted' },
    empty_list: [],
    empty_table: {},
  };
  if (i % 3 === 0) object.bio = `${w(6)} — line one\nline two "quoted" \\ end`;
  if (i % 5 === 0) object.big = 9007199254740991;
  return object;
}

/** Write `count` objects over a few types, some in nested folders, some without a sid field. */
export function writeLegacyTree(root: string, count: number): Map<string, Record<string, unknown>> {
  const expected = new Map<string, Record<string, unknown>>();
  const types = ['user', 'invoice', 'note_item'];
  for (let i = 0; i < count; i++) {
    const type = types[i % types.length];
    const sid = `${type.slice(0, 2)}${i}`;
    const object = legacyObject(i);
    const withSid = i % 4 !== 0;
    if (withSid) object.sid = sid;
    const folder = i % 2 === 0 ? path.join(root, type) : path.join(root, type, `shard${i % 7}`, 'deeper');
    fs.mkdirSync(folder, { recursive: true });
    fs.writeFileSync(path.join(folder, `${sid}.otoml`), legacyText(object));
    expected.set(`${type}/${sid}`, { ...object, sid });
  }
  return expected;
}
