import type Database from 'better-sqlite3';
import { InvalidInputError } from '../../log/errors';
import type { ObjectData, StoredEvent } from '../../log/event';
import type { EventLog, IntegrityProblem } from '../../log/event-log';
import { fingerprint, indexedFields, type StoreSchema } from '../config';
import type { FoldLimit, FoldedLog, ProgressFn } from '../fold';
import type {
  Facet,
  FacetValue,
  FindQuery,
  ObjectRecord,
  Page,
  ProjectionStore,
  ProjectionTransaction,
  ReadBudget,
  RebuildResult,
  SubscriberCheckpoint,
  SubscriberKind,
  UserProjectionHandler,
} from '../projection-store';
import { promoteFrequentTerms, promotionDue } from './champion-promotion';
import { CountQueries } from './counts';
import { CurrentStateProjection } from './current-state';
import { FullTextProjection } from './fulltext';
import { pagedFind } from './paged-find';
import { checkParity } from './parity';
import { ProjectionQueries } from './queries';
import { blueGreenRebuild } from './rebuild';
import { findAtSnapshot } from './snapshot';
import { SubscriberCheckpoints, listCheckpoints } from './subscriber-checkpoints';
import { CURRENT_STATE, FULL_TEXT, LIVE, ensureProjectionTables } from './tables';
import { writeTransaction } from './transactions';

export type { ProgressFn } from '../fold';
export type { RebuildResult } from '../projection-store';

/**
 * A user projection's transaction on the SQLite store: the projection database (better-sqlite3; the
 * store's own file on `sqlite:`, the sidecar on `file:`) inside the transaction that also moves the
 * projection's checkpoint. Keep to your own tables (prefix their names); do not BEGIN or COMMIT.
 */
export interface SqliteProjectionTransaction extends ProjectionTransaction {
  readonly kind: 'sqlite';
  readonly db: Database.Database;
}

const READ_BATCH = 20_000;

/**
 * The SQLite projection store: owns the projection tables in one SQLite database (the log's own
 * database, a `file:` log's sidecar, or an in-memory database for `memory:`) and keeps them in step with
 * the log: application inside the append's transaction, catch-up from checkpoints, full-text batches,
 * blue-green rebuild. The async methods are the `ProjectionStore` contract; each runs its synchronous
 * better-sqlite3 work in one go. The synchronous members are this backend family's own (the log's
 * append hook, tests and tools).
 */
export class SqliteProjectionStore implements ProjectionStore<SqliteProjectionTransaction> {
  readonly kind = 'sqlite';
  currentState!: CurrentStateProjection;
  fulltext!: FullTextProjection;
  queries!: ProjectionQueries;
  /** Maintained object and facet counts (no scans). */
  countQueries!: CountQueries;
  private serial: Promise<unknown> = Promise.resolve();
  private fullTextTimer: NodeJS.Timeout | undefined;
  private subscriberTable: SubscriberCheckpoints | undefined;
  private promotion: Promise<void> = Promise.resolve();
  private promoting = false;
  private closing = false;

  constructor(readonly db: Database.Database, readonly schema: StoreSchema) {
    ensureProjectionTables(db, LIVE);
    this.attach();
    this.syncConfig();
  }

