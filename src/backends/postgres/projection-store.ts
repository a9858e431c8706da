import type { Pool, PoolClient } from 'pg';
import type { ObjectData, StoredEvent } from '../../log/event';
import type { EventLog, IntegrityProblem } from '../../log/event-log';
import { fingerprint, indexedFields, type StoreSchema } from '../../projections/config';
import type { FoldLimit, FoldedLog, ProgressFn } from '../../projections/fold';
import type {
  Facet,
  FacetValue,
  FindQuery,
  ObjectRecord,
  Page,
  ProjectionStore,
  ReadBudget,
  RebuildResult,
  SubscriberCheckpoint,
  SubscriberKind,
  UserProjectionHandler,
} from '../../projections/projection-store';
import { findAtSnapshot } from '../../projections/sqlite/snapshot';
import { advanceCheckpoint, applyEvents, readCheckpoint, saveCheckpoint } from './projection-apply';
import { PgCountQueries } from './projection-counts';
import { pagedFind } from './projection-paged-find';
import { PgProjectionQueries } from './projection-queries';
import { blueGreenRebuild, checkParity, transaction } from './projection-rebuild';
import { CURRENT_STATE, FULL_TEXT, ensureProjectionSchema, projectionTables, type ProjectionTables, type Queryable } from './projection-schema';
import { PgSubscriberCheckpoints, type PostgresProjectionTransaction } from './projection-subscribers';
import { checkout } from './sql';
import { ChampionBoundsCache, DEFAULT_CHAMPION_SETTINGS, readVersion, type ChampionSettings, type TrackedBounds } from './champion-lists';
import { promoteTerms, type PromotionResult } from './champion-promotion';

export type { PostgresProjectionTransaction } from './projection-subscribers';

/** Events read from the log per catch-up transaction. */
const READ_BATCH = 5_000;

/**
 * The PostgreSQL projection store: current state, field index, full text (`tsvector` + GIN), maintained
 * counts, projection and subscriber checkpoints in one PostgreSQL schema, shared by every host of the
 * store. Events arrive inside the log's append transaction (`applyInAppend`, with the transaction's
 * client) or after it (`catchUp`); either way rows and checkpoint commit together, and the full text
 * is written with the row (it never lags). Safe across processes and hosts: every writer locks the
 * current-state checkpoint row first, then applies only the events past it.
 */
export class PostgresProjectionStore implements ProjectionStore<PostgresProjectionTransaction> {
  readonly kind = 'postgres';
  private readonly live: ProjectionTables;
  private readonly queries: PgProjectionQueries;
  private readonly countQueries: PgCountQueries;
  private readonly subscribers: PgSubscriberCheckpoints;
  /** Events applied by this process since it last looked for terms to promote. */
  private appliedSinceCheck = 0;
  /** This process's copy of the tracked terms' frontiers, for its writers. */
  private readonly bounds = new ChampionBoundsCache();
  /** The promotion pass running in the background, if any. */
  private promoting: Promise<unknown> | undefined;
  private closed = false;

  /** Use `open` (it creates the tables); the pool stays the caller's. */
  private constructor(readonly pool: Pool, readonly schemaName: string, readonly schema: StoreSchema, readonly champions: ChampionSettings) {
    this.live = projectionTables(schemaName);
    this.queries = new PgProjectionQueries(pool, this.live, schema);
    this.countQueries = new PgCountQueries(pool, this.live);
    this.subscribers = new PgSubscriberCheckpoints(pool, this.live);
  }

  /**
   * Open the store in PostgreSQL schema `schemaName` (created with its tables when absent, under an
   * advisory lock, so hosts opening together are safe). When the declared index or text fields changed
   * since the tables were built, the checkpoints are reset so the next `openLevel` rebuilds.
   */
  static async open(pool: Pool, schemaName: string, schema: StoreSchema, champions: ChampionSettings = DEFAULT_CHAMPION_SETTINGS): Promise<PostgresProjectionStore> {
    const store = new PostgresProjectionStore(pool, schemaName, schema, champions);
    const client = await checkout(pool);
    try {
      await ensureProjectionSchema(client, schemaName);
      await transaction(client, () => store.syncConfig(client));
    } finally {
      client.release();
    }
    return store;
  }

