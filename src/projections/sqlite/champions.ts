import type Database from 'better-sqlite3';
import { averageLength, bm25Weight, termFrequencies } from './bm25';
import { ChampionBuilder, type Point, type TermLists } from './champion-builder';
export { CHAMPIONS, TRACKED_DF, type TermLists } from './champion-builder';
import { ftsTable, typeOfTable, typeTable, type TableNames } from './tables';



/** Whether a posting (tf, length, id) ranks at or after frontier point `p` under every average length. */
function dominated(p: Point, tf: number, length: number, id: number): boolean {
  return p.tf >= tf && (p.length < length || (p.length === length && (p.tf > tf || id >= p.id)));
}

/** The frontiers of a type's tracked terms, as loaded from its champion table. */
type Frontiers = Map<string, Point[]>;

/** The row that versions a champion table: term '' (never a token), id 0; `edge` counts changes to its frontiers. */
const VERSION_TERM = '';


/**
 * Champion lists beside FTS5, one table per type (`typeTable(names.championPrefix, type)`), so a one-term
 * ranked query costs O(list), not O(matches). For each tracked term the table holds a marker row
 * (id 0), its frontier (rows with id −tf: the first (length, id) left out at that term frequency) and
 * its list: postings (id, tf, length) that no frontier point dominates. BM25 weight grows with tf and
 * falls with length whatever the average length, so a left-out posting never outweighs the best frontier
 * point; a page is answered from the list only when its last item outweighs that bound (then it is
 * FTS5's exact `ORDER BY rank, rowid` page), otherwise the caller asks FTS5.
 *
 * Lists are written by a rebuild, or later by a promotion (champion-promotion.ts) when a term becomes
 * frequent in a store that is never rebuilt. While a term is being promoted its marker row has edge 1:
 * it has no frontier yet, so every new posting is recorded, and `top` leaves its queries to FTS5. Every
 * change of a frontier bumps the table's version row (term '', id 0), so every process re-reads them.
 */
export class ChampionLists {
  private readonly frontiers = new Map<string, { version: number; frontiers: Frontiers } | null>();
  private readonly statements = new Map<
    string,
    { insert: Database.Statement; remove: Database.Statement; select: Database.Statement; version: Database.Statement }
  >();
  private schemaVersion = -1;
  private readonly readSchemaVersion;

  constructor(private readonly db: Database.Database, private readonly names: TableNames) {
    this.readSchemaVersion = db.prepare('PRAGMA schema_version').pluck();
  }

  /** Record the postings of a newly indexed object that its type's frontiers do not dominate. */
  add(type: string, id: number, body: string): void {
    const frontiers = this.load(type);
    if (!frontiers) return;
    const { tf, length } = termFrequencies(body);
    for (const [term, n] of tf) {
      const frontier = frontiers.get(term);
      if (frontier && !frontier.some((p) => dominated(p, n, length, id))) this.statementsFor(type).insert.run(term, id, n, length, 0);
    }
  }

  /** Drop an object's postings (before it is removed or re-indexed). */
  remove(type: string, id: number): void {
    if (this.load(type)) this.statementsFor(type).remove.run(id);
  }

  /**
   * The ids of FTS5's exact top `k` for a one-term query (`ORDER BY rank, rowid`), or undefined when the
   * lists cannot prove them (untracked term, or too few postings above the frontier).
   */
  top(type: string, term: string, k: number): number[] | undefined {
    if (!this.load(type)) return undefined;
    const rows = this.statementsFor(type).select.all(term) as { id: number; tf: number; length: number; edge: number }[];
    if (rows.length === 0 || rows.some((row) => row.id === 0 && row.edge === 1)) return undefined;
    const avgdl = averageLength(this.db, ftsTable(type, this.names));
    if (avgdl === undefined) return [];
    const bounds: { id: number; w: number }[] = [];
    const scored: { id: number; w: number }[] = [];
    for (const row of rows) {
      if (row.id < 0) bounds.push({ id: row.edge, w: bm25Weight(row.tf, row.length, avgdl) });
      else if (row.id > 0) scored.push({ id: row.id, w: bm25Weight(row.tf, row.length, avgdl) });
    }
    scored.sort((a, b) => b.w - a.w || a.id - b.id);
    if (scored.length < k) return bounds.length === 0 ? scored.map((s) => s.id) : undefined;
    const last = scored[k - 1];
    return bounds.every((b) => last.w > b.w || (last.w === b.w && last.id < b.id)) ? scored.slice(0, k).map((s) => s.id) : undefined;
  }

  /**
   * A builder that collects every posting of a type while a rebuild indexes it (or, with `only`, the
   * postings of those terms while a promotion scans the type), then writes the lists.
   */
  builder(only?: ReadonlySet<string>): ChampionBuilder {
    return new ChampionBuilder(only);
  }

  /** Create a type's table and write its lists (inside the caller's transaction). */
  write(type: string, lists: TermLists): void {
    const insert = this.ensureTable(type);
    for (const [term, list] of lists) {
      insert.run(term, 0, 0, 0, 0);
      for (const p of list.frontier) insert.run(term, -p.tf, p.tf, p.length, p.id);
      for (const [id, tf, length] of list.postings) insert.run(term, id, tf, length, 0);
    }
    this.bumpVersion(type);
  }

  /** The tracked terms of a type, and those still being promoted (edge 1). */
  trackedTerms(type: string): { tracked: Set<string>; building: Set<string> } {
    const tracked = new Set<string>();
    const building = new Set<string>();
    if (!this.load(type)) return { tracked, building };
    for (const row of this.db.prepare(`SELECT term, edge FROM ${this.table(type)} WHERE id = 0 AND term != ?`).all(VERSION_TERM) as { term: string; edge: number }[]) {
      (row.edge === 1 ? building : tracked).add(row.term);
    }
    return { tracked, building };
  }

