import { InvalidInputError } from '../log/errors';
import { MAX_DEPTH, MAX_OBJECT_BYTES, checkJsonValue } from './validate';

/**
 * Parse JSON text from an untrusted edge (CLI argument, file, HTTP body): size and nesting are checked
 * before parsing, and prototype keys are rejected after, with a message that names the problem.
 */
export function parseJsonInput(text: string, what = 'JSON', maxBytes = MAX_OBJECT_BYTES): unknown {
  if (Buffer.byteLength(text) > maxBytes) throw new InvalidInputError(`${what} is larger than ${maxBytes} bytes`);
  const depth = maxNesting(text);
  if (depth > MAX_DEPTH) throw new InvalidInputError(`${what} is nested deeper than ${MAX_DEPTH}`);
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
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      depth++;
      if (depth > max) max = depth;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return max;
}