  /**
   * Apply appended events inside the caller's transaction (the PostgreSQL log's append transaction:
   * `client` is its connection), so the projections commit, or roll back, with the append. Locks the
   * checkpoint row, skips events it already has, and applies nothing when the events do not follow the
   * checkpoint (the store is behind or being rebuilt: a later `catchUp` reads the gap from the log) —
   * unless `log` is given: then the gap is read from it (every position below an append's is committed,
   * since positions are taken in commit order) and applied first, in the same transaction.
   * Returns whether the events were applied.
   */
  async applyInAppend(client: Queryable, events: readonly StoredEvent[], log?: EventLog): Promise<boolean> {
    if (events.length === 0) return true;
    // The usual case in one statement: the events follow the checkpoint, which moves (and stays locked).
    const version = await advanceCheckpoint(client, this.live, events[0].position - 1, events[events.length - 1].position);
    if (version !== undefined) {
      await applyEvents(client, this.live, this.schema, events, await this.bounds.get(client, this.live, version));
      this.noteApplied(events.length);
      return true;
    }
    const checkpoint = await readCheckpoint(client, this.live, true);
    const fresh = events.filter((e) => e.position > checkpoint);
    if (fresh.length === 0) return true;
    if (fresh[0].position !== checkpoint + 1) {
      if (!log) return false;
      const gap = await log.readAll(checkpoint + 1, { limit: fresh[0].position - checkpoint - 1 });
      if (gap.length !== fresh[0].position - checkpoint - 1) return false;
      fresh.unshift(...gap);
    }
    await applyEvents(client, this.live, this.schema, fresh, await this.currentBounds(client));
    await saveCheckpoint(client, this.live, fresh[fresh.length - 1].position);
    this.noteApplied(fresh.length);
    return true;
  }

  /** The live tracked terms and frontiers, for a writer that holds the checkpoint row lock. */
  private async currentBounds(client: Queryable): Promise<TrackedBounds> {
    return this.bounds.get(client, this.live, await readVersion(client, this.live));
  }

  /**
   * Count applied events; after `champions.checkEvery` of them, start a promotion pass in the
   * background (one at a time per process; it waits for the applying transaction to commit).
   */
  private noteApplied(events: number): void {
    this.appliedSinceCheck += events;
    if (this.appliedSinceCheck < this.champions.checkEvery || this.promoting || this.closed) return;
    this.appliedSinceCheck = 0;
    this.promoting = this.promote()
      .catch(() => undefined) // a failed pass changes nothing the next one cannot redo
      .finally(() => (this.promoting = undefined));
  }

  /**
   * One promotion pass over the types with full text (champion-promotion.ts): terms that became
   * frequent get champion lists, thinned lists are rebuilt. Safe beside writers on every host; returns
   * what it did per type (nothing when another host's pass holds the lock).
   */
  async promote(): Promise<Record<string, PromotionResult>> {
    const done: Record<string, PromotionResult> = {};
    for (const type of Object.keys(this.schema.types)) {
      if (this.closed) break;
      if (!this.schema.types[type].text) continue;
      done[type] = await promoteTerms(this.pool, this.schemaName, type, this.champions, () => !this.closed);
    }
    this.queries.tracked.forget();
    return done;
  }

  /** Read the tracked terms again at the next ranked page (this process otherwise sees another host's promotion within 5 s). */
  forgetTrackedTerms(): void {
    this.queries.tracked.forget();
  }

  /** How many ranked pages the champion lists and GIN answered in this process (tests, benchmarks). */
  rankedPaths(): { champions: number; gin: number } {
    return { ...this.queries.paths };
  }

  async catchUp(log: EventLog, appended?: readonly StoredEvent[]): Promise<void> {
    const client = await checkout(this.pool);
    try {
      let from = (await readCheckpoint(client, this.live)) + 1;
      if (appended && appended.length > 0 && appended[0].position <= from) from = await this.applyNew(client, appended, false);
      for (;;) {
        const events = await log.readAll(from, { limit: READ_BATCH });
        if (events.length === 0) break;
        from = await this.applyNew(client, events, true);
        if (events.length < READ_BATCH) break;
      }
    } finally {
      client.release();
    }
  }

  /**
   * Apply the events past the checkpoint as locked in the transaction (another host may have applied
   * some); returns the next position to read. Events the caller appended must follow the checkpoint;
   * a batch read from the log (`fromLog`) is everything the log holds from where it was read, gaps included.
   */
  private applyNew(client: PoolClient, events: readonly StoredEvent[], fromLog: boolean): Promise<number> {
    return transaction(client, async () => {
      const checkpoint = await readCheckpoint(client, this.live, true);
      const fresh = events.filter((e) => e.position > checkpoint);
      if (fresh.length > 0 && (fromLog || fresh[0].position === checkpoint + 1)) {
        await applyEvents(client, this.live, this.schema, fresh, await this.currentBounds(client));
        await saveCheckpoint(client, this.live, fresh[fresh.length - 1].position);
        this.noteApplied(fresh.length);
        return fresh[fresh.length - 1].position + 1;
      }
      return checkpoint + 1;
    });
  }

  async openLevel(log: EventLog): Promise<void> {
    if (await this.needsRebuild(await log.head())) {
      await blueGreenRebuild(this.pool, this.schemaName, this.schema, log, undefined, async () => this.needsRebuild(await log.head()), this.champions);
      this.queries.tracked.forget();
    }
    await this.catchUp(log);
  }

  /** True when the tables are ahead of a log of `head` events (another log's), or hold nothing to continue from while the log or the tables are not empty. */
  private async needsRebuild(head: number): Promise<boolean> {
    const checkpoint = await readCheckpoint(this.pool, this.live);
    if (checkpoint > head) return true;
    if (checkpoint > 0) return false;
    return head > 0 || (await this.pool.query(`SELECT 1 FROM ${this.live.objects} LIMIT 1`)).rows.length > 0;
  }

