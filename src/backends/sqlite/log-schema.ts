import type Database from 'better-sqlite3';
import type { EventKind } from '../../log/event';
/** DDL of the SQLite event log tables. Projection tables are owned by src/projections. */
export const LOG_SCHEMA = `
CREATE TABLE IF NOT EXISTS events (
  position INTEGER PRIMARY KEY AUTOINCREMENT,
  id       TEXT    NOT NULL,
  type     TEXT    NOT NULL,
  sid      TEXT    NOT NULL,
  kind     TEXT    NOT NULL CHECK (kind IN ('created', 'updated', 'deleted', 'erased')),
  version  INTEGER NOT NULL CHECK (version >= 1),
  ts       INTEGER NOT NULL,
  data     TEXT    NOT NULL,
  meta     TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS events_by_stream ON events (type, sid, version);
CREATE TABLE IF NOT EXISTS unique_keys (
  type  TEXT NOT NULL,
  field TEXT NOT NULL,
  key   TEXT NOT NULL,
  sid   TEXT NOT NULL,
  PRIMARY KEY (type, field, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS unique_keys_by_sid ON unique_keys (type, sid);
CREATE TABLE IF NOT EXISTS idempotency (
  key            TEXT PRIMARY KEY,
  first_position INTEGER NOT NULL,
  last_position  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS log_damage (
  id       INTEGER PRIMARY KEY CHECK (id = 1),
  place    TEXT NOT NULL,
  message  TEXT NOT NULL,
  found_at TEXT NOT NULL,
  found_by TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS log_meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;
`;

/** Columns selected for every event read, in `EventRow` order. */
export const EVENT_COLUMNS = 'position, id, type, sid, kind, version, ts, data, meta';

export interface EventRow {
  position: number;
  id: string;
  type: string;
  sid: string;
  kind: EventKind;
  version: number;
  ts: number;
  data: string;
  meta: string | null;
}

/** Columns of an encoded read (`EventLog.readAllEncoded`), in `EncodedRow` order. */
export const ENCODED_COLUMNS = 'position, type, sid, kind, version, ts, data';

/** One row of an encoded read, in raw mode. */
export type EncodedRow = [position: number, type: string, sid: string, kind: EventKind, version: number, ts: number, data: string];

const OLD_KINDS = "CHECK (kind IN ('created', 'updated', 'deleted'))";
const NEW_KINDS = "CHECK (kind IN ('created', 'updated', 'deleted', 'erased'))";

/**
 * Databases written before the `erased` kind existed refuse it in the `events` CHECK. Widen the CHECK
 * in place, as SQLite documents for schema changes ALTER TABLE cannot make (lang_altertable.html §7:
 * edit `sqlite_schema` under `writable_schema` and bump `schema_version`, in one transaction). Allowing
 * one more value cannot invalidate a stored row, so no table is rebuilt. Run inside a write transaction.
 */
export function allowErasedKind(db: Database.Database): void {
  const sql = db.prepare("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'events'").pluck().get() as string | undefined;
  if (!sql || !sql.includes(OLD_KINDS)) return;
  const version = db.pragma('schema_version', { simple: true }) as number;
  db.unsafeMode(true);
  try {
    db.pragma('writable_schema = ON');
    db.prepare("UPDATE sqlite_master SET sql = replace(sql, ?, ?) WHERE type = 'table' AND name = 'events'").run(OLD_KINDS, NEW_KINDS);
    db.pragma(`schema_version = ${version + 1}`);
    db.pragma('writable_schema = OFF');
  } finally {
    db.unsafeMode(false);
  }
}
