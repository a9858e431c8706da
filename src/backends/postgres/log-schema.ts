import type { PoolClient } from 'pg';
import { quoteIdent } from './sql';

/** Version of the table layout below, kept in `log_meta` for later migrations. */
export const LOG_SCHEMA_VERSION = '1';

/**
 * The store's tables, schema-qualified and quoted: every statement of the backend names them through
 * this, so one database can hold many stores (one PostgreSQL schema each).
 */
export interface LogTables {
  schema: string;
  events: string;
  head: string;
  uniqueKeys: string;
  idempotency: string;
  meta: string;
  /** The LISTEN/NOTIFY channel of this store (an identifier, quoted for LISTEN, a literal for pg_notify). */
  channel: string;
}

/** The names of the store's tables in `schema`. */
export function logTables(schema: string): LogTables {
  const q = (table: string) => `${quoteIdent(schema)}.${quoteIdent(table)}`;
  return {
    schema,
    events: q('events'),
    head: q('log_head'),
    uniqueKeys: q('unique_keys'),
    idempotency: q('idempotency'),
    meta: q('log_meta'),
    channel: `osis_log_${schema}`,
  };
}

/**
 * DDL of the log, idempotent. `events.data` and `events.meta` are JSON text exactly as `JSON.stringify`
 * wrote it (as on sqlite), so reads return it byte for byte and `readAllEncoded` hands it out as stored.
 * `unique_keys` is keyed by the SHA-256 of a claimed value's JSON (`keyHash`), so values of any length can
 * be unique (a btree entry holds at most about 2.7 kB). `log_head` is the position counter: its one row is updated in every append transaction (see
 * append-batch.ts for why positions then follow commit order). The constraint names are matched by
 * pg-errors.ts.
 */
function ddl(t: LogTables): string {
  return `
CREATE SCHEMA IF NOT EXISTS ${quoteIdent(t.schema)};
CREATE TABLE IF NOT EXISTS ${t.events} (
  position bigint      NOT NULL CONSTRAINT events_pkey PRIMARY KEY CHECK (position >= 1),
  id       text        NOT NULL,
  type     text        NOT NULL,
  sid      text        NOT NULL,
  kind     text        NOT NULL CONSTRAINT events_kind CHECK (kind IN ('created', 'updated', 'deleted', 'erased')),
  version  integer     NOT NULL CHECK (version >= 1),
  ts       timestamptz NOT NULL,
  data     text        NOT NULL,
  meta     text,
  CONSTRAINT events_by_stream UNIQUE (type, sid, version)
);
CREATE TABLE IF NOT EXISTS ${t.head} (
  id       smallint NOT NULL PRIMARY KEY CHECK (id = 1),
  position bigint   NOT NULL CHECK (position >= 0)
);
INSERT INTO ${t.head} (id, position) VALUES (1, 0) ON CONFLICT (id) DO NOTHING;
CREATE TABLE IF NOT EXISTS ${t.uniqueKeys} (
  type     text NOT NULL,
  field    text NOT NULL,
  key      text NOT NULL,
  key_hash text NOT NULL,
  sid      text NOT NULL,
  PRIMARY KEY (type, field, key_hash)
);
CREATE INDEX IF NOT EXISTS unique_keys_by_sid ON ${t.uniqueKeys} (type, sid);
CREATE TABLE IF NOT EXISTS ${t.idempotency} (
  key            text PRIMARY KEY,
  first_position bigint,
  last_position  bigint
);
CREATE TABLE IF NOT EXISTS ${t.meta} (
  key   text PRIMARY KEY,
  value text NOT NULL
);
INSERT INTO ${t.meta} (key, value) VALUES ('log_schema', '${LOG_SCHEMA_VERSION}') ON CONFLICT (key) DO NOTHING;
-- Stores created before the erased kind: widen the kind check (it never invalidates a row).
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = '${t.events}'::regclass AND conname = 'events_kind') THEN
    ALTER TABLE ${t.events} DROP CONSTRAINT IF EXISTS events_kind_check;
    ALTER TABLE ${t.events} ADD CONSTRAINT events_kind CHECK (kind IN ('created', 'updated', 'deleted', 'erased'));
  END IF;
END $$;
`;
}

/**
 * Create the log's schema and tables if they are missing, inside the caller's transaction and under a
 * transaction-scoped advisory lock per store schema, so any number of hosts may open a new store at the
 * same moment (`CREATE … IF NOT EXISTS` alone races on the catalogs). `lockTimeoutMs` bounds the wait
 * for the lock; past it PostgreSQL raises 55P03, which the caller reports as LOCKED.
 */
export async function createLogTables(client: PoolClient, tables: LogTables, lockTimeoutMs: number): Promise<void> {
  await client.query(`SET LOCAL lock_timeout = ${Math.max(1, Math.round(lockTimeoutMs))}`);
  await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`osis-store ddl:${tables.schema}`]);
  await client.query(ddl(tables));
}

/** Columns of an event read, in the order `decodeRawRows` takes them (ts in ms since the epoch). */
export const EVENT_COLUMNS = "position, id, type, sid, kind, version, (extract(epoch FROM ts) * 1000)::bigint AS ts, data, meta";

/** Columns of an encoded read (`EventLog.readAllEncoded`), in `EncodedEvent` order. */
export const ENCODED_COLUMNS = "position, type, sid, kind, version, (extract(epoch FROM ts) * 1000)::bigint AS ts, data";
