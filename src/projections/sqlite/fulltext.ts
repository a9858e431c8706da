import type Database from 'better-sqlite3';
import { fullTextBody, type StoreSchema } from '../config';
import { FULL_TEXT, LIVE, championTables, ftsTable, ftsTables, type ObjectRow, type TableNames } from './tables';
import { bulkChampions, type BulkChampions, type BulkLists } from './champion-bulk';
import { ChampionLists } from './champions';
import { writeTransaction } from './transactions';

/**
 * The full-text projection: one contentless FTS5 table per type (BM25 statistics per type), rowid =
 * `objects.id`. It is derived from the current-state projection: rows removed with their object inline,
 * (re)indexed in batches after commit by `catchUp`, which `_find` with text runs first.
 */
export class FullTextProjection {
  private readonly known = new Set<string>();
  private readonly statements = new Map<string, { remove: Database.Statement; insert: Database.Statement }>();
  private readonly checkpoint;
  private readonly saveCheckpoint;
  private readonly changedSince;

  private schemaVersion = -1;
  private readonly readSchemaVersion;
  /** The champion lists kept beside the FTS5 tables (see champions.ts). */
  readonly champions: ChampionLists;
  private bulk: BulkChampions | undefined;

  constructor(private readonly db: Database.Database, private readonly schema: StoreSchema, private readonly names: TableNames = LIVE) {
    this.readSchemaVersion = db.prepare('PRAGMA schema_version').pluck();
    this.checkpoint = db.prepare('SELECT position FROM projection_checkpoints WHERE name = ?').pluck();
    this.saveCheckpoint = db.prepare(
      'INSERT INTO projection_checkpoints (name, position) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET position = excluded.position',
    );
    this.changedSince = db.prepare(`SELECT id, type, data, position FROM ${names.objects} WHERE position > ? ORDER BY position LIMIT ?`);
    this.champions = new ChampionLists(db, names);
    this.refresh();
  }

  /** Re-read which FTS tables exist when the database schema changed (another process or a rebuild swap). */
  private refresh(): void {
    const version = this.readSchemaVersion.get() as number;
    if (version === this.schemaVersion) return;
    this.schemaVersion = version;
    this.known.clear();
    this.statements.clear();
    for (const name of ftsTables(this.db, this.names)) this.known.add(name);
  }

  /** Position up to which the index reflects the current state. */
  position(): number {
    return (this.checkpoint.get(FULL_TEXT) as number | undefined) ?? 0;
  }

  /** Whether a full-text table exists for `type`. */
  has(type: string): boolean {
    this.refresh();
    return this.known.has(ftsTable(type, this.names));
  }

  /** Drop an object's entry (inline, with its deletion). */
  remove(type: string, id: number): void {
    this.refresh();
    const table = ftsTable(type, this.names);
    if (!this.known.has(table)) return;
    this.statementsFor(table).remove.run(id);
    this.champions.remove(type, id);
  }

  /**
   * Start a rebuild's bulk indexing of `objects` objects: champion lists are collected beside it (on a
   * worker thread when the rebuild is big) until `finishBulk`.
   */
  startBulk(objects: number): void {
    this.bulk?.dispose();
    this.bulk = bulkChampions(objects);
  }

  /** The champion lists collected since `startBulk`, to hand to `writeBulk`. */
  async finishBulk(): Promise<BulkLists> {
    const bulk = this.bulk;
    this.bulk = undefined;
    return bulk ? bulk.finish() : new Map();
  }

  /** Stop a bulk indexing that failed. */
  abandonBulk(): void {
    this.bulk?.dispose();
    this.bulk = undefined;
  }

  /** Write the champion lists of a bulk indexing (inside the caller's transaction). */
  writeBulk(lists: BulkLists): void {
    for (const [type, terms] of lists) if (terms.size > 0) this.champions.write(type, terms);
  }

  /**
   * Index every object changed since the checkpoint, in transactions of `batchSize`.
   * Returns the number of objects indexed. Safe to run from several processes at once.
   */
  async catchUp(batchSize = 5000): Promise<number> {
    let total = 0;
    for (;;) {
      const done = await writeTransaction(this.db, () => {
        const from = this.position();
        const rows = this.changedSince.all(from, batchSize) as Pick<ObjectRow, 'id' | 'type' | 'data' | 'position'>[];
        for (const row of rows) this.index(row.type, row.id, JSON.parse(row.data));
        if (rows.length > 0) this.saveCheckpoint.run(FULL_TEXT, rows[rows.length - 1].position);
        return rows.length;
      });
      total += done;
      if (done < batchSize) return total;
    }
  }

  /** (Re)index one object; `fresh` skips removing an older entry (a rebuild filling new tables). */
  index(type: string, id: number, data: Record<string, unknown>, fresh = false): void {
    this.refresh();
    const statements = this.statementsFor(this.ensureTable(type));
    if (!fresh) {
      statements.remove.run(id);
      this.champions.remove(type, id);
    }
    const body = fullTextBody(this.schema, type, data);
    if (body === '') return;
    statements.insert.run(id, body);
    if (fresh && this.bulk) this.bulk.add(type, id, body);
    else this.champions.add(type, id, body);
  }

  /** Set the checkpoint (inside the caller's transaction). */
  setPosition(position: number): void {
    this.saveCheckpoint.run(FULL_TEXT, position);
  }

  /** Drop every full-text table and reset the checkpoint (inside the caller's transaction). */
  dropAll(): void {
    this.refresh();
    for (const table of this.known) this.db.exec(`DROP TABLE IF EXISTS ${table}`);
    for (const table of championTables(this.db, this.names)) this.db.exec(`DROP TABLE IF EXISTS ${table}`);
    this.known.clear();
    this.statements.clear();
    this.saveCheckpoint.run(FULL_TEXT, 0);
  }

  /**
   * Merge the index segments (off the hot path: after rebuilds and on demand), of one type's table or of
   * all. A contentless FTS5 table keeps deleted rows' terms in its segments until they are merged, so an
   * erasure optimizes its type's table.
   */
  optimize(type?: string): void {
    this.refresh();
    const tables = type === undefined ? [...this.known] : [ftsTable(type, this.names)].filter((t) => this.known.has(t));
    for (const table of tables) this.db.exec(`INSERT INTO ${table} (${table}) VALUES ('optimize')`);
  }

  private statementsFor(table: string) {
    let statements = this.statements.get(table);
    if (!statements) {
      statements = {
        remove: this.db.prepare(`DELETE FROM ${table} WHERE rowid = ?`),
        insert: this.db.prepare(`INSERT INTO ${table} (rowid, body) VALUES (?, ?)`),
      };
      this.statements.set(table, statements);
    }
    return statements;
  }

  private ensureTable(type: string): string {
    const table = ftsTable(type, this.names);
    if (!this.known.has(table)) {
      this.db.exec(
        `CREATE VIRTUAL TABLE IF NOT EXISTS ${table} USING fts5(body, content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 2')`,
      );
      this.known.add(table);
      this.schemaVersion = this.readSchemaVersion.get() as number;
    }
    return table;
  }
}
