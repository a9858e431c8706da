import type { EncodedEvent, ProposedEvent, StoredEvent, StreamState } from '../event';
import type { AppendOptions, EventLog, IntegrityReport, LogWatcher, ReadAllOptions, WatchOptions } from '../event-log';
import type { Shredder } from './shredder';
import { erasedValues, hashKey } from './value-hashes';

/** Run after an erasure's keys are destroyed: purge derived plaintext (projection rows, FTS segments, WALs). */
export type PurgeHook = (type: string, sid: string) => Promise<void> | void;

/**
 * The `EventLog` decorator of crypto-shredding (issue 14). Appends seal the personal fields of each
 * event with its object's data key before the backend's log sees them; every read opens them again, and
 * an object erased later comes back with its personal values left out (`shredded`). Appending an
 * `erased` event finishes the erasure in this order, each step durable before the next:
 * 1. the intent is recorded in the key store (so a crash anywhere is finished at the next open);
 * 2. the `erased` event is appended (actor and reason in its meta);
 * 3. the object's personal values are hashed (for `verify --erased`) and its keys destroyed, in one key
 *    store transaction;
 * 4. the purge hooks remove derived plaintext (the projection of `erased` already deleted the rows;
 *    they merge full-text segments and truncate WALs), and the pending erasure is forgotten.
 * `finishPending` (run at open) completes steps 3–4 of an erasure whose `erased` event is in the log,
 * and step 4 of one whose keys are destroyed, so a kill anywhere leaves the object intact or erased.
 */
export class PersonalEventLog implements EventLog {
  readonly backend: string;
  private readonly purgeHooks: PurgeHook[] = [];

  constructor(readonly inner: EventLog, readonly shredder: Shredder) {
    this.backend = inner.backend;
    // Encoded reads decode final states synchronously at the end of a fold: keys on a server could not be
    // loaded for them, so such a store folds opened events instead (`readAll`).
    if (inner.readAllEncoded && !shredder.keys.preloads) this.readAllEncoded = (from, options) => this.encoded(from, options);
    if (inner.importEvents) this.importEvents = (events) => this.importing(events);
    if (inner.watch) this.watch = (onChange, options) => inner.watch!(onChange, options);
    if (inner.verify) this.verify = (onProgress) => inner.verify!(onProgress);
  }

  readAllEncoded?(from: number, options?: ReadAllOptions): Promise<EncodedEvent[]>;
  importEvents?(events: readonly StoredEvent[]): Promise<void>;
  watch?(onChange: () => void, options?: WatchOptions): Promise<LogWatcher>;
  verify?(onProgress?: (done: number, total: number) => void): Promise<IntegrityReport>;

  /** Register a purge step, run after every erasure (and after erasures finished at open). */
  onErased(hook: PurgeHook): void {
    this.purgeHooks.push(hook);
  }

  async append(events: readonly ProposedEvent[], options?: AppendOptions): Promise<StoredEvent[]> {
    const shredder = this.shredder;
    // A `created` event always takes a fresh key: only updates (the object's bound key may have been
    // destroyed by another process) and erasures need the key store's latest epoch.
    if (events.some((e) => e.kind !== 'created')) await shredder.refresh();
    const erasing = events.filter((e) => e.kind === 'erased');
    for (const e of erasing) await shredder.keys.beginErasure(e.type, e.sid);
    let stored: StoredEvent[];
    try {
      const sealed = await shredder.sealAll(events);
      stored = await this.inner.append(sealed, options);
    } catch (error) {
      for (const e of erasing) await shredder.keys.cancelErasure(e.type, e.sid);
      throw error;
    }
    for (const e of stored) if (e.kind === 'erased') await this.finishErasure(e.type, e.sid, e.position);
    // A fresh append stores exactly what was proposed: hand back the plaintext instead of decrypting it again
    // (a replayed idempotent append returns earlier events: those are opened).
    if (options?.idempotencyKey === undefined && stored.length === events.length) {
      return stored.map((e, i) => (e.kind === 'erased' ? shredder.revealEvent(e) : { ...e, data: structuredClone(events[i].data) }));
    }
    await shredder.loadKeys(stored);
    return shredder.revealEvents(stored);
  }

