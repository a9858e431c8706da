import { InvalidInputError } from '../../log/errors';
import { parseToml } from '../../log/toml-codec';
import { readInputFile } from './input-file';
import type { StoreSchema, TypeConfig } from '../../projections/config';
import { assertFieldName, assertTypeName, isPlainObject } from './validate';

/** The schema as written by a user: `{ types: { user: { index?, unique?, text? } } }`. */
export interface SchemaInput {
  types?: Record<string, { index?: string[]; unique?: string[]; text?: string[]; personal?: string[] }>;
}

const TYPE_KEYS = new Set(['index', 'unique', 'text', 'personal']);
/** Largest schema file. */
const MAX_SCHEMA_BYTES = 1024 * 1024;

/** Load a schema from a TOML file path, or validate an already parsed one. */
export function loadSchema(input: SchemaInput | string | undefined): StoreSchema {
  if (input === undefined) return { types: {} };
  if (typeof input === 'string') {
    const text = readInputFile(input, 'schema file', MAX_SCHEMA_BYTES);
    return parseSchema(parseToml(text, `schema file ${input}`), input);
  }
  return parseSchema(input, 'schema');
}

/** Validate a parsed schema, naming the first problem. */
export function parseSchema(raw: unknown, where: string): StoreSchema {
  if (!isPlainObject(raw)) throw new InvalidInputError(`${where}: must be a table/object`);
  for (const key of Object.keys(raw)) {
    if (key !== 'types') throw new InvalidInputError(`${where}: unknown key ${JSON.stringify(key)} (expected "types")`);
  }
  const types: Record<string, TypeConfig> = {};
  const declared = raw.types ?? {};
  if (!isPlainObject(declared)) throw new InvalidInputError(`${where}: "types" must be a table`);
  for (const [type, config] of Object.entries(declared)) {
    assertTypeName(type);
    if (!isPlainObject(config)) throw new InvalidInputError(`${where}: types.${type} must be a table`);
    for (const key of Object.keys(config)) {
      if (!TYPE_KEYS.has(key)) throw new InvalidInputError(`${where}: types.${type} has unknown key ${JSON.stringify(key)} (expected index, unique, text, personal)`);
    }
    const list = (key: string): string[] | undefined => {
      const value = config[key];
      if (value === undefined) return undefined;
      if (!Array.isArray(value)) throw new InvalidInputError(`${where}: types.${type}.${key} must be an array of field names`);
      for (const field of value) assertFieldName(field);
      return [...new Set(value as string[])];
    };
    const text = list('text');
    const personal = list('personal');
    types[type] = { index: list('index') ?? [], unique: list('unique') ?? [], ...(text ? { text } : {}), ...(personal?.length ? { personal } : {}) };
  }
  return { types };
}

export { indexedFields, indexValue } from '../../projections/config';
export type { StoreSchema, TypeConfig } from '../../projections/config';
