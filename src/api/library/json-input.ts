import { InvalidInputError } from '../../log/errors';
import { MAX_DEPTH, MAX_OBJECT_BYTES, checkJsonValue } from './validate';

/**
 * Parse JSON text from an untrusted edge (CLI argument, file, HTTP body): size and nesting are checked
 * before parsing, and prototype keys are rejected after, with a message that names the problem.
 */
export function parseJsonInput(text: string, what = 'JSON', maxBytes = MAX_OBJECT_BYTES): unknown {
  if (text.length > maxBytes || Buffer.byteLength(text) > maxBytes) throw new InvalidInputError(`${what} is larger than ${maxBytes} bytes`);
  const { depth, longestString, unsafeInteger } = scanJson(text);
  if (depth > MAX_DEPTH) throw new InvalidInputError(`${what} is nested deeper than ${MAX_DEPTH}`);
  if (longestString > MAX_OBJECT_BYTES) throw new InvalidInputError(`${what} has a string longer than ${MAX_OBJECT_BYTES} characters`);
  if (unsafeInteger !== undefined) throw unsafeIntegerError(what, unsafeInteger);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new InvalidInputError(`${what} is not valid JSON: ${(error as Error).message}`);
  }
  checkJsonValue(value, '', 0);
  return value;
}

/** Deepest bracket nesting outside strings, scanned without parsing. */
export function maxNesting(text: string): number {
  return scanJson(text).depth;
}

/**
 * The one rule for big integers (the same as for TOML): an integer literal beyond ±(2^53 − 1) is refused,
 * because JSON.parse would round it silently. A number written with a fraction or an exponent is a float
 * and is taken as one.
 */
export function unsafeIntegerError(what: string, literal: string): InvalidInputError {
  const shown = literal.length > 40 ? `${literal.slice(0, 40)}…` : literal;
  return new InvalidInputError(`${what}: integer ${shown} is beyond ±(2^53 − 1), which JSON numbers hold exactly; send it as a string`, {
    limit: 'integer',
    max: Number.MAX_SAFE_INTEGER,
  });
}

/** What `scanJson` found. */
export interface JsonScan {
  /** Deepest bracket nesting outside strings. */
  depth: number;
  /** Longest string, escapes counted as the one character they stand for. */
  longestString: number;
  /** The first integer literal beyond ±(2^53 − 1), if any. */
  unsafeInteger?: string;
}

/**
 * Nesting, the longest string and the first unsafe integer literal, in one pass without parsing.
 * Unterminated strings are left to the parser.
 */
export function scanJson(text: string): JsonScan {
  let unsafeInteger: string | undefined;
  let depth = 0;
  let max = 0;
  let longestString = 0;
  let slash = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      let length = 0;
      let j = i + 1;
      for (;;) {
        const quote = text.indexOf('"', j);
        if (slash < j) {
          const found = text.indexOf('\\', j);
          slash = found < 0 ? Infinity : found;
        }
        if (quote < 0) {
          j = text.length;
          break;
        }
        if (slash > quote) {
          length += quote - j;
          j = quote;
          break;
        }
        length += slash - j + 1;
        j = slash + (text.charCodeAt(slash + 1) === 0x75 ? 6 : 2);
      }
      if (length > longestString) longestString = length;
      i = j;
    } else if (c === 0x7b || c === 0x5b) {
      depth++;
      if (depth > max) max = depth;
    } else if (c === 0x7d || c === 0x5d) depth--;
    else if ((c >= 0x30 && c <= 0x39) || c === 0x2d) {
      let j = i + (c === 0x2d ? 1 : 0);
      const digitsFrom = j;
      for (let d = text.charCodeAt(j); d >= 0x30 && d <= 0x39; d = text.charCodeAt(++j));
      const next = text.charCodeAt(j);
      const integer = next !== 0x2e && next !== 0x65 && next !== 0x45;
      if (integer && j - digitsFrom >= 16 && unsafeInteger === undefined && !Number.isSafeInteger(Number(text.slice(i, j)))) {
        unsafeInteger = text.slice(i, j);
      }
      for (let d = text.charCodeAt(j); (d >= 0x30 && d <= 0x39) || d === 0x2e || d === 0x65 || d === 0x45 || d === 0x2b || d === 0x2d; d = text.charCodeAt(++j));
      i = j - 1;
    }
  }
  return { depth: max, longestString, ...(unsafeInteger !== undefined ? { unsafeInteger } : {}) };
}

/**
 * A streaming bounds check over raw JSON bytes, fed chunk by chunk while a large file is read, so a
 * bomb is refused after reading about as much as the limits allow rather than the whole file. A string
 * whose raw bytes exceed six times MAX_OBJECT_BYTES (the widest escape, \uXXXX, is six bytes for one
 * character) cannot fit in an object.
 */
export function jsonBoundsInspector(what: string): (chunk: Buffer) => void {
  const maxStringBytes = 6 * MAX_OBJECT_BYTES;
  let depth = 0;
  let inString = false;
  let escaped = false;
  let run = 0;
  return (chunk) => {
    for (let i = 0; i < chunk.length; i++) {
      if (inString) {
        if (escaped) {
          escaped = false;
          run++;
          continue;
        }
        const quote = chunk.indexOf(0x22, i);
        const slash = chunk.indexOf(0x5c, i);
        const stop = quote < 0 ? (slash < 0 ? chunk.length : slash) : slash < 0 ? quote : Math.min(quote, slash);
        run += stop - i;
        if (run > maxStringBytes) throw new InvalidInputError(`${what} has a string longer than ${MAX_OBJECT_BYTES} characters`);
        i = stop;
        if (stop === chunk.length) break;
        if (chunk[stop] === 0x5c) escaped = true;
        else inString = false;
        continue;
      }
      const c = chunk[i];
      if (c === 0x22) {
        inString = true;
        run = 0;
      } else if (c === 0x7b || c === 0x5b) {
        if (++depth > MAX_DEPTH) throw new InvalidInputError(`${what} is nested deeper than ${MAX_DEPTH}`);
      } else if (c === 0x7d || c === 0x5d) depth--;
    }
  };
}
