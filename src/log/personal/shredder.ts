import { REVEAL, type UniqueSpec } from '../event-log';
import type { ObjectData, ProposedEvent, StoredEvent } from '../event';
import { envelopeKeyId, isEnvelope, seal, unseal } from './envelope';
import type { DataKey, KeyStore } from './key-store';

/** Personal fields per type, as the schema declares them. */
export type PersonalSpec = Readonly<Record<string, readonly string[]>>;

/** First and largest batch of keys created at once (one durable transaction; unused ones are simply never used). */
const FIRST_KEY_BATCH = 4;
const MAX_KEY_BATCH = 256;
/** Bound on remembered sealed values (the appends in flight need them; beyond it the map starts over). */
const MAX_REMEMBERED = 4096;
/** Bound on remembered object → key bindings (beyond it the oldest is forgotten: its object's next update takes a new key). */
const MAX_BINDINGS = 100_000;

/**
 * The synchronous half of crypto-shredding: seals the personal fields of proposed events with their
 * object's data key and opens them again on read. An event whose object was erased later comes back
 * `shredded`, without its personal values; a value whose key is gone is left out.
 */
export class Shredder {
  /** Keys created durably and not yet used by any object. */
  private pool: DataKey[] = [];
  private batch = FIRST_KEY_BATCH;
  /** `type\0sid` → the key this process seals the object's updates with. */
  private readonly bound = new Map<string, DataKey>();
  /**
   * The bound keys by id: `reveal` falls back to them, so the events this process is appending open even if
   * a key store that caches (PostgreSQL) dropped the key from its cache meanwhile.
   */
  private readonly boundById = new Map<string, Buffer>();
  private erased = new Map<string, number>();
  private seenEpoch = -1;
  /**
   * What this process sealed lately, by ciphertext (unique per seal: random IV) and by the data object it
   * made: the unique-claim check and the in-append / after-indexing projection hooks get these values back
   * from the backend's log (copied or not), so they are not decrypted again. A key destroyed since is still
   * honoured: `reveal` checks the key first.
   */
  private readonly sealedValues = new Map<string, unknown>();
  private readonly sealedData = new WeakMap<object, ObjectData>();

  /** Call `refresh` once before use (`shredderFor` does). */
  constructor(readonly keys: KeyStore, readonly spec: PersonalSpec) {}

  /** True when `type` declares personal fields. */
  isPersonal(type: string): boolean {
    return (this.spec[type]?.length ?? 0) > 0;
  }

  /**
   * Drop cached bindings and reload erasures when the key store's epoch moved (someone, maybe on another
   * host, destroyed keys). One read of the key store; run once per read or append batch.
   */
  async refresh(): Promise<void> {
    const epoch = await this.keys.epoch();
    if (epoch === this.seenEpoch) return;
    const erased = await this.keys.erasures();
    this.seenEpoch = epoch;
    this.bound.clear();
    this.boundById.clear();
    this.erased = erased;
  }

  /** Make `reveal` able to open the events' envelopes (keys on a server are fetched once per batch). */
  async loadKeys(events: readonly { data: ObjectData }[]): Promise<void> {
    if (this.keys.preloads) await this.keys.load(this.keyIdsOf(events));
  }

  /**
   * The events with their personal values sealed (see `seal`). The keys they need are created first,
   * durably (one key-store transaction for a batch of keys), then every event is sealed without a pause,
   * so no other append can take the keys meanwhile.
   */
  async sealAll<E extends ProposedEvent>(events: readonly E[]): Promise<E[]> {
    for (let need = this.keysNeeded(events); this.pool.length < need; need = this.keysNeeded(events)) {
      const created = await this.keys.createKeys(Math.min(MAX_KEY_BATCH, Math.max(this.batch, need - this.pool.length)));
      this.pool.push(...created);
      this.batch = Math.min(MAX_KEY_BATCH, this.batch * 2);
    }
    return events.map((e) => this.seal(e));
  }

  /** How many keys sealing `events` takes from the pool: one per `created` event and per object with no bound key. */
  private keysNeeded(events: readonly ProposedEvent[]): number {
    let need = 0;
    const fresh = new Set<string>();
    for (const e of events) {
      if (this.sealedFields(e).length === 0) continue;
      const name = `${e.type}\0${e.sid}`;
      if (e.kind === 'created' || (!this.bound.has(name) && !fresh.has(name))) {
        need++;
        fresh.add(name);
      }
    }
    return need;
  }

  /** The personal fields of the event that `seal` encrypts. */
  private sealedFields(event: ProposedEvent): string[] {
    const fields = this.spec[event.type];
    if (!fields || fields.length === 0 || event.kind === 'deleted' || event.kind === 'erased') return [];
    return fields.filter((f) => event.data[f] !== undefined && event.data[f] !== null && !isEnvelope(event.data[f]));
  }

  /** Position of the latest `erased` event of the object, 0 when it was never erased. */
  erasedAt(type: string, sid: string): number {
    return this.erased.get(`${type}\0${sid}`) ?? 0;
  }

