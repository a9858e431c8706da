import { CorruptError, InvalidInputError } from './errors';
import { TomlDatetime } from './toml-datetime';

/**
 * OTOML values: the canonical TOML the store writes for JSON values, in log records and in legacy
 * object files, and a fast reader for exactly that canonical form.
 *
 * Writing rules (the output is valid TOML 1.0 that any TOML parser reads):
 * - a table body is one `key = value` line per key, keys sorted by UTF-16 code units;
 * - nested objects are inline tables `{ a = 1, b = "x" }` (keys sorted), arrays are `[1, "x", { c = true }]`;
 * - strings are basic strings (`"…"`) with `\" \\ \b \t \n \f \r` and `\uXXXX` for other control characters;
 *   other Unicode is written as is (UTF-8);
 * - safe integers are TOML integers, other numbers are TOML floats (shortest round-trip form);
 * - TOML has no null, so `null` is written as the inline table `{ "$null" = true }`, and an object key that
 *   starts with `$` is written with one more `$` in front (`$x` → `$$x`), so no data can look like the marker.
 */

/** The key of the inline table that stands for JSON `null`. */
export const NULL_MARKER = '$null';

const BARE_KEY = /^[A-Za-z0-9_-]+$/;

/** Encode a key: bare when TOML allows it, else a quoted basic string. `$`-keys get an escaping `$`. */
export function encodeKey(key: string, escapeDollar = true): string {
  const k = escapeDollar && key.charCodeAt(0) === 0x24 ? `$${key}` : key;
  return BARE_KEY.test(k) ? k : encodeString(k);
}

/** One `key = value` line per own key, sorted; `value` must be a JSON object. */
export function encodeTableBody(object: Record<string, unknown>): string {
  let out = '';
  for (const key of Object.keys(object).sort()) {
    out += `${encodeKey(key)} = ${encodeValue(object[key])}\n`;
  }
  return out;
}

