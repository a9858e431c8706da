import type Database from 'better-sqlite3';
import type { ProposedEvent } from '../../log/event';
import type { UniqueSpec } from '../../log/event-log';
import { endsLife, uniqueClaims, uniqueSpecKey, uniqueViolation } from '../../log/append-rules';
import { InvalidInputError, UniqueViolationError } from '../../log/errors';

/**
 * The `unique_keys` table: which live object holds each declared unique value. Maintained inside the
 * append transaction, so the constraint holds across every process writing the database.
 */
export class UniqueKeyTable {
  private readonly holder;
  private readonly releaseAll;
  private readonly claim;
  private readonly types: Set<string>;

  constructor(private readonly db: Database.Database, private readonly spec: UniqueSpec) {
    this.holder = db.prepare('SELECT sid FROM unique_keys WHERE type = ? AND field = ? AND key = ?').pluck();
    this.releaseAll = db.prepare('DELETE FROM unique_keys WHERE type = ? AND sid = ?');
    this.claim = db.prepare('INSERT INTO unique_keys (type, field, key, sid) VALUES (?, ?, ?, ?)');
    this.types = new Set(Object.keys(spec).filter((t) => spec[t].length > 0));
  }

  /** Release the object's claims and take the ones its new data makes; throws on a clash. */
  apply(event: ProposedEvent): void {
    if (!this.types.has(event.type)) return;
    this.releaseAll.run(event.type, event.sid);
    if (endsLife(event.kind)) return;
    for (const claim of uniqueClaims(this.spec, event.type, event.data)) {
      const heldBy = this.holder.get(event.type, claim.field, claim.key) as string | undefined;
      if (heldBy !== undefined) throw uniqueViolation(event.type, claim, heldBy);
      this.claim.run(event.type, claim.field, claim.key, event.sid);
    }
  }

  /**
   * When the declared unique fields differ from the ones the table was built for, rebuild it from the
   * latest event of every object (one transaction). A clash in existing data is an error that names it.
   */
  syncWithSpec(): void {
    const wanted = uniqueSpecKey(this.spec);
    const current = this.db.prepare("SELECT value FROM log_meta WHERE key = 'unique_spec'").pluck().get();
    if (current === wanted) return;
    const latest = this.db.prepare(
      `SELECT e.type, e.sid, e.kind, e.data FROM events e
         JOIN (SELECT type, sid, max(version) AS v FROM events GROUP BY type, sid) m
           ON e.type = m.type AND e.sid = m.sid AND e.version = m.v`,
    );
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM unique_keys').run();
      for (const row of latest.all() as Array<{ type: string; sid: string; kind: string; data: string }>) {
        if (endsLife(row.kind) || !this.types.has(row.type)) continue;
        try {
          this.apply({ type: row.type, sid: row.sid, kind: 'updated', data: JSON.parse(row.data) });
        } catch (error) {
          if (!(error instanceof UniqueViolationError)) throw error;
          throw new InvalidInputError(
            `cannot declare ${error.type}.${error.field} unique: ${JSON.stringify(error.value)} is held by both ${error.heldBy} and ${row.sid}`,
          );
        }
      }
      this.db.prepare("INSERT OR REPLACE INTO log_meta (key, value) VALUES ('unique_spec', ?)").run(wanted);
    }).immediate();
  }
}
