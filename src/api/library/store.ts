import * as fs from 'node:fs';
import { Subject, takeUntil, type Observable } from 'rxjs';
import { ClosedError, InvalidInputError } from '../../log/errors';
import type { ProposedEvent, StoredEvent } from '../../log/event';
import type { AppendOptions, Durability, EventLog, ReadAllOptions } from '../../log/event-log';
import type { OpenedBackend } from '../../projections/backend';
import type { StoreSchema } from '../../projections/config';
import type { FoldLimit } from '../../projections/fold';
import type { FindQuery, ObjectRecord, Page, ProgressFn, ProjectionStore, ProjectionTransaction, RebuildResult, SubscriberCheckpoint } from '../../projections/projection-store';
import { changeBatches, changeFeed, processChanges, type ChangesOptions, type ProcessedBatch } from './change-feed';
import {
  NamedSubscriber,
  assertSubscriberName,
  type NamedSubscription,
  type ProjectionHandler,
  type SubscribeOptions,
  type SubscriberHandler,
  type SubscriberHost,
} from './subscribers';
import { Collection } from './collection';
import { openBackend } from './backends';
import { loadSchema, type SchemaInput } from './schema';
import { DEFAULT_STORE_URL } from './store-url';
import { buildSnapshot } from '../../projections/sqlite/snapshot';
import { SqliteProjectionStore, type SqliteProjectionTransaction } from '../../projections/sqlite/sqlite-projection-store';
import { parsePointInTime, type PointInTime } from './point-in-time';
import { verifyStore, type VerifyReport } from './verify';
import { scanForErased, type ErasedScanReport } from '../../log/personal';
import { assertTypeName } from './validate';
import { WriteGate } from './write-gate';

/** Options of `openStore`. */
export interface OpenStoreOptions {
  /** The schema, parsed (`{ types: {…} }`) or as a path to a TOML file. Default: `./osis.toml` if present. */
  schema?: SchemaInput | string;
  /** `'full'` (default): an acknowledged write survives power loss. `'normal'`: survives a process crash. */
  durability?: Durability;
  /**
   * Where the data keys of personal fields live: a SQLite file (`sqlite:PATH` or a path), or for a
   * `postgres://` store a `postgres://` URL (its `?schema=`), so that log backups need not carry keys.
   * Default: inside the store (the store's database on `sqlite:`, `DIR/keys.db` on `file:`, memory on
   * `memory:`, tables of the store's schema on `postgres://`).
   */
  keys?: string;
}

/** Read access to the global log. */
export interface LogReader {
  readAll(from: number, options?: ReadAllOptions): Promise<StoredEvent[]>;
  readStream(type: string, sid: string): Promise<StoredEvent[]>;
  head(): Promise<number>;
}

/** Counts, head, checkpoints: what `osis stats` prints. */
export interface StoreStats {
  backend: string;
  head: number;
  objects: Record<string, number>;
  checkpoints: Record<string, number>;
  /** Named subscribers and user projections: kind and checkpoint position. */
  subscribers: Record<string, { kind: SubscriberCheckpoint['kind']; position: number }>;
}

/** Open a store by URL (`sqlite:PATH`, `file:DIR`, `postgres://…`, `memory:`). Opening catches up, never rebuilds (except projections it cannot continue). */
export async function openStore(url: string = DEFAULT_STORE_URL, options: OpenStoreOptions = {}): Promise<Store> {
  const known = new Set(['schema', 'durability', 'keys']);
  for (const key of Object.keys(options)) {
    if (!known.has(key)) throw new InvalidInputError(`unknown openStore option ${JSON.stringify(key)} (expected schema, durability, keys)`);
  }
  const keys = options.keys === undefined ? undefined : keysPath(options.keys);
  const durability = options.durability ?? 'full';
  if (durability !== 'full' && durability !== 'normal') {
    throw new InvalidInputError(`durability must be 'full' or 'normal', got ${JSON.stringify(durability)}`);
  }
  const schemaInput = options.schema ?? (fs.existsSync('osis.toml') ? 'osis.toml' : undefined);
  const schema = loadSchema(schemaInput);
  return new Store(await openBackend(url, { schema, durability, ...(keys !== undefined ? { keys } : {}) }), schema);
}