/** The canonical TOML text of one JSON value (inline form). */
export function encodeValue(value: unknown): string {
  if (value === null) return `{ "${NULL_MARKER}" = true }`;
  switch (typeof value) {
    case 'string':
      return encodeString(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      return encodeNumber(value);
    case 'object': {
      if (Array.isArray(value)) return value.length === 0 ? '[]' : `[${value.map(encodeValue).join(', ')}]`;
      const keys = Object.keys(value).sort();
      if (keys.length === 0) return '{}';
      const record = value as Record<string, unknown>;
      return `{ ${keys.map((k) => `${encodeKey(k)} = ${encodeValue(record[k])}`).join(', ')} }`;
    }
    default:
      throw new InvalidInputError(`cannot store a ${typeof value} value in OTOML`);
  }
}

function encodeNumber(value: number): string {
  if (!Number.isFinite(value)) throw new InvalidInputError(`cannot store the non-finite number ${value}`);
  if (Number.isInteger(value)) {
    if (Number.isSafeInteger(value)) return Object.is(value, -0) ? '0' : String(value);
    return value.toExponential();
  }
  return String(value);
}

const NEEDS_ESCAPE = /["\\\x00-\x1f\x7f\ud800-\udfff]/;

/** A TOML basic string. Lone UTF-16 surrogates cannot be written as UTF-8 and are rejected. */
export function encodeString(value: string): string {
  if (!NEEDS_ESCAPE.test(value)) return `"${value}"`;
  let out = '"';
  let from = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    let escape: string | undefined;
    if (c < 0x20 || c === 0x22 || c === 0x5c || c === 0x7f) {
      escape = ESCAPES[c] ?? `\\u${c.toString(16).padStart(4, '0')}`;
    } else if (c >= 0xd800 && c <= 0xdfff) {
      const next = value.charCodeAt(i + 1);
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
      throw new InvalidInputError(`string contains a lone UTF-16 surrogate at index ${i}, which UTF-8 cannot store`);
    }
    if (escape !== undefined) {
      out += value.slice(from, i) + escape;
      from = i + 1;
    }
  }
  return `${out}${value.slice(from)}"`;
}

const ESCAPES: Record<number, string> = { 0x08: '\\b', 0x09: '\\t', 0x0a: '\\n', 0x0c: '\\f', 0x0d: '\\r', 0x22: '\\"', 0x5c: '\\\\' };
const UNESCAPES: Record<string, string> = { b: '\b', t: '\t', n: '\n', f: '\f', r: '\r', '"': '"', '\\': '\\' };

/**
 * Reads the canonical form back (whitespace between tokens is tolerated). Anything else is reported as
 * CORRUPT with the character offset: the reader only ever sees text whose checksum already matched.
 */
export class OtomlReader {
  i = 0;
  /** Offset of the next backslash at or after the last string start (-1: none left, -2: not looked yet). */
  private slash = -2;
  constructor(readonly text: string) {}

  /** True at the end of the text. */
  get done(): boolean {
    return this.i >= this.text.length;
  }

  /** Skip spaces and tabs. */
  skipSpaces(): void {
    const s = this.text;
    let i = this.i;
    for (let c = s.charCodeAt(i); c === 0x20 || c === 0x09; c = s.charCodeAt(++i));
    this.i = i;
  }

  /** Read a key (bare or quoted), undoing the `$` escape. */
  readKey(): string {
    this.skipSpaces();
    const s = this.text;
    let key: string;
    const c = s.charCodeAt(this.i);
    if (c === 0x22) key = this.readBasicString();
    else {
      const start = this.i;
      let i = start;
      for (let d = s.charCodeAt(i); isBareKeyChar(d); d = s.charCodeAt(++i));
      if (i === start) this.fail('a key');
      key = s.slice(start, i);
      this.i = i;
    }
    return key.charCodeAt(0) === 0x24 && key.charCodeAt(1) === 0x24 ? key.slice(1) : key;
  }

  /** Expect `ch` (after optional spaces). */
  expect(ch: string): void {
    this.skipSpaces();
    if (this.text[this.i] !== ch) this.fail(JSON.stringify(ch));
    this.i++;
  }

  /** Expect the end of a line (or of the text). */
  endLine(): void {
    this.skipSpaces();
    if (this.i >= this.text.length) return;
    if (this.text.charCodeAt(this.i) !== 0x0a) this.fail('the end of the line');
    this.i++;
  }

  /** Read one value in canonical form. */
  readValue(): unknown {
    this.skipSpaces();
    const s = this.text;
    const c = s.charCodeAt(this.i);
    if (c === 0x22) return this.readBasicString();
    if (c === 0x7b) return this.readInlineTable();
    if (c === 0x5b) return this.readArray();
    if (c === 0x74 && s.startsWith('true', this.i)) {
      this.i += 4;
      return true;
    }
    if (c === 0x66 && s.startsWith('false', this.i)) {
      this.i += 5;
      return false;
    }
    return this.readNumberOrDate();
  }

  private readNumberOrDate(): unknown {
    const s = this.text;
    const start = this.i;
    let i = start;
    let digitsOnly = true;
    for (let c = s.charCodeAt(i); isNumberChar(c); c = s.charCodeAt(++i)) {
      if ((c < 0x30 || c > 0x39) && !(c === 0x2d && i === start)) digitsOnly = false;
    }
    const token = s.slice(start, i);
    this.i = i;
    if (digitsOnly && i - start <= 16 && i > start && (s.charCodeAt(start) !== 0x30 || i - start === 1)) {
      const value = Number(token);
      if (Number.isSafeInteger(value) && !(value === 0 && token !== '0')) return value;
    }
    if (NUMBER.test(token)) return Number(token);
    if (DATETIME.test(token)) return token;
    this.i = start;
    return this.fail('a value');
  }

  private readBasicString(): string {
    const s = this.text;
    let i = this.i + 1;
    let out = '';
    for (;;) {
      const quote = s.indexOf('"', i);
      if (this.slash !== -1 && this.slash < i) this.slash = s.indexOf('\\', i);
      const slash = this.slash;
      if (quote < 0) this.fail('a closing quote');
      if (slash < 0 || slash > quote) {
        out += s.slice(i, quote);
        this.i = quote + 1;
        return out;
      }
      out += s.slice(i, slash);
      const e = s[slash + 1];
      if (e === 'u' || e === 'U') {
        const width = e === 'u' ? 4 : 8;
        const hex = s.slice(slash + 2, slash + 2 + width);
        if (!/^[0-9A-Fa-f]+$/.test(hex) || hex.length !== width) {
          this.i = slash;
          this.fail('a unicode escape');
        }
        out += String.fromCodePoint(parseInt(hex, 16));
        i = slash + 2 + width;
      } else {
        const ch = UNESCAPES[e];
        if (ch === undefined) {
          this.i = slash;
          this.fail('a valid escape');
        }
        out += ch;
        i = slash + 2;
      }
    }
  }

  private readArray(): unknown[] {
    this.i++;
    const out: unknown[] = [];
    this.skipSpaces();
    if (this.text.charCodeAt(this.i) === 0x5d) {
      this.i++;
      return out;
    }
    for (;;) {
      out.push(this.readValue());
      this.skipSpaces();
      const c = this.text.charCodeAt(this.i++);
      if (c === 0x5d) return out;
      if (c !== 0x2c) {
        this.i--;
        this.fail('"," or "]"');
      }
    }
  }

  private readInlineTable(): unknown {
    this.i++;
    const out: Record<string, unknown> = {};
    this.skipSpaces();
    if (this.text.charCodeAt(this.i) === 0x7d) {
      this.i++;
      return out;
    }
    let rawKeys = 0;
    let marker = false;
    for (;;) {
      this.skipSpaces();
      const isMarker = this.text.startsWith(`"${NULL_MARKER}"`, this.i);
      const key = this.readKey();
      this.expect('=');
      const value = this.readValue();
      setOwn(out, key, value);
      rawKeys++;
      if (isMarker && value === true) marker = true;
      this.skipSpaces();
      const c = this.text.charCodeAt(this.i++);
      if (c === 0x7d) break;
      if (c !== 0x2c) {
        this.i--;
        this.fail('"," or "}"');
      }
    }
    return marker && rawKeys === 1 ? null : out;
  }

  /** Throw CORRUPT naming what was expected and where. */
  fail(expected: string): never {
    const near = JSON.stringify(this.text.slice(this.i, this.i + 20));
    throw new CorruptError(`OTOML: expected ${expected} at character ${this.i} (near ${near})`, { details: { at: this.i } });
  }
}

const NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;
const DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/;

function isBareKeyChar(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x5f || c === 0x2d;
}

function isNumberChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2b || c === 0x2e || c === 0x65 || c === 0x45 || c === 0x3a || c === 0x54 || c === 0x5a;
}

