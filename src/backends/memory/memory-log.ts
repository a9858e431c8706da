import { ClosedError, InvalidInputError } from '../../log/errors';
import type { StoredEvent, ProposedEvent, StreamState } from '../../log/event';
import type { AppendOptions, EventLog, LogWatcher, ReadAllOptions, UniqueSpec, WatchOptions } from '../../log/event-log';
import { ChangeNotifier } from '../../log/change-notifier';
import { applyAppendRules, endsLife, idempotencyRuns, isCanonicalTimestamp, uniqueClaims, uniqueViolation } from '../../log/append-rules';
import { newEventId } from '../../log/ids';

interface StreamEntry {
  state: StreamState;
  positions: number[];
}

/**
 * The in-process reference backend: the executable reading of the `EventLog` contract and the fastest
 * test target. Appends are validated completely before anything is stored, so a failure writes nothing.
 */
export class MemoryEventLog implements EventLog {
  readonly backend = 'memory';
  private readonly events: StoredEvent[] = [];
  private readonly streams = new Map<string, StreamEntry>();
  /** `type\0field\0key` → sid */
  private readonly uniqueHolders = new Map<string, string>();
  /** `type\0sid` → the claim keys that object holds */
  private readonly claimsBySid = new Map<string, Set<string>>();
  private readonly idempotent = new Map<string, StoredEvent[]>();
  private readonly notifier = new ChangeNotifier();
  private closed = false;

  constructor(private readonly unique: UniqueSpec = {}) {}

  async append(proposed: readonly ProposedEvent[], options: AppendOptions = {}): Promise<StoredEvent[]> {
    this.assertOpen();
    const key = options.idempotencyKey;
    if (key !== undefined) {
      const earlier = this.idempotent.get(key);
      if (earlier) return earlier.map(clone);
    }
    const staged = new Map<string, StreamState>();
    const claims = new Map<string, string | null>();
    const now = Date.now();
    const ts = new Date(now).toISOString();
    const stored: StoredEvent[] = [];
    let position = this.events.length;
    for (const event of proposed) {
      const streamKey = `${event.type}\0${event.sid}`;
      const before = staged.get(streamKey) ?? this.streams.get(streamKey)?.state ?? { version: 0, exists: false };
      const after = applyAppendRules(event, before);
      staged.set(streamKey, after);
      this.stageUnique(event, claims);
      position += 1;
      stored.push({
        position,
        id: newEventId(now),
        type: event.type,
        sid: event.sid,
        kind: event.kind,
        version: after.version,
        ts,
        data: structuredClone(event.data),
        ...(event.meta ? { meta: structuredClone(event.meta) } : {}),
      });
    }
    this.commit(stored, claims);
    if (key !== undefined) this.idempotent.set(key, stored);
    return stored.map(clone);
  }

  /** See `EventLog.importEvents`: events keep their positions, ids, versions and timestamps. */
  async importEvents(imported: readonly StoredEvent[]): Promise<void> {
    this.assertOpen();
    const staged = new Map<string, StreamState>();
    const claims = new Map<string, string | null>();
    const stored = imported.map((event, i) => {
      const position = this.events.length + 1 + i;
      if (event.position !== position) {
        throw new InvalidInputError(`imported event ${i + 1}: imported events must continue the log at position ${position}, got ${event.position}`);
      }
      if (!isCanonicalTimestamp(event.ts)) {
        throw new InvalidInputError(`imported event ${i + 1}: ts must be an ISO 8601 UTC time with milliseconds, got ${JSON.stringify(event.ts)}`);
      }
      const streamKey = `${event.type}\0${event.sid}`;
      const before = staged.get(streamKey) ?? this.streams.get(streamKey)?.state ?? { version: 0, exists: false };
      const after = applyAppendRules({ type: event.type, sid: event.sid, kind: event.kind, data: event.data }, before);
      if (after.version !== event.version) {
        throw new InvalidInputError(`imported event ${i + 1}: ${event.type}/${event.sid} has version ${event.version} where the log expects ${after.version}`);
      }
      staged.set(streamKey, after);
      this.stageUnique(event, claims);
      return clone(event);
    });
    this.commit(stored, claims);
    for (const [key, events] of idempotencyRuns(stored)) if (!this.idempotent.has(key)) this.idempotent.set(key, events);
  }

