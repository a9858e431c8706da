import { InvalidInputError, VersionConflictError } from '../../log/errors';
import { fromParsedToml } from '../../log/otoml-value';
import { parseToml } from '../../log/toml-codec';
import { readInputFile } from './input-file';
import { jsonBoundsInspector, parseJsonInput } from './json-input';
import { assertSid, assertTypeName, checkJsonValue, checkObject, isPlainObject } from './validate';

/** What seeding needs of a store: each type's create-if-absent (`Store` is one). */
export interface SeedTarget {
  collection(type: string): { _seedOne(object: Record<string, unknown>): Promise<boolean> };
}

/** Objects to seed, by type; every object carries its sid. */
export type SeedObjects = Record<string, Record<string, unknown>[]>;

/** What a seed did: objects created, and objects left alone because their sid already had a history. */
export interface SeedResult {
  created: number;
  existing: number;
}

/** Largest JSON seed file; a TOML seed is bounded by the TOML limits (see toml-codec). */
export const MAX_JSON_SEED_BYTES = 64 * 1024 * 1024;

/** Read a seed file: TOML with `[[type]]` tables, or JSON `{ "type": [ {…}, … ] }` (by extension or content). */
export function readSeedFile(file: string): SeedObjects {
  const looksJson = file.endsWith('.json');
  const text = readInputFile(file, 'seed file', MAX_JSON_SEED_BYTES, looksJson ? jsonBoundsInspector(`seed file ${file}`) : undefined);
  const json = looksJson || /^\s*\{/.test(text);
  const where = `seed file ${file}`;
  const raw = json ? parseJsonInput(text, where, MAX_JSON_SEED_BYTES) : tomlSeed(text, where);
  return checkSeed(raw, `seed file ${file}`);
}

/** A TOML seed read as the store reads TOML object files (dates as their text, big integers refused). */
function tomlSeed(text: string, where: string): unknown {
  const parsed = parseToml(text, where);
  try {
    return fromParsedToml(parsed);
  } catch (error) {
    if (error instanceof InvalidInputError) throw new InvalidInputError(`${where}: ${error.message}`, error.details);
    throw error;
  }
}

/** Validate seed objects, all of them before anything is written: type names, arrays of valid objects with valid sids. */
export function checkSeed(raw: unknown, where = 'seed'): SeedObjects {
  if (!isPlainObject(raw)) throw new InvalidInputError(`${where}: expected a table of types`);
  checkJsonValue(raw, '', 0);
  const out: SeedObjects = {};
  for (const [type, objects] of Object.entries(raw)) {
    assertTypeName(type);
    if (!Array.isArray(objects)) throw new InvalidInputError(`${where}: ${type} must be an array of objects ([[${type}]] in TOML)`);
    objects.forEach((object, i) => {
      if (!isPlainObject(object)) throw new InvalidInputError(`${where}: ${type}[${i}] is not an object`);
      if (object.sid === undefined) throw new InvalidInputError(`${where}: ${type}[${i}] has no sid; seeds are keyed by sid`);
      try {
        assertSid(object.sid);
        checkObject(object);
      } catch (error) {
        if (error instanceof InvalidInputError) throw new InvalidInputError(`${where}: ${type}[${i}]: ${error.message}`, error.details);
        throw error;
      }
    });
    out[type] = objects as Record<string, unknown>[];
  }
  return out;
}

/**
 * Create each object unless its sid already has a history (created before, even if deleted since), and
 * leave existing ones alone. Safe to run from many replicas at once: each create is conditional on the
 * object's stream being empty, so exactly one `created` event per sid is ever written.
 */
export async function seedStore(store: SeedTarget, objects: SeedObjects): Promise<SeedResult> {
  const result: SeedResult = { created: 0, existing: 0 };
  for (const [type, list] of Object.entries(objects)) {
    const outcomes = await Promise.allSettled(list.map((object) => store.collection(type)._seedOne(object)));
    for (const outcome of outcomes) {
      if (outcome.status === 'fulfilled') result[outcome.value ? 'created' : 'existing']++;
      else throw outcome.reason;
    }
  }
  return result;
}

/** True when `error` means "this sid already has a history" for a seed. */
export function isAlreadySeeded(error: unknown): boolean {
  return error instanceof VersionConflictError;
}