/** Set a property without ever touching a prototype (`__proto__` is stored as a plain own key). */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

/**
 * A deep copy of a JSON value with object keys in the order the OTOML writer sorts them, which is the
 * order a value has after a round trip through a log record.
 */
export function sortedCopy<T>(value: T): T {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(sortedCopy) as T;
  const out: Record<string, unknown> = {};
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record).sort()) setOwn(out, key, sortedCopy(record[key]));
  return out as T;
}

/**
 * Convert a value parsed by the TOML codec (legacy object files, seeds) to JSON: the null marker and `$`
 * escapes are undone, dates and times become their exact RFC 3339 text (`TomlDatetime`). Throws
 * INVALID_INPUT naming the path of a value JSON cannot hold: inf and nan, integers beyond ±(2^53 − 1).
 */
export function fromParsedToml(value: unknown, path = ''): unknown {
  const where = path || '/';
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new InvalidInputError(`${where}: ${value} (inf or nan) has no JSON form`);
    return value;
  }
  if (typeof value === 'bigint') return safeInteger(value, where);
  if (value instanceof TomlDatetime) return value.text;
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map((item, i) => fromParsedToml(item, `${path}/${i}`));
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 1 && entries[0][0] === NULL_MARKER && entries[0][1] === true) return null;
    const out: Record<string, unknown> = {};
    for (const [rawKey, item] of entries) {
      const key = rawKey.startsWith('$$') ? rawKey.slice(1) : rawKey;
      setOwn(out, key, fromParsedToml(item, `${path}/${key}`));
    }
    return out;
  }
  throw new InvalidInputError(`${where}: unsupported TOML value`);
}

/** The one rule for big integers at every entry point: beyond ±(2^53 − 1) is refused, never rounded. */
export function safeInteger(value: bigint, where: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new InvalidInputError(`${where}: integer ${value} is beyond ±(2^53 − 1), which JSON numbers hold exactly; store it as a string`);
  }
  return Number(value);
}