/** The key store a `keys` option names: a file for `sqlite:PATH` or a plain path; a `postgres://` URL as is (the backend checks it). */
function keysPath(keys: unknown): string {
  if (typeof keys !== 'string' || keys.length === 0 || keys.includes('\0')) {
    throw new InvalidInputError('keys must be a SQLite file path or sqlite:PATH (or, for a postgres:// store, a postgres:// URL)');
  }
  if (/^postgres(ql)?:\/\//i.test(keys)) return keys;
  const file = keys.startsWith('sqlite:') ? keys.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '') : keys;
  if (file === '' || file === ':memory:') throw new InvalidInputError(`keys ${JSON.stringify(keys)}: name a file (a key store in memory would lose every key)`);
  return file;
}

/** An open store: collections per type, the log, the change feed. */
export class Store {
  /** Read access to the global log. */
  readonly log: LogReader;
  private readonly gate = new WriteGate();
  private readonly collections = new Map<string, Collection>();
  private readonly closing = new Subject<void>();
  private readonly named = new Map<string, NamedSubscriber>();
  private subscriberHost: SubscriberHost | undefined;
  private closed = false;

  constructor(private readonly backend: OpenedBackend, readonly schema: StoreSchema) {
    const log = backend.log;
    this.log = {
      readAll: (from, options) => this.guard(() => log.readAll(from, options)),
      readStream: (type, sid) => this.guard(() => log.readStream(type, sid)),
      head: () => this.guard(() => log.head()),
    };
  }

  /** The backend's name: 'memory', 'sqlite', 'file'. */
  get backendName(): string {
    return this.backend.log.backend;
  }

  /** The collection of one type (validated name). */
  collection(type: string): Collection {
    assertTypeName(type);
    let collection = this.collections.get(type);
    if (!collection) {
      collection = new Collection(type, this);
      this.collections.set(type, collection);
    }
    return collection;
  }

  /**
   * The log as an RxJS Observable: history from `from`, then live events, with no gap and no duplicate
   * at the seam; other processes' writes arrive within about `pollMs`, this process's at once.
   * Backpressure: events are read in batches of `batchSize` and the next batch is read only after the
   * subscriber's `next` has returned for every event of this one, so a synchronous subscriber never
   * makes the store buffer more than one batch. For async work per event or batch use
   * `processChanges` (or `subscribe` for a durable checkpoint), not `concatMap` on this Observable:
   * concatMap would buffer without bound behind a slow handler. Completes when the store closes.
   */
  changes(options: ChangesOptions = {}): Observable<StoredEvent> {
    this.assertOpen();
    return changeFeed(this.backend.log, options).pipe(takeUntil(this.closing));
  }

  /** As `changes`, one array per batch read (1 to `batchSize` events), with the same backpressure. */
  changeBatches(options: ChangesOptions = {}): Observable<StoredEvent[]> {
    this.assertOpen();
    return changeBatches(this.backend.log, options).pipe(takeUntil(this.closing));
  }

  /**
   * Pull-based consumption for async handlers: `handler` gets each batch, and the next batch is read
   * only after its promise resolves, so a slow handler slows the reads instead of growing a buffer.
   * Emits a summary after each batch; errors (and stops) with the handler's error. Nothing is
   * checkpointed: use `subscribe` to resume after a restart.
   */
  processChanges(handler: (events: StoredEvent[]) => unknown, options: ChangesOptions = {}): Observable<ProcessedBatch> {
    this.assertOpen();
    return processChanges(this.backend.log, handler, options).pipe(takeUntil(this.closing));
  }

  /**
   * A named subscriber with a durable checkpoint (table `subscriber_checkpoints` in the projection
   * database). It starts after its checkpoint (or at `options.from` the first time) and checkpoints
   * after `handler` resolves for each batch: delivery is at least once (a crash between the handler
   * and the checkpoint redelivers that batch). One name runs once per store object; a failed handler
   * stops it (`done` rejects, `onError` is called) and the batch is delivered again on the next start.
   */
  async subscribe(name: string, handler: SubscriberHandler, options: SubscribeOptions = {}): Promise<NamedSubscription> {
    return this.startNamed(name, 'subscriber', handler, options);
  }

