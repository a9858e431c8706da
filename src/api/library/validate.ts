import { InvalidInputError } from '../../log/errors';
import type { ExpectedVersion } from '../../log/event';

const NAME = /^[a-z][a-z0-9_]{0,62}$/;
const SID = /^[0-9A-Za-z][0-9A-Za-z_.-]{0,127}$/;
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** A UTF-16 surrogate without its partner: no UTF-8 form, so it would be stored as something else. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Refuse a string holding a lone surrogate (`"\ud800"` in JSON), which no UTF-8 text can carry. */
export function assertWellFormed(text: string, where: string): void {
  if (LONE_SURROGATE.test(text)) throw new InvalidInputError(`${where} holds a lone UTF-16 surrogate, which is not Unicode text`, { field: where });
}

/** Largest accepted object, as JSON. */
export const MAX_OBJECT_BYTES = 1024 * 1024;
/** Deepest accepted nesting of arrays and objects. */
export const MAX_DEPTH = 64;

export function assertTypeName(type: unknown): asserts type is string {
  if (typeof type !== 'string' || !NAME.test(type)) {
    throw new InvalidInputError(`invalid type name ${show(type)}: must match ${NAME.source}`, { field: 'type' });
  }
}

export function assertFieldName(field: unknown, what = 'field'): asserts field is string {
  if (typeof field !== 'string' || !NAME.test(field)) {
    throw new InvalidInputError(`invalid ${what} name ${show(field)}: must match ${NAME.source}`, { field });
  }
}

export function assertSid(sid: unknown): asserts sid is string {
  if (typeof sid !== 'string' || !SID.test(sid)) {
    throw new InvalidInputError(`invalid sid ${show(sid)}: must match ${SID.source}`, { field: 'sid' });
  }
}

/** A limit between 1 and 10,000 (default 100). */
export function checkLimit(limit: unknown): number {
  if (limit === undefined) return 100;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > 10_000) {
    throw new InvalidInputError(`invalid limit ${show(limit)}: must be an integer from 1 to 10000`, { field: 'limit' });
  }
  return limit;
}

export function checkExpectedVersion(value: unknown): ExpectedVersion | undefined {
  if (value === undefined) return undefined;
  if (value === 'any' || value === 'no_stream' || value === 'exists') return value;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 1) return value;
  throw new InvalidInputError(`invalid expected version ${show(value)}: a version >= 1, 'any', 'no_stream' or 'exists'`, {
    field: 'expectedVersion',
  });
}

/**
 * Check an object given to _new/_set or produced by _update: a plain JSON object whose top-level keys
 * are field names, with no prototype-polluting keys at any depth, nesting within MAX_DEPTH, finite
 * numbers only, and at most MAX_OBJECT_BYTES as JSON. Returns its JSON text.
 */
export function checkObject(value: unknown): string {
  if (!isPlainObject(value)) throw new InvalidInputError(`an object must be a JSON object, got ${describe(value)}`);
  for (const key of Object.keys(value)) assertFieldName(key);
  checkJsonValue(value, '', 0);
  const json = JSON.stringify(value);
  if (Buffer.byteLength(json) > MAX_OBJECT_BYTES) {
    throw new InvalidInputError(`object is larger than ${MAX_OBJECT_BYTES} bytes as JSON`);
  }
  return json;
}

/** Walk a JSON value, rejecting what JSON cannot carry faithfully and prototype keys. */
export function checkJsonValue(value: unknown, path: string, depth: number): void {
  if (depth > MAX_DEPTH) throw new InvalidInputError(`value at ${path || '/'} is nested deeper than ${MAX_DEPTH}`);
  if (typeof value === 'string') return assertWellFormed(value, `value at ${path || '/'}`);
  if (value === null || typeof value === 'boolean') return;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new InvalidInputError(`value at ${path || '/'} is not a finite number`);
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((item, i) => checkJsonValue(item, `${path}/${i}`, depth + 1));
    return;
  }
  if (isPlainObject(value)) {
    for (const key of Object.keys(value)) {
      if (FORBIDDEN_KEYS.has(key)) throw new InvalidInputError(`key ${JSON.stringify(key)} at ${path || '/'} is not allowed`);
      assertWellFormed(key, `a key at ${path || '/'}`);
      checkJsonValue(value[key], `${path}/${key}`, depth + 1);
    }
    return;
  }
  throw new InvalidInputError(`value at ${path || '/'} is not JSON (${describe(value)})`);
}

/**
 * Check a method's options argument: undefined (no options) or a plain object whose keys are all in
 * `known`. A misspelt option is named rather than ignored.
 */
export function checkOptions<T extends object>(options: unknown, known: readonly string[], method: string): T {
  if (options === undefined) return {} as T;
  if (!isPlainObject(options)) throw new InvalidInputError(`${method} options must be an object, got ${describe(options)}`);
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) throw new InvalidInputError(`${method}: unknown option ${JSON.stringify(key)} (expected ${known.join(', ')})`);
  }
  return options as T;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
  return describe(value);
}