  /**
   * Apply the log's next events inside the caller's transaction (the log's append transaction on
   * `sqlite:`, the sidecar's index transaction on `file:`); a throw rolls that transaction back.
   */
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
        from = await this.applyNew(appended);
      }
      for (;;) {
        const events = await log.readAll(from, { limit: READ_BATCH });
        if (events.length === 0) break;
        from = await this.applyNew(events);
        if (events.length < READ_BATCH) break;
      }
      this.scheduleFullText();
    });
  }

  /**
   * Apply the events past the checkpoint as read inside the transaction: another process sharing the
   * database (a file-backend sidecar) may have applied some of them meanwhile. Returns the next position.
   */
  private applyNew(events: readonly StoredEvent[]): Promise<number> {
    return writeTransaction(this.db, () => {
      const checkpoint = this.currentState.position();
      const fresh = events[0].position > checkpoint ? events : events.filter((e) => e.position > checkpoint);
      if (fresh.length > 0) this.currentState.apply(fresh);
      return Math.max(checkpoint, events[events.length - 1].position) + 1;
    });
  }

  /**
   * After an object of `type` was erased (its rows are already deleted by the projection of `erased`):
   * merge the type's full-text segments, so its terms leave the index. Run with `secure_delete` on.
   */
  purgeErased(type: string): Promise<void> {
    return this.exclusive(async () => writeTransaction(this.db, () => this.fulltext.optimize(type)));
  }

  /** Make the full-text index reflect every committed object (before a text query). */
  async ensureFullText(): Promise<void> {
    if (this.fulltext.position() < this.currentState.position()) await this.fulltext.catchUp();
  }

  /**
   * Blue-green rebuild: derive new projection tables beside the live ones from the whole log, check
   * their parity hash against an independent fold, catch them up, and swap them in in one transaction.
   * Reads are served from the live tables until the swap.
   */
  rebuild(log: EventLog, onProgress?: ProgressFn): Promise<RebuildResult> {
    return this.exclusive(async () => {
      const result = await blueGreenRebuild(this.db, this.schema, log, onProgress);
      this.attach();
      this.fulltext.optimize();
      return result!;
    });
  }

  /**
   * At open: rebuild when the projections cannot be caught up from their checkpoint (see
   * `needsRebuild`), asking again once no other process is rebuilding (replicas that open one store
   * together rebuild it once); then catch up.
   */
  async openLevel(log: EventLog): Promise<void> {
    if (this.needsRebuild(await log.head())) {
      await this.exclusive(async () => {
        const result = await blueGreenRebuild(this.db, this.schema, log, undefined, async () => this.needsRebuild(await log.head()));
        this.attach();
        if (result) this.fulltext.optimize();
      });
    }
    await this.catchUp(log);
    void this.promoteFrequentTerms();
  }

  /**
   * In the background: give champion lists to the terms that became frequent since the last check, in
   * types that doubled since (see champion-promotion.ts), so a store that is never rebuilt answers
   * common words fast too. Resolves when this round is done; a failure only postpones it.
   */
  promoteFrequentTerms(): Promise<void> {
    if (this.promoting || this.closing || !this.db.open) return this.promotion;
    const champions = this.fulltext.champions;
    const due = Object.entries(this.countQueries.types()).filter(([type, n]) => this.fulltext.has(type) && promotionDue(champions, type, n));
    if (due.length === 0) return this.promotion;
    this.promoting = true;
    const keepGoing = () => !this.closing && this.db.open;
    this.promotion = (async () => {
      for (const [type, n] of due) if (keepGoing()) await promoteFrequentTerms(this.db, this.schema, LIVE, champions, type, n, keepGoing);
    })()
      .catch(() => undefined)
      .finally(() => {
        this.promoting = false;
      });
    return this.promotion;
  }

  /**
   * True when the projections are ahead of a log of `head` events (another log's), or hold nothing to
   * continue from while the log or the tables are not empty.
   */
  needsRebuild(head: number): boolean {
    const checkpoint = this.currentState.position();
    return checkpoint > head || (checkpoint === 0 && (head > 0 || this.queries.hasObjects()));
  }

  /** Forget the checkpoints (the log under them was re-indexed): the next `openLevel` rebuilds. */
  invalidate(): Promise<void> {
    return this.exclusive(() => writeTransaction(this.db, () => this.db.prepare('UPDATE projection_checkpoints SET position = 0').run()).then(() => undefined));
  }

  /**
   * Run `fn` while no other projection job (catch-up, rebuild) runs in this process: the lane every
   * other writer of the projection database (named subscribers, user projections) goes through.
   */
  runExclusive<T>(fn: () => T | Promise<T>): Promise<T> {
    return this.exclusive(async () => fn());
  }

  async position(): Promise<number> {
    return this.currentState.position();
  }

  async checkpoints(): Promise<Record<string, number>> {
    return { [CURRENT_STATE]: this.currentState.position(), [FULL_TEXT]: this.fulltext.position() };
  }

  async object(type: string, sid: string): Promise<ObjectData | undefined> {
    return this.queries.object(type, sid);
  }

  async get(type: string, sid: string): Promise<ObjectRecord | undefined> {
    return this.queries.get(type, sid);
  }

  async exists(type: string, sid: string): Promise<boolean> {
    return this.queries.exists(type, sid);
  }

  async find(type: string, query: FindQuery, full: boolean, budget?: ReadBudget): Promise<Page<string | ObjectRecord>> {
    if (query.text !== undefined) await this.ensureFullText();
    return pagedFind(this.queries, type, query, full, budget);
  }

  async findAt(log: EventLog, at: FoldLimit, type: string, query: FindQuery, full: boolean): Promise<Page<string | ObjectRecord>> {
    return findAtSnapshot(log, this.schema, at, type, query, full);
  }

  async counts(): Promise<Record<string, number>> {
    return this.countQueries.types();
  }

  async countOf(type: string, field: string, value: string | number): Promise<number> {
    return this.countQueries.value(type, field, value);
  }

  async facet(type: string, field: string, top: number, cap: number): Promise<Facet> {
    return this.countQueries.facet(type, field, top, cap);
  }

  async facetsOf(type: string, sids: readonly string[]): Promise<Map<string, FacetValue[]>> {
    return this.countQueries.facetsOf(type, sids);
  }

  checkParity(folded: FoldedLog): Promise<IntegrityProblem[]> {
    return this.exclusive(async () => checkParity(this, folded));
  }

  async subscriberCheckpoint(name: string): Promise<SubscriberCheckpoint | undefined> {
    return listCheckpoints(this.db).find((c) => c.name === name);
  }

  async subscriberCheckpoints(): Promise<SubscriberCheckpoint[]> {
    return listCheckpoints(this.db);
  }

  saveSubscriberCheckpoint(name: string, kind: SubscriberKind, position: number): Promise<void> {
    return this.exclusive(() => writeTransaction(this.db, () => this.subscriberTable_().save(name, kind, position)));
  }

  project(name: string, events: readonly StoredEvent[], through: number, handler: UserProjectionHandler<SqliteProjectionTransaction>): Promise<number> {
    const tx: SqliteProjectionTransaction = { kind: 'sqlite', name, db: this.db };
    return this.exclusive(() =>
      writeTransaction(this.db, () => {
        const table = this.subscriberTable_();
        const saved = table.get(name)?.position ?? -1;
        const fresh = events.filter((e) => e.position > saved);
        if (fresh.length > 0) {
          const result = handler(fresh, tx);
          if (result !== null && typeof result === 'object' && typeof (result as { then?: unknown }).then === 'function') {
            throw new InvalidInputError(`projection ${name}: the handler must be synchronous on SQLite (it returned a promise); nothing was committed`);
          }
        }
        if (through > saved) table.save(name, 'projection', through);
        return Math.max(saved, through);
      }),
    );
  }

  read<T>(fn: (tx: SqliteProjectionTransaction) => T): Promise<T> {
    return this.exclusive(async () => fn({ kind: 'sqlite', name: '', db: this.db }));
  }

  /** Stop background work (the backend closes the database). */
  async close(): Promise<void> {
    this.closing = true;
    if (this.fullTextTimer) clearTimeout(this.fullTextTimer);
    this.fullTextTimer = undefined;
    await this.promotion;
  }

  private subscriberTable_(): SubscriberCheckpoints {
    return (this.subscriberTable ??= new SubscriberCheckpoints(this.db));
  }

  /** (Re)create the projection writers and queries over the live tables. */
  private attach(): void {
    this.fulltext = new FullTextProjection(this.db, this.schema, LIVE);
    this.currentState = new CurrentStateProjection(this.db, this.schema, this.fulltext, LIVE);
    this.queries = new ProjectionQueries(this.db, this.schema);
    this.countQueries = new CountQueries(this.db);
  }

  private scheduleFullText(): void {
    if (this.fullTextTimer) return;
    this.fullTextTimer = setTimeout(() => {
      this.fullTextTimer = undefined;
      if (!this.db.open) return;
      // A failure only postpones indexing: the next text query catches up.
      this.ensureFullText()
        .then(() => this.promoteFrequentTerms())
        .catch(() => undefined);
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
    if (stored.get(CURRENT_STATE) === indexConfig && stored.get(FULL_TEXT) === textConfig) return;
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
