import Database from 'better-sqlite3';
import { LOG_SCHEMA } from '../backends/sqlite/log-schema';
import type { Durability } from '../index';
import { ensureProjectionTables, ftsTable, LIVE } from '../projections/sqlite/tables';
import { BENCH_TYPE } from './data';
import { fastUlid } from './fast-ulid';

/**
 * The raw better-sqlite3 baselines: the same rows in the same table shapes (src/backends/sqlite/log-schema.ts
 * and src/projections/sqlite/tables.ts) with nothing but prepared statements, no checks, no API.
 */

export const RAW_FTS_TABLE = ftsTable(BENCH_TYPE);
const FTS_DDL = `CREATE VIRTUAL TABLE IF NOT EXISTS ${RAW_FTS_TABLE} USING fts5(body, content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 2')`;

function open(file: string, durability: Durability | 'off'): Database.Database {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${durability === 'full' ? 'FULL' : durability === 'normal' ? 'NORMAL' : 'OFF'}`);
  return db;
}

/** Writes an event row plus a current-state row per object, in one transaction per call. */
export class RawSqliteWriter {
  private readonly db: Database.Database;
  private readonly one: (doc: object) => void;
  private readonly many: (docs: readonly object[]) => void;

  constructor(file: string, durability: Durability) {
    this.db = open(file, durability);
    this.db.exec(LOG_SCHEMA);
    ensureProjectionTables(this.db, LIVE);
    const insertEvent = this.db.prepare(
      'INSERT INTO events (id, type, sid, kind, version, ts, data, meta) VALUES (?, ?, ?, ?, 1, ?, ?, NULL)',
    );
    const insertObject = this.db.prepare(
      'INSERT INTO objects (type, sid, data, version, position, created_at, updated_at) VALUES (?, ?, ?, 1, ?, ?, ?)',
    );
    const write = (doc: object) => {
      const now = Date.now();
      const sid = fastUlid(now);
      const data = JSON.stringify({ sid, ...doc });
      const position = insertEvent.run(fastUlid(now), BENCH_TYPE, sid, 'created', now, data).lastInsertRowid;
      insertObject.run(BENCH_TYPE, sid, data, position, now, now);
    };
    const one = this.db.transaction(write);
    const many = this.db.transaction((docs: readonly object[]) => {
      for (const doc of docs) write(doc);
    });
    this.one = (doc) => one.immediate(doc);
    this.many = (docs) => many.immediate(docs);
  }

  /** One object, one transaction. */
  insertOne(doc: object): void {
    this.one(doc);
  }

  /** Many objects, one transaction. */
  insertMany(docs: readonly object[]): void {
    this.many(docs);
  }

  close(): void {
    this.db.close();
  }
}

/** A raw read connection to a store's SQLite file: primary-key reads and FTS5 queries. */
export class RawSqliteReader {
  readonly db: Database.Database;
  private readonly getData: Database.Statement;
  private match: Database.Statement | undefined;

  constructor(file: string) {
    this.db = open(file, 'normal');
    this.getData = this.db.prepare('SELECT data FROM objects WHERE type = ? AND sid = ?').pluck();
  }

  /** The object by (type, sid), parsed. */
  get(sid: string): unknown {
    return JSON.parse(this.getData.get(BENCH_TYPE, sid) as string);
  }

  /**
   * Sids of the best-ranked `limit` matches (BM25, ties by rowid: the store's answer) of an FTS5
   * expression, in the fastest raw form measured (issue 17: `ORDER BY rank, rowid` in FTS5 before the
   * join took 103 ms against 199 ms for `ORDER BY rank` on a term in 80% of 200K documents).
   */
  find(expression: string, limit = 20): string[] {
    this.match ??= this.db
      .prepare(
        `SELECT o.sid FROM (SELECT rowid AS id, rank AS score FROM ${RAW_FTS_TABLE} WHERE ${RAW_FTS_TABLE} MATCH ? ORDER BY rank, rowid LIMIT ?) f ` +
          'JOIN objects o ON o.id = f.id ORDER BY f.score, f.id',
      )
      .pluck();
    return this.match.all(expression, limit) as string[];
  }

  close(): void {
    this.db.close();
  }
}

/** Raw cold open: open the file, read one object, run one ranked FTS5 query, close. */
export function rawOpenGetFind(file: string, sid: string, expression: string): void {
  const reader = new RawSqliteReader(file);
  try {
    reader.get(sid);
    reader.find(expression);
  } finally {
    reader.close();
  }
}

/** An FTS5 expression matching every given term, each quoted. */
export function ftsAnd(terms: readonly string[]): string {
  return terms.map((t) => `"${t}"`).join(' AND ');
}

/**
 * Raw rebuild: read every event of `logFile`, fold each object in memory (keeping the JSON text, parsing
 * only the last state once) and write the objects plus their full text into `outFile` in one
 * transaction, then merge the FTS5 index. The minimum work a rebuild of these rows can do.
 */
export function rawRebuild(logFile: string, outFile: string): { events: number; objects: number } {
  const db = open(outFile, 'normal');
  try {
    ensureProjectionTables(db, LIVE);
    db.prepare('ATTACH DATABASE ? AS log').run(logFile);
    interface Folded { type: string; sid: string; data: string | null; version: number; position: number; created: number; updated: number }
    const folded = new Map<string, Folded>();
    let events = 0;
    const rows = db.prepare('SELECT position, type, sid, kind, version, ts, data FROM log.events ORDER BY position').raw();
    for (const row of rows.iterate() as Iterable<[number, string, string, string, number, number, string]>) {
      events++;
      const [position, type, sid, kind, version, ts, data] = row;
      const key = `${type}\0${sid}`;
      const current = folded.get(key);
      if (kind === 'deleted') {
        if (current) Object.assign(current, { data: null, version, position });
      } else if (!current || current.data === null || kind === 'created') {
        folded.set(key, { type, sid, data, version, position, created: ts, updated: ts });
      } else {
        Object.assign(current, { data, version, position, updated: ts });
      }
    }
    const insertObject = db.prepare(
      'INSERT INTO objects (type, sid, data, version, position, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    let objects = 0;
    db.transaction(() => {
      db.exec(`DELETE FROM objects; DELETE FROM object_index; DROP TABLE IF EXISTS ${RAW_FTS_TABLE}; ${FTS_DDL}`);
      const insertText = db.prepare(`INSERT INTO ${RAW_FTS_TABLE} (rowid, body) VALUES (?, ?)`);
      for (const o of folded.values()) {
        if (o.data === null) continue;
        const id = insertObject.run(o.type, o.sid, o.data, o.version, o.position, o.created, o.updated).lastInsertRowid;
        const parsed = JSON.parse(o.data) as { title?: string; body?: string };
        insertText.run(id, `${parsed.title ?? ''}\n${parsed.body ?? ''}`);
        objects++;
      }
    }).immediate();
    db.exec(`INSERT INTO ${RAW_FTS_TABLE} (${RAW_FTS_TABLE}) VALUES ('optimize')`);
    db.exec('DETACH DATABASE log');
    return { events, objects };
  } finally {
    db.close();
  }
}
