import * as fs from 'node:fs';
import type { Observable } from 'rxjs';
import { ClosedError, InvalidInputError } from '../log/errors';
import type { ProposedEvent, StoredEvent } from '../log/event';
import type { AppendOptions, Durability, EventLog, ReadAllOptions } from '../log/event-log';
import type { StoreSchema } from '../projections/config';
import type { ProgressFn, ProjectionEngine, RebuildResult } from '../projections/engine';
import { changeFeed, type ChangesOptions } from './change-feed';
import { Collection } from './collection';
import { openBackend, type OpenedBackend } from './open-backend';
import { loadSchema, type SchemaInput } from './schema';
import { DEFAULT_STORE_URL } from './store-url';
import { buildSnapshot } from '../projections/snapshot';
import { parsePointInTime, type PointInTime } from './point-in-time';
import { verifyStore, type VerifyReport } from './verify';
import { assertTypeName } from './validate';
import { WriteGate } from './write-gate';

/** Options of `openStore`. */
export interface OpenStoreOptions {
  /** The schema, parsed (`{ types: {…} }`) or as a path to a TOML file. Default: `./osis.toml` if present. */
  schema?: SchemaInput | string;
  /** `'full'` (default): an acknowledged write survives power loss. `'normal'`: survives a process crash. */
  durability?: Durability;
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
}

/** Open a store by URL (`sqlite:PATH`, `file:DIR`, `memory:`). Opening catches up, never rebuilds. */
export async function openStore(url: string = DEFAULT_STORE_URL, options: OpenStoreOptions = {}): Promise<Store> {
  const known = new Set(['schema', 'durability']);
  for (const key of Object.keys(options)) {
    if (!known.has(key)) throw new InvalidInputError(`unknown openStore option ${JSON.stringify(key)} (expected schema, durability)`);
  }
  const durability = options.durability ?? 'full';
  if (durability !== 'full' && durability !== 'normal') {
    throw new InvalidInputError(`durability must be 'full' or 'normal', got ${JSON.stringify(durability)}`);
  }
  const schemaInput = options.schema ?? (fs.existsSync('osis.toml') ? 'osis.toml' : undefined);
  const schema = loadSchema(schemaInput);
  return new Store(await openBackend(url, { schema, durability }), schema);
}

/** An open store: collections per type, the log, the change feed. */
export class Store {
  /** Read access to the global log. */
  readonly log: LogReader;
  private readonly gate = new WriteGate();
  private readonly collections = new Map<string, Collection>();
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
      collection = new Collection(type, this, this.backend.projections);
      this.collections.set(type, collection);
    }
    return collection;
  }

  /** The log as an RxJS Observable: history from `from`, then live events. */
  changes(options: ChangesOptions = {}): Observable<StoredEvent> {
    this.assertOpen();
    return changeFeed(this.backend.log, options);
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

  /** Counts per type, head position and checkpoints. */
  async stats(): Promise<StoreStats> {
    this.assertOpen();
    await this.catchUp();
    return {
      backend: this.backendName,
      head: await this.backend.log.head(),
      objects: this.backend.projections.queries.counts(),
      checkpoints: this.backend.projections.checkpoints(),
    };
  }

  /** Flush pending writes and release the store. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.gate.alone(async () => undefined);
    await this.backend.close();
  }

  /** @internal Append through the write gate and bring projections up to date before returning. */
  async append(events: ProposedEvent[], options?: AppendOptions): Promise<StoredEvent[]> {
    this.assertOpen();
    return this.gate.write(async () => {
      const stored = await this.backend.log.append(events, options);
      if (!this.backend.inline) await this.backend.projections.catchUp(this.backend.log, stored);
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
      if (!this.backend.inline) await this.backend.projections.catchUp(log, events);
    });
  }

  /**
   * @internal Before a read of the projections: when other processes may have appended (file backend),
   * compare the log head with the projection checkpoint and catch up. Costs a stat when nothing changed.
   */
  async syncForRead(): Promise<void> {
    this.assertOpen();
    if (!this.backend.needsReadCatchUp) return;
    const head = await this.backend.log.head();
    if (head > this.backend.projections.currentState.position()) await this.backend.projections.catchUp(this.backend.log);
  }

  /** @internal Make projections reflect what other writers committed (inline backends: only when others may write). */
  async catchUp(): Promise<void> {
    if (!this.backend.inline) await this.backend.projections.catchUp(this.backend.log);
    else if (this.backend.needsReadCatchUp) await this.syncForRead();
  }

  /** @internal */
  get eventLog(): EventLog {
    return this.backend.log;
  }

  /** @internal The projection engine (tools and reliability tests compare it with the log). */
  get projectionEngine(): ProjectionEngine {
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
