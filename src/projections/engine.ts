import type Database from 'better-sqlite3';
import type { StoredEvent } from '../log/event';
import type { EventLog } from '../log/event-log';
import { fingerprint, indexedFields, type StoreSchema } from './config';
import { CurrentStateProjection, foldEvents, type FoldedObject } from './current-state';
import { FullTextProjection } from './fulltext';
import { ProjectionQueries } from './queries';
import { CURRENT_STATE, FULL_TEXT, PROJECTION_SCHEMA } from './tables';
import { beginImmediate, writeTransaction } from './transactions';

/** Progress of a long projection job: events folded so far out of the total. */
export type ProgressFn = (done: number, total: number) => void;

const READ_BATCH = 20_000;

/**
 * Owns the projection tables in one SQLite database (the log's own database, or a sidecar) and keeps
 * them in step with the log: inline application, catch-up from checkpoints, full-text batches, rebuild.
 */
export class ProjectionEngine {
  readonly currentState: CurrentStateProjection;
  readonly fulltext: FullTextProjection;
  readonly queries: ProjectionQueries;
  private serial: Promise<unknown> = Promise.resolve();
  private fullTextTimer: NodeJS.Timeout | undefined;

  constructor(readonly db: Database.Database, readonly schema: StoreSchema) {
    db.exec(PROJECTION_SCHEMA);
    this.fulltext = new FullTextProjection(db, schema);
    this.currentState = new CurrentStateProjection(db, schema, this.fulltext);
    this.queries = new ProjectionQueries(db, schema);
    this.syncConfig();
  }

  /** Apply events inside the caller's (append) transaction. */
  applyInline(events: readonly StoredEvent[]): void {
    this.currentState.apply(events);
    this.scheduleFullText();
  }

  /**
   * Bring the current state up to the log's head: apply what the caller just appended directly when it
   * follows the checkpoint, otherwise read the gap from the log. Serialised within the process.
   */
  catchUp(log: EventLog, appended?: readonly StoredEvent[]): Promise<void> {
    return this.exclusive(async () => {
      let from = this.currentState.position() + 1;
      if (appended && appended.length > 0 && appended[0].position === from) {
        await writeTransaction(this.db, () => this.currentState.apply(appended));
        from = appended[appended.length - 1].position + 1;
      }
      for (;;) {
        const events = await log.readAll(from, { limit: READ_BATCH });
        if (events.length === 0) break;
        await writeTransaction(this.db, () => this.currentState.apply(events));
        from = events[events.length - 1].position + 1;
        if (events.length < READ_BATCH) break;
      }
      this.scheduleFullText();
    });
  }

  /** Make the full-text index reflect every committed object (before a text query). */
  async ensureFullText(): Promise<void> {
    if (this.fulltext.position() < this.currentState.position()) await this.fulltext.catchUp();
  }

  /**
   * Drop the projections and derive them again from the whole log: each object's events are folded in
   * memory and the object is written once. Runs in one transaction, so readers see old or new, never half.
   */
  rebuild(log: EventLog, onProgress?: ProgressFn): Promise<{ events: number; objects: number; position: number }> {
    return this.exclusive(async () => {
      const db = this.db;
      await beginImmediate(db);
      try {
        const total = await log.head();
        const folded = new Map<string, FoldedObject>();
        let from = 1;
        let events = 0;
        let position = 0;
        for (;;) {
          const batch = await log.readAll(from, { limit: READ_BATCH });
          if (batch.length === 0) break;
          foldEvents(folded, batch);
          events += batch.length;
          position = batch[batch.length - 1].position;
          from = position + 1;
          onProgress?.(position, Math.max(total, position));
          if (batch.length < READ_BATCH) break;
        }
        db.exec('DELETE FROM objects; DELETE FROM object_index;');
        this.fulltext.dropAll();
        let objects = 0;
        for (const object of folded.values()) {
          const id = this.currentState.writeFolded(object);
          if (id === undefined) continue;
          objects++;
          this.fulltext.index(object.type, id, object.data!);
        }
        this.currentState.setPosition(position);
        this.fulltext.setPosition(position);
        db.prepare('COMMIT').run();
        this.fulltext.optimize();
        return { events, objects, position };
      } catch (error) {
        if (db.inTransaction) db.prepare('ROLLBACK').run();
        throw error;
      }
    });
  }

  /**
   * Run `fn` while no other projection job (catch-up, rebuild) runs in this process: the lane every
   * other writer of the projection database (named subscribers, user projections) goes through.
   */
  runExclusive<T>(fn: () => T | Promise<T>): Promise<T> {
    return this.exclusive(async () => fn());
  }

  /** Checkpoint positions by projection name. */
  checkpoints(): Record<string, number> {
    return { [CURRENT_STATE]: this.currentState.position(), [FULL_TEXT]: this.fulltext.position() };
  }

  /** Stop background work (the caller closes the database). */
  close(): void {
    if (this.fullTextTimer) clearTimeout(this.fullTextTimer);
    this.fullTextTimer = undefined;
  }

  private scheduleFullText(): void {
    if (this.fullTextTimer) return;
    this.fullTextTimer = setTimeout(() => {
      this.fullTextTimer = undefined;
      if (!this.db.open) return;
      // A failure only postpones indexing: the next text query catches up.
      this.ensureFullText().catch(() => undefined);
    }, 25);
    this.fullTextTimer.unref();
  }

  /** Re-derive what depends on declared fields when the schema changed since the last open. */
  private syncConfig(): void {
    const types = Object.keys(this.schema.types).sort();
    const indexConfig = fingerprint(Object.fromEntries(types.map((t) => [t, indexedFields(this.schema, t)])));
    const textConfig = fingerprint(Object.fromEntries(types.map((t) => [t, this.schema.types[t].text ?? null])));
    const stored = this.db.prepare('SELECT config FROM projection_checkpoints WHERE name = ?').pluck();
    const save = this.db.prepare(
      'INSERT INTO projection_checkpoints (name, position, config) VALUES (?, 0, ?) ON CONFLICT(name) DO UPDATE SET config = excluded.config',
    );
    this.db.transaction(() => {
      if (stored.get(CURRENT_STATE) !== indexConfig) {
        this.currentState.reindex();
        save.run(CURRENT_STATE, indexConfig);
      }
      if (stored.get(FULL_TEXT) !== textConfig) {
        this.fulltext.dropAll();
        save.run(FULL_TEXT, textConfig);
      }
    }).immediate();
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.serial.then(fn, fn);
    this.serial = run.catch(() => undefined);
    return run;
  }
}
