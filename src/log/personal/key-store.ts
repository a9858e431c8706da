import { randomBytes } from 'node:crypto';

/** A fresh data key and its id. */
export interface DataKey {
  id: string;
  key: Buffer;
}

/** What is kept of one erased personal value: its byte length and keyed hashes, never the value. */
export interface ErasedValue {
  type: string;
  sid: string;
  /** Byte length of the value as stored (UTF-8). */
  len: number;
  /** Keyed rolling hash (see `value-hashes.ts`): a cheap prefilter for the scan. */
  rolling: number;
  /** HMAC-SHA256 under the verification key, first 16 bytes, hex. */
  mac: string;
}

/** An erasure that was begun and not purged yet (see `KeyStore.pendingErasures`). */
export interface PendingErasure {
  type: string;
  sid: string;
  stage: 'keys' | 'purge';
}

/** One finished erasure, written in one durable transaction. */
export interface Erasure {
  type: string;
  sid: string;
  /** Position of the `erased` event. */
  position: number;
  /** Every data key the object's history used: destroyed. */
  keyIds: readonly string[];
  /** Hashes of every personal value the history held. */
  values: readonly ErasedValue[];
}

/**
 * Where data keys live (crypto-shredding: destroying an object's keys makes its personal values
 * unreadable everywhere the log's bytes went). Everything that may touch a server is asynchronous;
 * only `key(id)` is synchronous, because events are opened inside append and projection transactions
 * (unique claims, in-append projections). A store whose keys are remote (`preloads`: PostgreSQL)
 * answers `key` from a cache that `load` fills before a batch of events is opened; SQLite and memory
 * read on a miss and their `load` does nothing, so their hot path has no await per event.
 *
 * Musts:
 * - `createKeys` resolves only after the keys are durable (an event sealed with a key is appended after).
 * - `finishErasure` destroys the keys, records the erasure and its value hashes, and moves the pending
 *   erasure to stage `purge`, all or nothing, durably; it is idempotent.
 * - `epoch()` changes whenever keys are destroyed by anyone (other processes and hosts included), and a
 *   key destroyed elsewhere is no longer answered by `key` once `epoch()` has seen the change.
 */
export interface KeyStore {
  /** Where the keys live, for messages: a file path, a URL without password, or 'memory'. */
  readonly location: string;
  /** True when `key` answers only for keys this object created or `load`ed (keys on a server). */
  readonly preloads: boolean;
  /** The live key with this id; undefined when destroyed, unknown, or (with `preloads`) not loaded. */
  key(id: string): Buffer | undefined;
  /** Make `key` answer for these ids (those still live); nothing to do without `preloads`. */
  load(ids: Iterable<string>): Promise<void>;
  /** Create `count` fresh keys, durably. */
  createKeys(count: number): Promise<DataKey[]>;
  /** A number that changes when keys are destroyed (read from the key store: one cheap read). */
  epoch(): Promise<number>;
  /** Record (durably) that `type/sid` is about to be erased, so a crash after its `erased` event is finished at open. */
  beginErasure(type: string, sid: string): Promise<void>;
  /** Forget an intent whose append was refused. */
  cancelErasure(type: string, sid: string): Promise<void>;
  /**
   * Erasures begun and not yet purged: `keys` while the keys may still live (the `erased` event may or may
   * not be in the log), `purge` once the keys are destroyed and derived plaintext may remain.
   */
  pendingErasures(): Promise<PendingErasure[]>;
  /** See the interface's musts; leaves the erasure pending at stage `purge`. */
  finishErasure(erasure: Erasure): Promise<void>;
  /** The erasure's purge is done: forget it. */
  purged(type: string, sid: string): Promise<void>;
  /** Every finished erasure: `type\0sid` → the position of its latest `erased` event. */
  erasures(): Promise<Map<string, number>>;
  /**
   * The personal fields to seal: `declared` merged with every field declared before (kept in the key
   * store, so a process opening the store without its schema still seals them). Saves the merge.
   */
  personalFields(declared: Readonly<Record<string, readonly string[]>>): Promise<Record<string, readonly string[]>>;
  /** The store-wide verification key (HMAC of personal values for `verify --erased`), created on first use. */
  verificationKey(): Promise<Buffer>;
  /** Every erased value's hashes. */
  erasedValues(): Promise<ErasedValue[]>;
  /** The local files that hold the keys (scanned and checkpointed after an erasure); none in memory or on a server. */
  files(): string[];
  /** Remove what destroyed keys left behind in the key store's files (a SQLite WAL; dead rows on a server). */
  checkpoint(): Promise<void>;
  close(): Promise<void>;
}

