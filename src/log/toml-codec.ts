import * as TOML from 'smol-toml';
import { InvalidInputError } from './errors';
import { tomlDatetime, type TomlDatetimeKind } from './toml-datetime';

/** Bounds checked before a TOML text is handed to the parser. */
export interface TomlLimits {
  /** Largest accepted text, in UTF-8 bytes. */
  maxBytes: number;
  /** Deepest nesting of arrays and inline tables, and most parts in one dotted key or table header. */
  maxDepth: number;
  /** Longest accepted string value, in characters. */
  maxString: number;
}

/**
 * Defaults. The parser spends microseconds and tens of bytes of memory per input byte (more on escapes,
 * long strings and deep nesting), so the text is bounded and bombs are refused by a linear scan before
 * it runs. Larger seeds belong in JSON.
 */
export const TOML_LIMITS: TomlLimits = { maxBytes: 4 * 1024 * 1024, maxDepth: 64, maxString: 1024 * 1024 };

/**
 * The one place that knows which TOML library the store uses (smol-toml, TOML 1.0 and 1.1), so it can be
 * swapped. Parse errors become INVALID_INPUT with the library's line/column message. `__proto__` keys
 * come back as own properties, never as prototypes; tables have no prototype.
 *
 * Values: integers within ±(2^53 − 1) are numbers, larger ones BigInt (callers refuse them, see
 * `fromParsedToml`); integers beyond 64 bits are a parse error, never wrapped. Dates and times are
 * `TomlDatetime`s holding their exact text.
 */
export function parseToml(text: string, what = 'TOML', limits: TomlLimits = TOML_LIMITS): Record<string, unknown> {
  checkTomlBounds(text, what, limits);
  try {
    const parsed = withExactDatetimes(() => TOML.parse(text, { integersAsBigInt: 'asNeeded', useLegacyDate: false, maxDepth: limits.maxDepth + 1 }));
    return plainTables(parsed) as Record<string, unknown>;
  } catch (error) {
    const message = ((error as Error).message ?? String(error)).split('\n')[0].replace(/^Invalid TOML document: /, '');
    const at = error instanceof TOML.TomlError ? ` at line ${error.line}, column ${error.column}` : '';
    throw new InvalidInputError(`${what} is not valid TOML: ${message}${at}`);
  }
}