  /** Note an erasure finished in this process (its epoch change is seen on the next refresh anyway). */
  noteErased(type: string, sid: string, position: number): void {
    const name = `${type}\0${sid}`;
    this.erased.set(name, Math.max(this.erased.get(name) ?? 0, position));
    const key = this.bound.get(name);
    if (key) this.boundById.delete(key.id);
    this.bound.delete(name);
  }

  /**
   * The event with its personal field values sealed (a `created` event always gets a fresh key). The
   * keys come from the pool `sealAll` fills: call that, not this.
   */
  private seal<E extends ProposedEvent>(event: E): E {
    const present = this.sealedFields(event);
    if (present.length === 0) return event;
    const key = this.keyFor(event.type, event.sid, event.kind === 'created');
    const data: ObjectData = { ...event.data };
    for (const field of present) {
      const envelope = seal(key.id, key.key, field, data[field]);
      if (this.sealedValues.size >= MAX_REMEMBERED) this.sealedValues.clear();
      this.sealedValues.set(envelope.$enc, data[field]);
      data[field] = envelope;
    }
    this.sealedData.set(data, event.data);
    return { ...event, data };
  }

  private keyFor(type: string, sid: string, fresh: boolean): DataKey {
    const name = `${type}\0${sid}`;
    const known = fresh ? undefined : this.bound.get(name);
    if (known) return known;
    const key = this.pool.pop();
    if (!key) throw new Error('internal: no data key prepared (seal events through sealAll)');
    // Forget the oldest binding (not all: the objects of the batch being sealed keep theirs, as `sealAll` counted).
    if (this.bound.size >= MAX_BINDINGS) {
      const [oldest, evicted] = this.bound.entries().next().value!;
      this.bound.delete(oldest);
      this.boundById.delete(evicted.id);
    }
    const before = this.bound.get(name);
    if (before) this.boundById.delete(before.id);
    this.bound.set(name, key);
    this.boundById.set(key.id, key.key);
    return key;
  }

  /** The live key with this id: the key store's, or one this process bound (and has not seen destroyed). */
  private keyOf(id: string): Buffer | undefined {
    return this.keys.key(id) ?? this.boundById.get(id);
  }

  /** A stored value as plaintext: an envelope opened (undefined when its key is gone), anything else as is. */
  reveal(field: string, stored: unknown): unknown {
    if (!isEnvelope(stored)) return stored;
    const key = this.keyOf(envelopeKeyId(stored));
    if (!key) return undefined;
    const known = this.sealedValues.get(stored.$enc);
    return known !== undefined ? known : unseal(key, field, stored);
  }

  /** Data with every envelope opened; values that cannot be opened are left out. */
  revealData(data: ObjectData): ObjectData {
    const known = this.sealedData.get(data);
    if (known && Object.keys(data).every((f) => !isEnvelope(data[f]) || this.keyOf(envelopeKeyId(data[f] as { $enc: string })))) return known;
    let out: ObjectData | undefined;
    for (const field in data) {
      const value = data[field];
      if (!isEnvelope(value)) continue;
      out ??= { ...data };
      const plain = this.reveal(field, value);
      if (plain === undefined) delete out[field];
      else out[field] = plain;
    }
    return out ?? data;
  }

  /**
   * An event as readers see it: its personal values opened, or, when the object was erased at or after
   * `erasedAt`'s position, marked `shredded` with its personal values left out.
   */
  revealEvent(event: StoredEvent, erasedAt = this.erasedAt(event.type, event.sid)): StoredEvent {
    if (erasedAt >= event.position) return { ...event, data: this.strip(event.type, event.data), shredded: true };
    const data = this.revealData(event.data);
    return data === event.data ? event : { ...event, data };
  }

  /** Reveal a batch (the in-append and after-indexing projection hooks, reads). */
  revealEvents(events: readonly StoredEvent[]): StoredEvent[] {
    return events.map((e) => this.revealEvent(e));
  }

  /** Data without envelopes and without the type's declared personal fields. */
  strip(type: string, data: ObjectData): ObjectData {
    const personal = this.spec[type] ?? [];
    const out: ObjectData = {};
    for (const field in data) if (!isEnvelope(data[field]) && !personal.includes(field)) out[field] = data[field];
    return out;
  }

  /** Every key id the events' envelopes name. */
  keyIdsOf(events: readonly { data: ObjectData }[]): string[] {
    const ids = new Set<string>();
    for (const e of events) for (const field in e.data) if (isEnvelope(e.data[field])) ids.add(envelopeKeyId(e.data[field] as { $enc: string }));
    return [...ids];
  }

  /** The plaintext of every personal value the events hold (to hash before the keys are destroyed). */
  personalValues(events: readonly StoredEvent[]): unknown[] {
    const values: unknown[] = [];
    for (const e of events) {
      const personal = this.spec[e.type] ?? [];
      for (const field in e.data) {
        const stored = e.data[field];
        if (!isEnvelope(stored) && !personal.includes(field)) continue;
        const plain = this.reveal(field, stored);
        if (plain !== undefined) values.push(plain);
      }
    }
    return values;
  }

  /** `unique` with the reveal function the log uses to claim plaintext values of sealed fields. */
  revealing(unique: UniqueSpec): UniqueSpec {
    return { ...unique, [REVEAL]: (field: string, stored: unknown) => this.reveal(field, stored) };
  }
}