  /**
   * A user projection, applied exactly once: for each batch, `handler(events, tx)` runs inside a
   * transaction of the projection store's own kind that also moves the projection's checkpoint, so its
   * writes and the checkpoint commit together or not at all. On sqlite, file and memory stores `tx` is
   * `{ kind: 'sqlite', name, db }` (better-sqlite3, the store's own database on `sqlite:`) and the
   * handler must be synchronous; see `ProjectionTransaction` for other stores. Events the checkpoint
   * already covers are never handed over again, even when several processes run the same projection.
   */
  async project<Tx extends ProjectionTransaction = SqliteProjectionTransaction>(
    name: string,
    handler: ProjectionHandler<Tx>,
    options: SubscribeOptions = {},
  ): Promise<NamedSubscription> {
    return this.startNamed(name, 'projection', handler as unknown as ProjectionHandler, options);
  }

  /**
   * Run `fn` with the projection database of a sqlite, file or memory store (better-sqlite3),
   * serialised with projection writes: the way to read the tables of user projections. Keep `fn`
   * synchronous and read-only. Like every read, it first brings the projections level with the log, so
   * it sees this process's acknowledged writes. Other stores: `readProjections`.
   */
  async withProjectionDb<T>(fn: (db: SqliteProjectionTransaction['db']) => T): Promise<T> {
    return this.readProjections<T, SqliteProjectionTransaction>((tx) => {
      if (tx.kind !== 'sqlite') throw new InvalidInputError(`the ${this.backendName} store has no SQLite projection database: use readProjections`);
      return fn(tx.db);
    });
  }

  /** As `withProjectionDb`, with the projection store's own transaction (`ProjectionTransaction`). */
  async readProjections<T, Tx extends ProjectionTransaction = SqliteProjectionTransaction>(fn: (tx: Tx) => T): Promise<T> {
    this.assertOpen();
    await this.catchUp();
    return (this.backend.projections as unknown as ProjectionStore<Tx>).read(fn);
  }

  private async startNamed(
    name: string,
    kind: 'subscriber' | 'projection',
    handler: SubscriberHandler | ProjectionHandler,
    options: SubscribeOptions,
  ): Promise<NamedSubscription> {
    this.assertOpen();
    assertSubscriberName(name);
    const host = this.subscribers();
    const saved = await host.projections.subscriberCheckpoint(name);
    this.assertOpen();
    if (this.named.has(name)) throw new InvalidInputError(`${kind} ${JSON.stringify(name)} is already running in this store`, { field: 'name' });
    const subscriber = new NamedSubscriber(name, kind, host, handler, options, saved);
    this.named.set(name, subscriber);
    return subscriber.start();
  }

  private subscribers(): SubscriberHost {
    this.subscriberHost ??= {
      log: this.backend.log,
      projections: this.backend.projections,
      release: (name) => this.named.delete(name),
    };
    return this.subscriberHost;
  }

  /** Drop the projections and derive them again from the log. */
  async rebuild(onProgress?: ProgressFn): Promise<RebuildResult> {
    this.assertOpen();
    return this.gate.alone(() => this.backend.projections.rebuild(this.backend.log, onProgress));
  }

  /** Check log integrity and that the projections equal a fresh fold of the log. */
  async verify(onProgress?: ProgressFn): Promise<VerifyReport> {
    this.assertOpen();
    await this.catchUp();
    return this.gate.alone(() => verifyStore(this.backend.log, this.backend.projections, onProgress));
  }

  /** The personal fields of `type` the log seals: the schema's, and any declared before (sticky). */
  personalFields(type: string): readonly string[] {
    return this.backend.personal?.[type] ?? [];
  }

  /**
   * Scan every file of the store (log, projections and their WALs, key store, and `extra` paths such as
   * exports and copies) for the plaintext of erased objects' personal values (`osis verify --erased`).
   * Needs a store with personal data; a memory store has no files (only `extra` is scanned), and a
   * PostgreSQL store's bytes are on its server: the report's `unscanned` says so.
   */
  async verifyErased(extra: readonly string[] = []): Promise<ErasedScanReport> {
    this.assertOpen();
    const keys = this.backend.keys;
    if (!keys) throw new InvalidInputError('this store has no personal fields and no key store: nothing was erased');
    await this.catchUp();
    const report = await scanForErased(keys, [...this.backend.files(), ...extra]);
    return this.backend.unscanned ? { ...report, unscanned: this.backend.unscanned } : report;
  }

