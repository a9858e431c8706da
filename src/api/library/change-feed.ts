import { EMPTY, Observable, defer, from, merge, of, timer } from 'rxjs';
import { InvalidInputError } from '../../log/errors';
import type { StoredEvent } from '../../log/event';
import type { EventLog } from '../../log/event-log';
import { pullLoop, type FeedBatch } from './pull-loop';
import { assertTypeName } from './validate';

/** Options of `store.changes()`, `store.changeBatches()` and `store.processChanges()`. */
export interface ChangesOptions {
  /** First position to deliver (default 1: the whole log; 0 means 1). */
  from?: number;
  /** Only events of these types. */
  types?: readonly string[];
  /**
   * How often other writers' commits are looked for, in ms (default 20). Backends that can watch
   * (sqlite, file, memory) use it as their poll interval and signal their own appends at once; for a
   * backend that cannot, the feed polls `readAll` this often.
   */
  pollMs?: number;
  /** Most events read and delivered per batch (default 1000): the bound on what the feed holds. */
  batchSize?: number;
}

/** What `processChanges` emits once the handler has finished with a batch. */
export interface ProcessedBatch {
  /** Events handed to the handler. */
  count: number;
  /** Position of the last event handed over. */
  last: number;
  /** Position the next batch starts from. */
  next: number;
}

/** Normalised feed options. */
export interface FeedSettings {
  from: number;
  types: readonly string[] | undefined;
  pollMs: number;
  batchSize: number;
}

const KNOWN = ['from', 'types', 'pollMs', 'batchSize'];
/** With a watching backend, a slow re-read still runs this often, in case a signal was lost. */
const SAFETY_MS = 1000;

/** Validate feed options at the public edge, naming the offending option. */
export function feedSettings(options: ChangesOptions = {}, extraKeys: readonly string[] = []): FeedSettings {
  if (options === null || typeof options !== 'object') throw new InvalidInputError('change feed options must be an object');
  for (const key of Object.keys(options)) {
    if (!KNOWN.includes(key) && !extraKeys.includes(key)) {
      throw new InvalidInputError(`unknown change feed option ${JSON.stringify(key)} (expected ${[...KNOWN, ...extraKeys].join(', ')})`);
    }
  }
  const from = integer(options.from, 'from', 0, Number.MAX_SAFE_INTEGER) ?? 1;
  const pollMs = integer(options.pollMs, 'pollMs', 1, 60_000) ?? 20;
  const batchSize = integer(options.batchSize, 'batchSize', 1, 100_000) ?? 1000;
  let types: readonly string[] | undefined;
  if (options.types !== undefined) {
    if (!Array.isArray(options.types)) throw new InvalidInputError('types must be an array of type names', { field: 'types' });
    for (const type of options.types) assertTypeName(type);
    types = [...new Set(options.types as string[])];
  }
  return { from: Math.max(1, from), types, pollMs, batchSize };
}

function integer(value: unknown, name: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidInputError(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`, { field: name });
  }
  return value;
}

/**
 * Read one batch at `next`. With a type filter the head is read first, so a read that returns fewer
 * than `batchSize` events moves the cursor past every position up to that head (positions below a
 * committed head are all committed), instead of re-scanning other types' events on every poll.
 */
export async function readBatch(log: EventLog, next: number, settings: FeedSettings): Promise<FeedBatch> {
  const { types, batchSize } = settings;
  if (!types) {
    const events = await log.readAll(next, { limit: batchSize });
    const end = events.length > 0 ? events[events.length - 1].position + 1 : next;
    return { events, next: end, more: events.length === batchSize };
  }
  const head = await log.head();
  if (head < next || types.length === 0) return { events: [], next: Math.max(next, head + 1), more: false };
  const events = await log.readAll(next, { limit: batchSize, types });
  const last = events.length > 0 ? events[events.length - 1].position : 0;
  if (events.length === batchSize) return { events, next: last + 1, more: true };
  return { events, next: Math.max(head, last) + 1, more: false };
}

/**
 * When to read: the backend's `watch` signal (plus a slow safety re-read) if it has one, else a plain
 * `pollMs` timer. The first emission comes once watching is in place, so no commit after the first
 * read can go unsignalled. The timers are ordinary ones: a live feed keeps the process running.
 */
export function wakeSignal(log: EventLog, pollMs: number): Observable<unknown> {
  if (!log.watch) return timer(0, pollMs);
  const watched = new Observable<void>((subscriber) => {
    let stopped = false;
    let close: (() => Promise<void>) | undefined;
    log.watch!(() => subscriber.next(), { intervalMs: pollMs, onError: (error) => subscriber.error(error) }).then(
      (watcher) => {
        if (stopped) void watcher.close();
        else {
          close = () => watcher.close();
          subscriber.next();
        }
      },
      (error) => subscriber.error(error),
    );
    return () => {
      stopped = true;
      void close?.();
    };
  });
  return merge(watched, timer(SAFETY_MS, SAFETY_MS));
}

/** Emits once on the next turn of the event loop, after pending I/O and timers. */
export function nextTurn(): Observable<void> {
  return new Observable<void>((subscriber) => {
    const handle = setImmediate(() => {
      subscriber.next();
      subscriber.complete();
    });
    return () => clearImmediate(handle);
  });
}

/** The pull loop over a real log, delivering each batch through `deliver`. */
export function logFeed<R>(log: EventLog, settings: FeedSettings, deliver: (batch: FeedBatch) => Observable<R>): Observable<R> {
  return defer(() =>
    pullLoop({
      from: settings.from,
      read: (next) => readBatch(log, next, settings),
      wake: wakeSignal(log, settings.pollMs),
      deliver,
      pause: nextTurn,
    }),
  );
}

/**
 * The log as an Observable of events: history from `from`, then live events, one position cursor for
 * both (no gap, no duplicate at the seam). Events of a batch are emitted synchronously and the next
 * batch is read only after the last `next` call returns, so a synchronous subscriber never makes the
 * feed hold more than one batch. An async consumer must not chain `concatMap` on this (concatMap
 * buffers everything pushed meanwhile): use `processChanges` instead.
 */
export function changeFeed(log: EventLog, options: ChangesOptions = {}): Observable<StoredEvent> {
  return logFeed(log, feedSettings(options), (batch) => (batch.events.length > 0 ? from(batch.events) : EMPTY));
}

/** As `changeFeed`, one array per batch read (at most `batchSize` events, never empty). */
export function changeBatches(log: EventLog, options: ChangesOptions = {}): Observable<StoredEvent[]> {
  return logFeed(log, feedSettings(options), (batch) => (batch.events.length > 0 ? of(batch.events) : EMPTY));
}

/**
 * Pull-based consumption for async handlers: the handler gets each batch, and the next batch is read
 * only after the handler's promise resolves (concatMap semantics without concatMap's buffer). Emits a
 * `ProcessedBatch` after each handled batch; errors with the handler's error, which stops the feed.
 */
export function processChanges(
  log: EventLog,
  handler: (events: StoredEvent[]) => unknown,
  options: ChangesOptions = {},
): Observable<ProcessedBatch> {
  if (typeof handler !== 'function') throw new InvalidInputError('processChanges needs a handler function');
  return logFeed(log, feedSettings(options), (batch) => {
    if (batch.events.length === 0) return EMPTY;
    return defer(async () => {
      await handler(batch.events);
      return { count: batch.events.length, last: batch.events[batch.events.length - 1].position, next: batch.next };
    });
  });
}
