/** DDL of the projection tables; they may share a database with the SQLite log or live in a sidecar. */
export const PROJECTION_SCHEMA = `
CREATE TABLE IF NOT EXISTS objects (
  id         INTEGER PRIMARY KEY,
  type       TEXT    NOT NULL,
  sid        TEXT    NOT NULL,
  data       TEXT    NOT NULL,
  version    INTEGER NOT NULL,
  position   INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (type, sid)
);
CREATE INDEX IF NOT EXISTS objects_by_position ON objects (position);
CREATE TABLE IF NOT EXISTS object_index (
  type  TEXT NOT NULL,
  field TEXT NOT NULL,
  value ANY,
  sid   TEXT NOT NULL,
  PRIMARY KEY (type, field, value, sid)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS object_index_by_sid ON object_index (type, sid);
CREATE TABLE IF NOT EXISTS projection_checkpoints (
  name     TEXT PRIMARY KEY,
  position INTEGER NOT NULL,
  config   TEXT
) WITHOUT ROWID;
`;

/** Checkpoint names. */
export const CURRENT_STATE = 'objects';
export const FULL_TEXT = 'fulltext';

/** The FTS5 table holding one type's full text (type names are validated identifiers). */
export function ftsTable(type: string): string {
  if (!/^[a-z][a-z0-9_]{0,62}$/.test(type)) throw new Error(`invalid type name ${JSON.stringify(type)}`);
  return `fts_${type}`;
}

/** A value as stored in `object_index` (scalars only), or undefined when not indexable. */
export function indexValue(value: unknown): string | number | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  return undefined;
}

/** One row of `objects`. */
export interface ObjectRow {
  id: number;
  type: string;
  sid: string;
  data: string;
  version: number;
  position: number;
  created_at: number;
  updated_at: number;
}