  /**
   * Build the projections as they were at a log position or a moment into a separate SQLite file
   * (for audits); the live projections are untouched.
   */
  async snapshot(at: PointInTime, file: string, onProgress?: ProgressFn): Promise<{ file: string; position: number; events: number; objects: number }> {
    this.assertOpen();
    const point = parsePointInTime(at);
    if (fs.existsSync(file)) throw new InvalidInputError(`${file} already exists; choose a new file for the snapshot`);
    const snapshot = await buildSnapshot(this.backend.log, this.schema, point, file, onProgress);
    snapshot.close();
    return { file, position: snapshot.position, events: snapshot.events, objects: snapshot.objects };
  }

  /** @internal A page of `type` as the live tables would have answered at `at` (folds the log). */
  findAt(at: FoldLimit, type: string, query: FindQuery, full: boolean): Promise<Page<string | ObjectRecord>> {
    this.assertOpen();
    return this.backend.projections.findAt(this.backend.log, at, type, query, full);
  }

  /** Counts per type, head position and checkpoints. */
  async stats(): Promise<StoreStats> {
    this.assertOpen();
    await this.catchUp();
    return {
      backend: this.backendName,
      head: await this.backend.log.head(),
      objects: await this.backend.projections.counts(),
      checkpoints: await this.backend.projections.checkpoints(),
      subscribers: Object.fromEntries(
        (await this.backend.projections.subscriberCheckpoints()).map((c) => [c.name, { kind: c.kind, position: c.position }]),
      ),
    };
  }

  /** Flush pending writes and release the store. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.closing.next();
    this.closing.complete();
    await Promise.all([...this.named.values()].map((s) => s.stop()));
    await this.gate.alone(async () => undefined);
    await this.backend.close();
  }

  /** @internal Append through the write gate and bring projections up to date before returning. */
  async append(events: ProposedEvent[], options?: AppendOptions): Promise<StoredEvent[]> {
    this.assertOpen();
    return this.gate.write(async () => {
      const stored = await this.backend.log.append(events, options);
      if (this.appliesAfterAppend) await this.backend.projections.catchUp(this.backend.log, stored);
      return stored;
    });
  }

  /** @internal Append already-positioned events (copying a log); needs the backend's `importEvents`. */
  async importEvents(events: readonly StoredEvent[]): Promise<void> {
    this.assertOpen();
    const log = this.backend.log;
    if (!log.importEvents) throw new InvalidInputError(`the ${log.backend} backend cannot import positioned events`);
    await this.gate.write(async () => {
      await log.importEvents!(events);
      if (this.appliesAfterAppend) await this.backend.projections.catchUp(log, events);
    });
  }

  /**
   * @internal Before a read of the projections: when other processes may have appended (file backend),
   * compare the log head with the projection checkpoint and catch up. Costs a stat when nothing changed.
   */
  async syncForRead(): Promise<void> {
    this.assertOpen();
    if (!this.backend.abilities.sharedLog) return;
    const [head, position] = await Promise.all([this.backend.log.head(), this.backend.projections.position()]);
    if (head > position) await this.backend.projections.catchUp(this.backend.log);
  }

  /** @internal Make projections reflect every committed event (after-append stores, or a log others append to). */
  async catchUp(): Promise<void> {
    if (this.appliesAfterAppend) await this.backend.projections.catchUp(this.backend.log);
    else if (this.backend.abilities.sharedLog) await this.syncForRead();
  }

  /** True when this api must apply appended events to the projection store itself (after the append). */
  private get appliesAfterAppend(): boolean {
    return !this.backend.abilities.appliesProjections;
  }

  /** @internal */
  get eventLog(): EventLog {
    return this.backend.log;
  }

  /** @internal The projection store (tools and reliability tests compare it with the log). */
  get projections(): ProjectionStore {
    return this.backend.projections;
  }

  /** @internal The SQLite projection store of a sqlite, file or memory store (tests and tools look inside). */
  get projectionEngine(): SqliteProjectionStore {
    if (!(this.backend.projections instanceof SqliteProjectionStore)) throw new InvalidInputError(`the ${this.backendName} store has no SQLite projection store`);
    return this.backend.projections;
  }

  /** @internal */
  assertOpen(): void {
    if (this.closed) throw new ClosedError();
  }

  private async guard<T>(fn: () => Promise<T>): Promise<T> {
    this.assertOpen();
    return fn();
  }
}