/** Two personal specs merged: every field of either, per type, sorted. */
export function mergePersonal(
  a: Readonly<Record<string, readonly string[]>>,
  b: Readonly<Record<string, readonly string[]>>,
): Record<string, readonly string[]> {
  const out: Record<string, readonly string[]> = {};
  for (const type of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
    out[type] = [...new Set([...(a[type] ?? []), ...(b[type] ?? [])])].sort();
  }
  return out;
}

/** A new random key id (64 bits, hex). */
export function newKeyId(): string {
  return randomBytes(8).toString('hex');
}

/**
 * `count` new 256-bit data keys from one draw of the system's random generator. Their ids share a random
 * 64-bit prefix and end in their index (`PREFIX.INDEX`), so a key store inserts a batch next to each
 * other in its index instead of at `count` random places. Each key is its own buffer (zeroed alone when
 * destroyed).
 */
export function newDataKeys(count: number): DataKey[] {
  const random = randomBytes(8 + 32 * count);
  const prefix = random.subarray(0, 8).toString('hex');
  const keys = Array.from({ length: count }, (_, i) => ({ id: `${prefix}.${i.toString(36)}`, key: Buffer.from(random.subarray(8 + 32 * i, 40 + 32 * i)) }));
  random.fill(0);
  return keys;
}

/** Keys in this process's memory (the `memory:` backend). */
export class MemoryKeyStore implements KeyStore {
  readonly location = 'memory';
  readonly preloads = false;
  private readonly keys = new Map<string, Buffer>();
  private readonly pending = new Map<string, PendingErasure>();
  private readonly erased = new Map<string, number>();
  private readonly values: ErasedValue[] = [];
  private verification: Buffer | undefined;
  private destroyed = 0;

  key(id: string): Buffer | undefined {
    return this.keys.get(id);
  }
  async createKeys(count: number): Promise<DataKey[]> {
    const created = newDataKeys(count);
    for (const k of created) this.keys.set(k.id, k.key);
    return created;
  }
  async epoch(): Promise<number> {
    return this.destroyed;
  }
  async beginErasure(type: string, sid: string): Promise<void> {
    const name = `${type}\0${sid}`;
    if (!this.pending.has(name)) this.pending.set(name, { type, sid, stage: 'keys' });
  }
  async cancelErasure(type: string, sid: string): Promise<void> {
    if (this.pending.get(`${type}\0${sid}`)?.stage === 'keys') this.pending.delete(`${type}\0${sid}`);
  }
  async pendingErasures(): Promise<PendingErasure[]> {
    return [...this.pending.values()];
  }
  async purged(type: string, sid: string): Promise<void> {
    this.pending.delete(`${type}\0${sid}`);
  }
  async finishErasure(erasure: Erasure): Promise<void> {
    const name = `${erasure.type}\0${erasure.sid}`;
    for (const id of erasure.keyIds) this.keys.get(id)?.fill(0);
    for (const id of erasure.keyIds) this.keys.delete(id);
    this.erased.set(name, Math.max(this.erased.get(name) ?? 0, erasure.position));
    this.values.push(...erasure.values);
    this.pending.set(name, { type: erasure.type, sid: erasure.sid, stage: 'purge' });
    this.destroyed++;
  }
  async erasures(): Promise<Map<string, number>> {
    return new Map(this.erased);
  }
  private personal: Record<string, readonly string[]> = {};
  async personalFields(declared: Readonly<Record<string, readonly string[]>>): Promise<Record<string, readonly string[]>> {
    this.personal = mergePersonal(this.personal, declared);
    return this.personal;
  }
  async verificationKey(): Promise<Buffer> {
    this.verification ??= randomBytes(32);
    return this.verification;
  }
  async erasedValues(): Promise<ErasedValue[]> {
    return [...this.values];
  }
  files(): string[] {
    return [];
  }
  async load(): Promise<void> {}
  async checkpoint(): Promise<void> {}
  async close(): Promise<void> {
    this.keys.clear();
  }
}