/** The parser's prototype-less tables as plain objects; `__proto__` keys stay own properties. */
function plainTables(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(plainTables);
  if (value === null || typeof value !== 'object' || Object.getPrototypeOf(value) !== null) return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    Object.defineProperty(out, key, { value: plainTables((value as Record<string, unknown>)[key]), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** Serialise a JSON-compatible object as TOML. */
export function stringifyToml(value: Record<string, unknown>): string {
  return TOML.stringify(value);
}

/**
 * smol-toml reads each date-time literal itself and hands its exact text to the global `Temporal` API
 * when asked not to build JS `Date`s (which keep milliseconds only and drop the offset). For the span of
 * one synchronous parse, `Temporal` is this small stand-in that checks the literal and keeps its text.
 */
function withExactDatetimes<T>(parse: () => T): T {
  const g = globalThis as { Temporal?: unknown };
  const previous = Object.getOwnPropertyDescriptor(g, 'Temporal');
  Object.defineProperty(g, 'Temporal', { value: EXACT_TEMPORAL, configurable: true, writable: true });
  try {
    return parse();
  } finally {
    if (previous) Object.defineProperty(g, 'Temporal', previous);
    else delete g.Temporal;
  }
}

const reader = (kind: TomlDatetimeKind) => ({
  from(literal: string) {
    const text = literal.replace(/\[[^\]]*\]$/, ''); // smol-toml appends the offset as a time-zone annotation
    const value = tomlDatetime(kind, text);
    if (!value) throw new Error(`${text} is not a valid ${kind.replace('-', ' ')}`);
    return value;
  },
});

const EXACT_TEMPORAL = Object.freeze({
  ZonedDateTime: reader('offset-datetime'),
  PlainDateTime: reader('local-datetime'),
  PlainDate: reader('local-date'),
  PlainTime: reader('local-time'),
});

/**
 * One linear pass over the text that refuses it when it is too large, nests arrays or inline tables too
 * deep, has a dotted key or table header with too many parts, or a string too long. Strings and comments
 * are skipped as TOML defines them; anything the scan cannot classify is left to the parser.
 */
export function checkTomlBounds(text: string, what: string, limits: TomlLimits): void {
  if (text.length > limits.maxBytes || Buffer.byteLength(text) > limits.maxBytes) {
    throw new InvalidInputError(`${what} is larger than ${limits.maxBytes} bytes`);
  }
  const open: number[] = [];
  let inKey = true;
  let keyParts = 1;
  const fail = (problem: string, at: number) => {
    let line = 1;
    for (let j = text.indexOf('\n'); j >= 0 && j < at; j = text.indexOf('\n', j + 1)) line++;
    throw new InvalidInputError(`${what}: ${problem} at line ${line}`);
  };
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x0a) {
      if (open.length === 0 || (open.length === 1 && inKey)) {
        inKey = true;
        keyParts = 1;
      }
    } else if (c === 0x23) {
      const eol = text.indexOf('\n', i);
      i = (eol < 0 ? text.length : eol) - 1;
    } else if (c === 0x22 || c === 0x27) {
      const multi = text.charCodeAt(i + 1) === c && text.charCodeAt(i + 2) === c;
      const end = stringEnd(text, i, c, multi);
      if (end - i > limits.maxString && decodedLength(text, i, end, c === 0x22) > limits.maxString) {
        fail(`a string is longer than ${limits.maxString} characters`, i);
      }
      i = end;
    } else if (c === 0x5b || c === 0x7b) {
      open.push(c);
      if (open.length > limits.maxDepth) fail(`arrays or tables are nested deeper than ${limits.maxDepth}`, i);
      if (c === 0x7b) {
        inKey = true;
        keyParts = 1;
      }
    } else if (c === 0x5d || c === 0x7d) {
      open.pop();
    } else if (c === 0x3d) {
      inKey = false;
    } else if (c === 0x2c) {
      if (open[open.length - 1] === 0x7b) {
        inKey = true;
        keyParts = 1;
      }
    } else if (c === 0x2e && inKey) {
      if (++keyParts > limits.maxDepth) fail(`a key or table header has more than ${limits.maxDepth} parts`, i);
    }
  }
}

/** Index of the last character of the string starting at `start` (its closing quote, or where it stops). */
function stringEnd(text: string, start: number, quote: number, multi: boolean): number {
  const q = String.fromCharCode(quote);
  const closing = multi ? q.repeat(3) : q;
  for (let from = start + closing.length; ; ) {
    const at = text.indexOf(closing, from);
    const eol = multi ? -1 : text.indexOf('\n', from);
    if (at < 0) return eol < 0 ? text.length - 1 : eol - 1;
    if (eol >= 0 && eol < at) return eol - 1;
    let backslashes = 0;
    if (quote === 0x22) for (let k = at - 1; k > start && text.charCodeAt(k) === 0x5c; k--) backslashes++;
    if (backslashes % 2 === 0) return at + closing.length - 1;
    from = at + 1;
  }
}

/** Characters a basic (escapes decoded) or literal string stands for, counted only when it may be too long. */
function decodedLength(text: string, start: number, end: number, basic: boolean): number {
  const slash = text.indexOf('\\', start + 1);
  if (!basic || slash < 0 || slash >= end) return end - start;
  let length = 0;
  for (let j = start + 1; j < end; j++, length++) {
    if (text.charCodeAt(j) !== 0x5c) continue;
    const next = text.charCodeAt(j + 1);
    j += next === 0x75 ? 5 : next === 0x55 ? 9 : 1;
  }
  return length;
}
