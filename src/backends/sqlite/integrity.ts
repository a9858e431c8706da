import type Database from 'better-sqlite3';
import { CorruptError } from '../../log/errors';
import type { IntegrityProblem, IntegrityReport } from '../../log/event-log';

/**
 * Damage found in the log (by `verify` or a read), kept in the table `log_damage` (see LOG_SCHEMA). While
 * a row is there every append refuses with CORRUPT, so nothing is written after damage that was found
 * once. A `verify` that finds the log whole again removes it; `DELETE FROM log_damage` accepts the loss.
 */
export class LogDamage {
  private readonly s;

  constructor(private readonly db: Database.Database, private readonly file: string) {
    this.s = {
      get: db.prepare('SELECT place, message, found_at, found_by FROM log_damage WHERE id = 1'),
      save: db.prepare('INSERT OR IGNORE INTO log_damage (id, place, message, found_at, found_by) VALUES (1, ?, ?, ?, ?)'),
      clear: db.prepare('DELETE FROM log_damage'),
    };
  }

  /** Inside the append transaction: CORRUPT while damage is recorded. */
  assertWritable(): void {
    const row = this.s.get.get() as { place: string; message: string; found_at: string; found_by: string } | undefined;
    if (!row) return;
    throw new CorruptError(
      `the log in ${this.file} is damaged at ${row.place}: ${row.message} (found by ${row.found_by} at ${row.found_at}); ` +
        "writes are refused until it is repaired and 'osis verify' passes, or the loss is accepted with DELETE FROM log_damage",
      { details: { where: row.place } },
    );
  }

  /** Record damage (the first found is kept). Best effort: a busy or full database leaves the original error to speak. */
  record(problem: IntegrityProblem, foundBy: string): void {
    try {
      this.s.save.run(problem.where, problem.message, new Date().toISOString(), foundBy);
    } catch {
      // the error that found the damage is thrown by the caller
    }
  }

  /** After a verify that found the log whole. */
  clear(): void {
    try {
      this.s.clear.run();
    } catch {
      // a later verify clears it
    }
  }
}

/** SQLite's integrity check, plus the log's own invariants: versions run 1..n per object, rows hold valid JSON. */
export function checkIntegrity(db: Database.Database): IntegrityReport {
  const problems: IntegrityProblem[] = [];
  for (const line of db.pragma('integrity_check', { simple: false }) as { integrity_check: string }[]) {
    if (line.integrity_check !== 'ok') problems.push({ where: 'sqlite', message: line.integrity_check });
  }
  const gaps = db
    .prepare('SELECT type, sid, count(*) AS n, max(version) AS v FROM events GROUP BY type, sid HAVING n != v OR min(version) != 1')
    .all() as { type: string; sid: string; n: number; v: number }[];
  for (const gap of gaps) problems.push({ where: `events ${gap.type}/${gap.sid}`, message: `${gap.n} events but versions up to ${gap.v}` });
  const unreadable = db
    .prepare('SELECT position FROM events WHERE NOT json_valid(data) OR (meta IS NOT NULL AND NOT json_valid(meta)) ORDER BY position LIMIT 100')
    .pluck()
    .all() as number[];
  for (const position of unreadable) problems.push({ where: `events position ${position}`, message: 'data or meta is not valid JSON' });
  const events = (db.prepare('SELECT count(*) FROM events').pluck().get() as number) ?? 0;
  return { events, problems };
}

/** The damage an error from decoding stored rows describes, if it is one. */
export function rowDamageOf(error: unknown): IntegrityProblem | undefined {
  if (!(error instanceof CorruptError)) return undefined;
  const position = (error.details as { position?: unknown } | undefined)?.position;
  return typeof position === 'number' ? { where: `events position ${position}`, message: error.message } : undefined;
}
