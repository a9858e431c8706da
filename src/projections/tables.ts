import type Database from 'better-sqlite3';
import { ensureCountTables } from './counts';

/** Names of one generation of projection tables: the live one, or the shadow a rebuild fills. */
export interface TableNames {
  objects: string;
  index: string;
  /** FTS5 tables are `${ftsPrefix}${type}`. */
  ftsPrefix: string;
  /** Live objects per type, kept by triggers on `objects` (see counts.ts). */
  counts: string;
  /** Rows per (type, field, value) of `index`, kept by triggers: the facet counts. */
  facets: string;
}

/** The tables reads are served from. */
export const LIVE: TableNames = { objects: 'objects', index: 'object_index', ftsPrefix: 'fts_', counts: 'object_counts', facets: 'object_facets' };
/** The tables a blue-green rebuild fills before swapping them in (prefixes never collide with LIVE's). */
export const SHADOW: TableNames = {
  objects: 'objects_next',
  index: 'object_index_next',
  ftsPrefix: 'ftsnext_',
  counts: 'object_counts_next',
  facets: 'object_facets_next',
};

/** Create the checkpoint table and, when missing, one generation of projection tables (race-free across processes). */
export function ensureProjectionTables(db: Database.Database, names: TableNames): void {
  if (db.inTransaction) createTables(db, names);
  else db.transaction(() => createTables(db, names)).immediate();
}

function createTables(db: Database.Database, names: TableNames): void {
  db.exec(`CREATE TABLE IF NOT EXISTS projection_checkpoints (
    name     TEXT PRIMARY KEY,
    position INTEGER NOT NULL,
    config   TEXT
  ) WITHOUT ROWID;`);
  const exists = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").pluck();
  // Index names carry a generation tag: they keep their names when a shadow table is renamed to live.
  const tag = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
  if (!exists.get(names.objects)) {
    db.exec(`CREATE TABLE ${names.objects} (
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
    CREATE INDEX objects_by_position_${tag} ON ${names.objects} (position);`);
  }
  if (!exists.get(names.index)) {
    db.exec(`CREATE TABLE ${names.index} (
      type  TEXT NOT NULL,
      field TEXT NOT NULL,
      value ANY,
      sid   TEXT NOT NULL,
      PRIMARY KEY (type, field, value, sid)
    ) WITHOUT ROWID;
    CREATE INDEX object_index_by_sid_${tag} ON ${names.index} (type, sid);`);
  }
  ensureCountTables(db, names, tag);
}

/** Drop one generation of projection tables (used to discard a shadow). */
export function dropProjectionTables(db: Database.Database, names: TableNames): void {
  for (const table of ftsTables(db, names)) db.exec(`DROP TABLE IF EXISTS ${table}`);
  db.exec(`DROP TABLE IF EXISTS ${names.objects}; DROP TABLE IF EXISTS ${names.index};`);
  db.exec(`DROP TABLE IF EXISTS ${names.counts}; DROP TABLE IF EXISTS ${names.facets};`);
}

/** The FTS5 tables of one generation. */
export function ftsTables(db: Database.Database, names: TableNames): string[] {
  return (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE%fts5%'").pluck().all() as string[])
    .filter((name) => name.startsWith(names.ftsPrefix) && NAME.test(name.slice(names.ftsPrefix.length)));
}

const NAME = /^[a-z][a-z0-9_]{0,62}$/;

/** Checkpoint names. */
export const CURRENT_STATE = 'objects';
export const FULL_TEXT = 'fulltext';

/** The FTS5 table holding one type's full text (type names are validated identifiers). */
export function ftsTable(type: string, names: TableNames = LIVE): string {
  if (!NAME.test(type)) throw new Error(`invalid type name ${JSON.stringify(type)}`);
  return `${names.ftsPrefix}${type}`;
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