  async invalidate(): Promise<void> {
    await this.pool.query(`UPDATE ${this.live.checkpoints} SET position = 0 WHERE name IN ('${CURRENT_STATE}', '${FULL_TEXT}')`);
  }

  async position(): Promise<number> {
    return readCheckpoint(this.pool, this.live);
  }

  async checkpoints(): Promise<Record<string, number>> {
    const result = await this.pool.query(`SELECT name, position FROM ${this.live.checkpoints} WHERE name IN ('${CURRENT_STATE}', '${FULL_TEXT}')`);
    return Object.fromEntries(result.rows.map((r) => [r.name, Number(r.position)]));
  }

  object(type: string, sid: string): Promise<ObjectData | undefined> {
    return this.queries.object(type, sid);
  }

  get(type: string, sid: string): Promise<ObjectRecord | undefined> {
    return this.queries.get(type, sid);
  }

  exists(type: string, sid: string): Promise<boolean> {
    return this.queries.exists(type, sid);
  }

  find(type: string, query: FindQuery, full: boolean, budget?: ReadBudget): Promise<Page<string | ObjectRecord>> {
    return pagedFind(this.queries, type, query, full, budget);
  }

  /** Folds the log up to `at` into an in-memory SQLite snapshot (the SQLite store's code) and answers there. */
  async findAt(log: EventLog, at: FoldLimit, type: string, query: FindQuery, full: boolean): Promise<Page<string | ObjectRecord>> {
    return findAtSnapshot(log, this.schema, at, type, query, full);
  }

  counts(): Promise<Record<string, number>> {
    return this.countQueries.types();
  }

  countOf(type: string, field: string, value: string | number): Promise<number> {
    return this.countQueries.value(type, field, value);
  }

  facet(type: string, field: string, top: number, cap: number): Promise<Facet> {
    return this.countQueries.facet(type, field, top, cap);
  }

  facetsOf(type: string, sids: readonly string[]): Promise<Map<string, FacetValue[]>> {
    return this.countQueries.facetsOf(type, sids);
  }

  async rebuild(log: EventLog, onProgress?: ProgressFn): Promise<RebuildResult> {
    const result = await blueGreenRebuild(this.pool, this.schemaName, this.schema, log, onProgress, undefined, this.champions);
    this.queries.tracked.forget();
    await this.saveConfig();
    return result!;
  }

  checkParity(folded: FoldedLog): Promise<IntegrityProblem[]> {
    return checkParity(this.pool, this.live, this.countQueries, folded);
  }

  subscriberCheckpoint(name: string): Promise<SubscriberCheckpoint | undefined> {
    return this.subscribers.get(name);
  }

  saveSubscriberCheckpoint(name: string, kind: SubscriberKind, position: number): Promise<void> {
    return this.subscribers.save(name, kind, position);
  }

  subscriberCheckpoints(): Promise<SubscriberCheckpoint[]> {
    return this.subscribers.list();
  }

  project(name: string, events: readonly StoredEvent[], through: number, handler: UserProjectionHandler<PostgresProjectionTransaction>): Promise<number> {
    return this.subscribers.project(name, events, through, handler);
  }

  read<T>(fn: (tx: PostgresProjectionTransaction) => T): Promise<T> {
    return this.subscribers.read(fn);
  }

  /** Waits for a background promotion pass to stop; the pool belongs to the backend, which ends it. */
  async close(): Promise<void> {
    this.closed = true;
    await this.promoting;
  }

  /** What the tables were built with: the indexed and the full-text fields of each type. */
  private configFingerprint(): string {
    const types = Object.keys(this.schema.types).sort();
    return fingerprint(Object.fromEntries(types.map((t) => [t, { index: indexedFields(this.schema, t), text: this.schema.types[t].text ?? null }])));
  }

  /** Inside the caller's transaction: when the declared fields changed, reset the checkpoints so `openLevel` rebuilds. */
  private async syncConfig(client: PoolClient): Promise<void> {
    const config = this.configFingerprint();
    const stored = await client.query(`SELECT config FROM ${this.live.checkpoints} WHERE name = '${CURRENT_STATE}' FOR UPDATE`);
    if (stored.rows[0]?.config === config) return;
    if (stored.rows[0]?.config != null) await client.query(`UPDATE ${this.live.checkpoints} SET position = 0 WHERE name IN ('${CURRENT_STATE}', '${FULL_TEXT}')`);
    await client.query(`UPDATE ${this.live.checkpoints} SET config = $1 WHERE name = '${CURRENT_STATE}'`, [config]);
  }

  private async saveConfig(): Promise<void> {
    await this.pool.query(`UPDATE ${this.live.checkpoints} SET config = $1 WHERE name = '${CURRENT_STATE}'`, [this.configFingerprint()]);
  }
}