  private commit(stored: StoredEvent[], claims: Map<string, string | null>): void {
    for (const event of stored) {
      this.events.push(event);
      const streamKey = `${event.type}\0${event.sid}`;
      const entry = this.streams.get(streamKey) ?? { state: { version: 0, exists: false }, positions: [] };
      entry.state = { version: event.version, exists: !endsLife(event.kind), ...(event.kind === 'erased' ? { erased: true } : {}) };
      entry.positions.push(event.position);
      this.streams.set(streamKey, entry);
    }
    for (const [claimKey, sid] of claims) this.commitClaim(claimKey, sid);
    if (stored.length > 0) this.notifier.notify();
  }

  /** Release the object's old claims and take its new ones, checking against holders and staged claims. */
  private stageUnique(event: ProposedEvent, staged: Map<string, string | null>): void {
    const fields = this.unique[event.type];
    if (!fields || fields.length === 0) return;
    for (const claimKey of this.claimsBySid.get(`${event.type}\0${event.sid}`) ?? []) staged.set(claimKey, null);
    for (const [claimKey, sid] of staged) {
      if (sid === event.sid && claimKey.startsWith(`${event.type}\0`)) staged.set(claimKey, null);
    }
    if (endsLife(event.kind)) return;
    for (const claim of uniqueClaims(this.unique, event.type, event.data)) {
      const claimKey = `${event.type}\0${claim.field}\0${claim.key}`;
      const holder = staged.has(claimKey) ? staged.get(claimKey) : this.uniqueHolders.get(claimKey);
      if (holder != null && holder !== event.sid) throw uniqueViolation(event.type, claim, holder);
      staged.set(claimKey, event.sid);
    }
  }

  private commitClaim(claimKey: string, sid: string | null): void {
    const type = claimKey.slice(0, claimKey.indexOf('\0'));
    const previous = this.uniqueHolders.get(claimKey);
    if (previous !== undefined) this.claimsBySid.get(`${type}\0${previous}`)?.delete(claimKey);
    if (sid === null) {
      this.uniqueHolders.delete(claimKey);
      return;
    }
    this.uniqueHolders.set(claimKey, sid);
    const owner = `${type}\0${sid}`;
    const held = this.claimsBySid.get(owner) ?? new Set<string>();
    held.add(claimKey);
    this.claimsBySid.set(owner, held);
  }

  async readStream(type: string, sid: string): Promise<StoredEvent[]> {
    this.assertOpen();
    const entry = this.streams.get(`${type}\0${sid}`);
    return entry ? entry.positions.map((p) => clone(this.events[p - 1])) : [];
  }

  async streamState(type: string, sid: string): Promise<StreamState> {
    this.assertOpen();
    const entry = this.streams.get(`${type}\0${sid}`);
    return entry ? { ...entry.state } : { version: 0, exists: false };
  }

  async readAll(from: number, options: ReadAllOptions = {}): Promise<StoredEvent[]> {
    this.assertOpen();
    const limit = options.limit ?? Number.POSITIVE_INFINITY;
    const types = options.types ? new Set(options.types) : undefined;
    const out: StoredEvent[] = [];
    for (let i = Math.max(0, from - 1); i < this.events.length && out.length < limit; i++) {
      const event = this.events[i];
      if (!types || types.has(event.type)) out.push(clone(event));
    }
    return out;
  }

  async head(): Promise<number> {
    this.assertOpen();
    return this.events.length;
  }

  /** Signals each append as it is stored (there is no other writer). */
  async watch(onChange: () => void, options: WatchOptions = {}): Promise<LogWatcher> {
    this.assertOpen();
    return this.notifier.watch(onChange, options);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.notifier.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new ClosedError();
  }
}

function clone(event: StoredEvent): StoredEvent {
  return structuredClone(event);
}
