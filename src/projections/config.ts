import type { UniqueSpec } from '../log/event-log';
/** What the projections need to know about one declared type. */
export interface TypeConfig {
  /** Fields with an equality/range index. */
  index: readonly string[];
  /** Fields held unique by the log (also indexed). */
  unique: readonly string[];
  /** Full-text fields; undefined means every top-level string field. */
  text?: readonly string[];
  /**
   * Personal fields: their values are stored encrypted with the object's own data key, and `erase`
   * destroys that key (crypto-shredding). Absent when the type declares none.
   */
  personal?: readonly string[];
}

/** The parsed schema: `{ types: { user: { index, unique, text } } }`. */
export interface StoreSchema {
  types: Record<string, TypeConfig>;
}

/** Fields that get rows in `object_index` for `type` (index ∪ unique). */
export function indexedFields(schema: StoreSchema, type: string): readonly string[] {
  const config = schema.types[type];
  if (!config) return [];
  return [...new Set([...config.index, ...config.unique])];
}

/** The text that represents an object in the full-text index ('' when nothing is indexed). */
export function fullTextBody(schema: StoreSchema, type: string, data: Record<string, unknown>): string {
  const fields = schema.types[type]?.text;
  const parts: string[] = [];
  const take = (value: unknown) => {
    if (typeof value === 'string') parts.push(value);
    else if (Array.isArray(value)) for (const item of value) if (typeof item === 'string') parts.push(item);
  };
  if (fields) {
    for (const field of fields) if (Object.prototype.hasOwnProperty.call(data, field)) take(data[field]);
  } else {
    for (const [key, value] of Object.entries(data)) if (key !== 'sid' && typeof value === 'string') parts.push(value);
  }
  return parts.join('\n');
}

/** A stable fingerprint of what a projection was built with. */
export function fingerprint(value: unknown): string {
  return JSON.stringify(value, (_k, v) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1))) : v,
  );
}

/** The personal fields per type (types that declare some), as the log seals them. */
export function personalSpec(schema: StoreSchema): Record<string, readonly string[]> {
  return Object.fromEntries(Object.entries(schema.types).flatMap(([type, config]) => (config.personal?.length ? [[type, config.personal]] : [])));
}

/** The unique fields per type, as the log enforces them. */
export function uniqueSpec(schema: StoreSchema): UniqueSpec {
  return Object.fromEntries(Object.entries(schema.types).map(([type, config]) => [type, config.unique]));
}

/** A value in its index form (the field index and facets hold these) (scalars only), or undefined when not indexable. */
export function indexValue(value: unknown): string | number | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  return undefined;
}
