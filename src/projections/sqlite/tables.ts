import type Database from 'better-sqlite3';
import { ensureCountTables } from './counts';
import { LIVE, type TableNames } from './table-names';

export { LIVE, SHADOW, type TableNames } from './table-names';

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
  migrateLegacyTypeTables(db, names);
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
  for (const table of championTables(db, names)) db.exec(`DROP TABLE IF EXISTS ${table}`);
  db.exec(`DROP TABLE IF EXISTS ${names.objects}; DROP TABLE IF EXISTS ${names.index};`);
  db.exec(`DROP TABLE IF EXISTS ${names.counts}; DROP TABLE IF EXISTS ${names.facets};`);
}

/** The FTS5 tables of one generation. */
export function ftsTables(db: Database.Database, names: TableNames): string[] {
  return virtualFtsTables(db).filter((name) => typeOfTable(names.ftsPrefix, name) !== undefined);
}

/** The champion-list tables of one generation. */
export function championTables(db: Database.Database, names: TableNames): string[] {
  const all = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND substr(name, 1, ?) = ?").pluck().all(names.championPrefix.length, names.championPrefix) as string[];
  return all.filter((name) => typeOfTable(names.championPrefix, name) !== undefined);
}

function virtualFtsTables(db: Database.Database): string[] {
  return db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE%fts5%'").pluck().all() as string[];
}

const NAME = /^[a-z][a-z0-9_]{0,62}$/;
const TYPE_TABLE = /^([1-9][0-9]?)_([a-z][a-z0-9_]*)$/;

/** Checkpoint names. */
export const CURRENT_STATE = 'objects';
export const FULL_TEXT = 'fulltext';

/**
 * The one place that names a per-type table: `${prefix}${type.length}_${type}` (`fts_4_note`). No type
 * name can produce another type's table or one of the tables SQLite derives from it by appending a
 * suffix (FTS5 adds `_data`, `_idx`, `_config`, `_docsize`, `_content`): the length says where the
 * type ends, so a name with anything appended no longer parses, and a type name never starts with a
 * digit, so these names never meet the names of earlier versions (`fts_note`). Every per-type table
 * (full text now, any later per-type index) takes its name from here.
 */
export function typeTable(prefix: string, type: string): string {
  if (!NAME.test(type)) throw new Error(`invalid type name ${JSON.stringify(type)}`);
  return `${prefix}${type.length}_${type}`;
}

/** The type whose table `name` is under `prefix` (see `typeTable`), or undefined for any other name. */
export function typeOfTable(prefix: string, name: string): string | undefined {
  if (!name.startsWith(prefix)) return undefined;
  const match = TYPE_TABLE.exec(name.slice(prefix.length));
  if (!match || Number(match[1]) !== match[2].length || !NAME.test(match[2])) return undefined;
  return match[2];
}

/** The FTS5 table holding one type's full text. */
export function ftsTable(type: string, names: TableNames = LIVE): string {
  return typeTable(names.ftsPrefix, type);
}

/**
 * Stores written before `typeTable` named their FTS5 tables `${prefix}${type}`, where a type `note_data`
 * collides with FTS5's own `fts_note_data` of type `note`. Inside the caller's transaction: rename each
 * such live table to its `typeTable` name (FTS5 renames its own tables with it, so nothing is
 * re-indexed) and drop such tables of a shadow generation (a rebuild starts those afresh).
 */
function migrateLegacyTypeTables(db: Database.Database, names: TableNames): void {
  for (const table of virtualFtsTables(db)) {
    if (!table.startsWith(names.ftsPrefix)) continue;
    const type = table.slice(names.ftsPrefix.length);
    if (!NAME.test(type)) continue;
    if (names === LIVE) db.exec(`ALTER TABLE ${table} RENAME TO ${typeTable(names.ftsPrefix, type)}`);
    else db.exec(`DROP TABLE ${table}`);
  }
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

export { indexValue } from '../config';
