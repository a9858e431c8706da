import { defer, type Subscription } from 'rxjs';
import { InvalidInputError } from '../../log/errors';
import type { StoredEvent } from '../../log/event';
import type { EventLog } from '../../log/event-log';
import type { ProjectionStore, ProjectionTransaction, SubscriberCheckpoint, SubscriberKind } from '../../projections/projection-store';
import type { SqliteProjectionTransaction } from '../../projections/sqlite/sqlite-projection-store';
import { feedSettings, logFeed, type ChangesOptions, type FeedSettings } from './change-feed';
import type { FeedBatch } from './pull-loop';

/** Options of `store.subscribe()` and `store.project()`. */
export interface SubscribeOptions extends ChangesOptions {
  /** First position for a subscriber that has no checkpoint yet (default 1); ignored once it has one. */
  from?: number;
  /** Called once if the subscriber fails (its handler or the log threw); `done` rejects as well. */
  onError?: (error: unknown) => void;
}

/** Handler of an at-least-once subscriber: a batch of events, in position order. */
export type SubscriberHandler = (events: StoredEvent[]) => unknown;

/**
 * What a user projection's handler gets besides its events on sqlite, file and memory stores: the
 * projection database (better-sqlite3) inside the transaction that will also store the projection's
 * checkpoint. Keep to your own tables (prefix their names); do not BEGIN or COMMIT. Other projection
 * stores hand over their own `ProjectionTransaction` (PostgreSQL: `{ kind: 'postgres', client }`).
 */
export type ProjectionContext = SqliteProjectionTransaction;

/**
 * Handler of an exactly-once user projection: its writes and the checkpoint commit together, or (when
 * it throws) neither does. On SQLite it must be synchronous.
 */
export type ProjectionHandler<Tx extends ProjectionTransaction = ProjectionContext> = (events: StoredEvent[], context: Tx) => unknown;

/** How far a named subscriber is behind the log. */
export interface SubscriberLag {
  name: string;
  kind: SubscriberKind;
  /** Last position handled and checkpointed. */
  position: number;
  /** The log's head position. */
  head: number;
  /** `head - position`: log positions not yet handled (other types included when filtered). */
  events: number;
  /** How long the oldest unhandled event has waited: now minus its commit time; 0 when caught up. */
  ms: number;
}

export type SubscriberState = 'running' | 'stopped' | 'failed';

/** A running named subscriber or user projection. */
export interface NamedSubscription {
  readonly name: string;
  readonly kind: SubscriberKind;
  readonly state: SubscriberState;
  /** The error that stopped it, when `state` is 'failed'. */
  readonly error: unknown;
  /** Last position handled and checkpointed. */
  position(): number;
  lag(): Promise<SubscriberLag>;
  /** Stop after the batch in hand is handled and checkpointed. Idempotent. */
  stop(): Promise<void>;
  /** Resolves when stopped; rejects with the error when it fails. */
  readonly done: Promise<void>;
}

/** What a named subscriber needs from its store. */
export interface SubscriberHost {
  log: EventLog;
  /** Where checkpoints and user projections' transactions live. */
  projections: ProjectionStore;
  /** Called when the subscriber stops or fails, to free its name. */
  release(name: string): void;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;

/** Check a subscriber name at the public edge. */
export function assertSubscriberName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new InvalidInputError(`invalid subscriber name ${JSON.stringify(name)}: must match ${NAME.source}`, { field: 'name' });
  }
}

/**
 * One named subscriber: a change feed starting after its durable checkpoint. `subscriber` kind
 * checkpoints after its (possibly async) handler resolves, so a crash in between redelivers the batch
 * (at least once). `projection` kind runs its synchronous handler and the checkpoint move in one
 * transaction of the projection database, skipping events the checkpoint already covers, so its
 * effect is exactly once, even with several processes running the same projection.
 */
export class NamedSubscriber implements NamedSubscription {
  state: SubscriberState = 'running';
  error: unknown = undefined;
  readonly done: Promise<void>;
  private settle!: { resolve: () => void; reject: (error: unknown) => void };
  private checkpoint: number;
  private subscription: Subscription | undefined;
  private inFlight: Promise<unknown> = Promise.resolve();
  private readonly settings: FeedSettings;

  constructor(
    readonly name: string,
    readonly kind: SubscriberKind,
    private readonly host: SubscriberHost,
    private readonly handler: SubscriberHandler | ProjectionHandler,
    private readonly options: SubscribeOptions,
    saved: SubscriberCheckpoint | undefined,
  ) {
    assertSubscriberName(name);
    if (typeof handler !== 'function') throw new InvalidInputError(`${kind} ${name} needs a handler function`);
    const { onError, ...feedOptions } = options;
    if (onError !== undefined && typeof onError !== 'function') throw new InvalidInputError('onError must be a function');
    const settings = feedSettings(feedOptions);
    if (saved && saved.kind !== kind) {
      throw new InvalidInputError(`${JSON.stringify(name)} is the name of a ${saved.kind}, not a ${kind}`, { field: 'name' });
    }
    this.checkpoint = saved ? saved.position : settings.from - 1;
    this.settings = { ...settings, from: this.checkpoint + 1 };
    this.done = new Promise<void>((resolve, reject) => (this.settle = { resolve, reject }));
    this.done.catch(() => undefined);
  }

  /** Begin reading after the checkpoint. */
  start(): this {
    this.subscription = logFeed(this.host.log, this.settings, (batch) =>
      defer(() => (this.inFlight = this.kind === 'projection' ? this.project(batch) : this.handle(batch))),
    ).subscribe({ error: (error) => this.fail(error) });
    return this;
  }

  position(): number {
    return this.checkpoint;
  }

  async lag(): Promise<SubscriberLag> {
    const log = this.host.log;
    const head = await log.head();
    const position = this.checkpoint;
    const events = Math.max(0, head - position);
    let ms = 0;
    if (events > 0) {
      const [oldest] = await log.readAll(position + 1, { limit: 1, ...(this.settings.types ? { types: this.settings.types } : {}) });
      if (oldest) ms = Math.max(0, Date.now() - Date.parse(oldest.ts));
    }
    return { name: this.name, kind: this.kind, position, head, events, ms };
  }

  async stop(): Promise<void> {
    if (this.state !== 'running') return this.done.catch(() => undefined);
    this.state = 'stopped';
    this.subscription?.unsubscribe();
    await this.inFlight.catch(() => undefined);
    this.host.release(this.name);
    this.settle.resolve();
  }

  private async handle(batch: FeedBatch): Promise<void> {
    if (batch.events.length > 0) await (this.handler as SubscriberHandler)(batch.events);
    const through = batch.next - 1;
    if (through > this.checkpoint) {
      await this.host.projections.saveSubscriberCheckpoint(this.name, 'subscriber', through);
      this.checkpoint = through;
    }
  }

  private async project(batch: FeedBatch): Promise<void> {
    const handler = this.handler as ProjectionHandler<ProjectionTransaction>;
    this.checkpoint = await this.host.projections.project(this.name, batch.events, batch.next - 1, handler);
  }

  private fail(error: unknown): void {
    if (this.state !== 'running') return;
    this.state = 'failed';
    this.error = error;
    this.subscription?.unsubscribe();
    this.host.release(this.name);
    this.options.onError?.(error);
    this.settle.reject(error);
  }
}