  /**
   * Start promoting `terms` (inside the caller's transaction): a marker with no frontier, so from now on
   * every new posting of them is recorded, and `top` does not answer them until `finishPromotion`.
   */
  startPromotion(type: string, terms: Iterable<string>): void {
    const insert = this.ensureTable(type);
    for (const term of terms) insert.run(term, 0, 0, 0, 1);
    this.bumpVersion(type);
  }

  /**
   * Finish a promotion (inside the caller's transaction): write the frontiers a scan found, and its
   * postings that `current` confirms (an object changed since the scan read it already has its posting
   * from `add`, which must not be overwritten), then let `top` answer the terms.
   */
  finishPromotion(type: string, lists: TermLists, current: (id: number, term: string) => { tf: number; length: number } | undefined): void {
    const insert = this.ensureTable(type);
    for (const [term, list] of lists) {
      for (const p of list.frontier) insert.run(term, -p.tf, p.tf, p.length, p.id);
      for (const [id, tf, length] of list.postings) {
        const now = current(id, term);
        if (now && now.tf === tf && now.length === length) insert.run(term, id, tf, length, 0);
      }
      insert.run(term, 0, 0, 0, 0);
    }
    this.bumpVersion(type);
  }

  /** The object count recorded at the type's last promotion check (0 when never checked). */
  checkedAt(type: string): number {
    if (!this.load(type)) return 0;
    return (this.db.prepare(`SELECT length FROM ${this.table(type)} WHERE term = ? AND id = 0`).pluck().get(VERSION_TERM) as number | undefined) ?? 0;
  }

  /** Record the object count of a promotion check (inside the caller's transaction). */
  markChecked(type: string, objects: number): void {
    this.ensureTable(type);
    this.db.prepare(`UPDATE ${this.table(type)} SET length = ? WHERE term = ? AND id = 0`).run(objects, VERSION_TERM);
  }

  /** The type's table (created when missing, with its version row) and its insert statement. */
  private ensureTable(type: string): Database.Statement {
    const table = this.table(type);
    if (!this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(table)) {
      const tag = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
      this.db.exec(`CREATE TABLE IF NOT EXISTS ${table} (term TEXT NOT NULL, id INTEGER NOT NULL, tf INTEGER NOT NULL, length INTEGER NOT NULL, edge INTEGER NOT NULL, PRIMARY KEY (term, id)) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS champions_by_id_${tag} ON ${table} (id)`);
    }
    this.db.prepare(`INSERT OR IGNORE INTO ${table} (term, id, tf, length, edge) VALUES (?, 0, 0, 0, 0)`).run(VERSION_TERM);
    return this.db.prepare(`INSERT OR REPLACE INTO ${table} (term, id, tf, length, edge) VALUES (?, ?, ?, ?, ?)`);
  }

  private bumpVersion(type: string): void {
    this.db.prepare(`UPDATE ${this.table(type)} SET edge = edge + 1 WHERE term = ? AND id = 0`).run(VERSION_TERM);
    this.frontiers.delete(type);
    this.statements.delete(type);
    this.schemaVersion = -1;
  }

  private statementsFor(type: string) {
    let statements = this.statements.get(type);
    if (!statements) {
      const table = this.table(type);
      statements = {
        insert: this.db.prepare(`INSERT OR REPLACE INTO ${table} (term, id, tf, length, edge) VALUES (?, ?, ?, ?, ?)`),
        remove: this.db.prepare(`DELETE FROM ${table} WHERE id = ?`),
        select: this.db.prepare(`SELECT id, tf, length, edge FROM ${table} WHERE term = ?`),
        version: this.db.prepare(`SELECT edge FROM ${table} WHERE term = ? AND id = 0`).pluck(),
      };
      this.statements.set(type, statements);
    }
    return statements;
  }

  private table(type: string): string {
    return typeTable(this.names.championPrefix, type);
  }

  /**
   * A type's frontiers (null when it has no champion table), re-read when the schema changed or the
   * table's version row moved (a promotion or rebuild in any process).
   */
  private load(type: string): Frontiers | null {
    const schemaVersion = this.readSchemaVersion.get() as number;
    if (schemaVersion !== this.schemaVersion) {
      this.frontiers.clear();
      this.statements.clear();
      this.schemaVersion = schemaVersion;
    }
    const cached = this.frontiers.get(type);
    if (cached === null) return null;
    if (cached !== undefined) {
      const version = (this.statementsFor(type).version.get(VERSION_TERM) as number | undefined) ?? 0;
      if (version === cached.version) return cached.frontiers;
    }
    const table = this.table(type);
    if (!this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(table)) {
      this.frontiers.set(type, null);
      return null;
    }
    const frontiers: Frontiers = new Map();
    let version = 0;
    for (const row of this.db.prepare(`SELECT term, id, tf, length, edge FROM ${table} WHERE id <= 0`).all() as { term: string; id: number; tf: number; length: number; edge: number }[]) {
      if (row.term === VERSION_TERM) {
        version = row.edge;
        continue;
      }
      let frontier = frontiers.get(row.term);
      if (!frontier) frontiers.set(row.term, (frontier = []));
      if (row.id < 0) frontier.push({ tf: row.tf, length: row.length, id: row.edge });
    }
    this.frontiers.set(type, { version, frontiers });
    return frontiers;
  }
}