  /**
   * Steps 3–4 of an erasure whose `erased` event is at `position`: hash the personal values of the
   * object's history, destroy every key it used, then purge. Idempotent.
   */
  private async finishErasure(type: string, sid: string, position: number): Promise<void> {
    const shredder = this.shredder;
    const history = (await this.inner.readStream(type, sid)).filter((e) => e.position <= position);
    await shredder.loadKeys(history);
    const key = hashKey(await shredder.keys.verificationKey());
    await shredder.keys.finishErasure({
      type,
      sid,
      position,
      keyIds: shredder.keyIdsOf(history),
      values: erasedValues(key, type, sid, shredder.personalValues(history)),
    });
    shredder.noteErased(type, sid, position);
    await this.purge(type, sid);
  }

  /** Step 4: run the purge hooks, then forget the pending erasure. */
  private async purge(type: string, sid: string): Promise<void> {
    for (const hook of this.purgeHooks) await hook(type, sid);
    await this.shredder.keys.purged(type, sid);
  }

  /**
   * Finish erasures a crash interrupted: destroy the keys of those whose `erased` event is in the log
   * (between steps 2 and 3), and purge those whose keys are destroyed (between steps 3 and 4).
   */
  async finishPending(): Promise<number> {
    let finished = 0;
    for (const { type, sid, stage } of await this.shredder.keys.pendingErasures()) {
      if (stage === 'purge') {
        await this.purge(type, sid);
      } else {
        const state = await this.inner.streamState(type, sid);
        if (!state.erased) continue; // not appended (or being appended by another process): the object is intact
        const events = await this.inner.readStream(type, sid);
        await this.finishErasure(type, sid, events[events.length - 1].position);
      }
      finished++;
    }
    return finished;
  }

  /**
   * Every erasure of an object is an event of its own stream: the stream says up to where it is shredded
   * (also while an erasure's keys are not destroyed yet), so this read needs no refresh from the key store
   * (no round trip on PostgreSQL), and keys are loaded only for the events after the last erasure.
   */
  async readStream(type: string, sid: string): Promise<StoredEvent[]> {
    const events = await this.inner.readStream(type, sid);
    let erasedAt = this.shredder.erasedAt(type, sid);
    for (const e of events) if (e.kind === 'erased' && e.position > erasedAt) erasedAt = e.position;
    await this.shredder.loadKeys(erasedAt === 0 ? events : events.filter((e) => e.position > erasedAt));
    return events.map((e) => this.shredder.revealEvent(e, erasedAt));
  }

  streamState(type: string, sid: string): Promise<StreamState> {
    return this.inner.streamState(type, sid);
  }

  async readAll(from: number, options?: ReadAllOptions): Promise<StoredEvent[]> {
    await this.shredder.refresh();
    const events = await this.inner.readAll(from, options);
    await this.shredder.loadKeys(events);
    return this.shredder.revealEvents(events);
  }

  private async encoded(from: number, options?: ReadAllOptions): Promise<EncodedEvent[]> {
    await this.shredder.refresh();
    const events = await this.inner.readAllEncoded!(from, options);
    return events.map((e) => (this.shredder.erasedAt(e.type, e.sid) >= e.position ? { ...e, shredded: true } : e));
  }

  /** Encoded data decoded as the inner log does, then opened (a fold decodes live objects only). */
  decodeEncodedData(data: string): Record<string, unknown> {
    const decoded = this.inner.decodeEncodedData ? this.inner.decodeEncodedData(data) : (JSON.parse(data) as Record<string, unknown>);
    return this.shredder.revealData(decoded);
  }

  /**
   * Copy events in (a copy or import of another store, read through its own `PersonalEventLog`, so
   * their personal values are plaintext, and erased objects' are gone): seal them under this store's
   * keys, and record the erasures they carry.
   */
  private async importing(events: readonly StoredEvent[]): Promise<void> {
    await this.shredder.refresh();
    const sealed = (await this.shredder.sealAll(events)).map((e) => {
      const { shredded: _shredded, ...event } = e;
      return event;
    });
    await this.inner.importEvents!(sealed);
    for (const e of events) if (e.kind === 'erased') await this.finishErasure(e.type, e.sid, e.position);
  }

  head(): Promise<number> {
    return this.inner.head();
  }

  async close(): Promise<void> {
    await this.inner.close();
    await this.shredder.keys.close();
  }
}
