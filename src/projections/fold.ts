import { createHash, hash } from 'node:crypto';
import type { EventLog } from '../log/event-log';
import type { StoredEvent } from '../log/event';

/** An object's state after folding its events. */
export interface FoldedObject {
  type: string;
  sid: string;
  data: Record<string, unknown> | null;
  /** `JSON.stringify(data)`, when the fold read it as stored text. */
  json?: string;
  version: number;
  position: number;
  createdAt: number;
  updatedAt: number;
}

/** A folded object whose data is held as `D` (decoded, or stored text while folding encoded events). */
interface Folded<D> extends Omit<FoldedObject, 'data' | 'json'> {
  data: D | null;
}

/**
 * Fold events into per-object state in memory (rebuilds and point-in-time reads). The map's order is
 * the order in which objects began their current life (a re-created object moves to the end), which is
 * the order inline application assigns `objects.id` in: rebuilds write objects in this order, so equal
 * text ranks (ordered by id) come out the same after a rebuild.
 */
export function foldEvents(into: Map<string, FoldedObject>, events: readonly StoredEvent[]): void {
  for (const event of events) foldEvent(into, event, Date.parse(event.ts));
}

function foldEvent<D>(
  into: Map<string, Folded<D>>,
  event: { type: string; sid: string; kind: string; version: number; position: number; data: D; shredded?: true },
  ms: number,
): void {
  const key = `${event.type}\0${event.sid}`;
  const current = into.get(key);
  if (event.kind === 'deleted' || event.kind === 'erased' || event.shredded) {
    if (current) {
      current.data = null;
      current.version = event.version;
      current.position = event.position;
    }
    return;
  }
  if (!current || current.data === null || event.kind === 'created') {
    if (current) into.delete(key);
    into.set(key, { type: event.type, sid: event.sid, data: event.data, version: event.version, position: event.position, createdAt: ms, updatedAt: ms });
  } else {
    current.data = event.data;
    current.version = event.version;
    current.position = event.position;
    current.updatedAt = ms;
  }
}

/** Progress of a long projection job: position reached out of the head. */
export type ProgressFn = (done: number, total: number) => void;

/** Which events a fold takes: all up to the head, up to a position, or up to a moment. */
export type FoldLimit = { position?: number; time?: number };

/** The log folded into per-object state, and the last position it took. */
export interface FoldedLog {
  objects: Map<string, FoldedObject>;
  events: number;
  position: number;
}

/** Events read per batch; progress is reported and the event loop gets a turn after each. */
const READ_BATCH = 5_000;

/**
 * Read the log in batches and fold each object's events in memory. When the log offers
 * `readAllEncoded`, data stays stored text while folding and only each object's final state is decoded.
 */
export async function foldLog(log: EventLog, limit: FoldLimit = {}, onProgress?: ProgressFn, from = 1, into?: FoldedLog): Promise<FoldedLog> {
  const folded: FoldedLog = into ?? { objects: new Map(), events: 0, position: 0 };
  const head = limit.position ?? (await log.head());
  const encoded = log.readAllEncoded && !into ? new Map<string, Folded<string>>() : undefined;
  for (let next = from; next <= head; ) {
    const size = Math.min(READ_BATCH, head - next + 1);
    let batch: readonly { position: number; type: string; sid: string; kind: string; version: number }[];
    if (encoded) {
      let events = await log.readAllEncoded!(next, { limit: size });
      if (events.length === 0) break;
      next = events[events.length - 1].position + 1;
      if (limit.time !== undefined) events = events.filter((e) => e.ts <= limit.time!);
      for (const event of events) foldEvent(encoded, event, event.ts);
      batch = events;
    } else {
      let events = await log.readAll(next, { limit: size });
      if (events.length === 0) break;
      next = events[events.length - 1].position + 1;
      if (limit.time !== undefined) events = events.filter((e) => Date.parse(e.ts) <= limit.time!);
      foldEvents(folded.objects, events);
      batch = events;
    }
    folded.events += batch.length;
    if (batch.length > 0) folded.position = batch[batch.length - 1].position;
    onProgress?.(next - 1, head);
    // better-sqlite3 reads are synchronous: without a turn, timers (a progress bar, other work) stall until the end.
    if (next <= head) await new Promise<void>((resolve) => setImmediate(resolve));
  }
  if (encoded) {
    const decode = log.decodeEncodedData?.bind(log);
    for (const [key, object] of encoded) {
      const text = object.data ?? undefined;
      if (text === undefined) folded.objects.set(key, { ...object, data: null });
      else if (decode) folded.objects.set(key, { ...object, data: decode(text) });
      else folded.objects.set(key, { ...object, data: JSON.parse(text), json: text });
    }
  }
  return folded;
}

/**
 * A hash of live objects (type, sid, version, data), independent of their order, to compare two
 * derivations: the XOR of each object's SHA-256, then hashed with the count. Objects are unique by
 * (type, sid), so no two entries cancel; nothing is sorted or held, so it streams over millions.
 */
export function parityHash(objects: Iterable<{ type: string; sid: string; version: number; data: unknown; json?: string }>): string {
  const sum = Buffer.alloc(32);
  let count = 0;
  for (const o of objects) {
    const digest = hash('sha256', `${o.type}\0${o.sid}\0${o.version}\0${o.json ?? JSON.stringify(o.data)}`, 'buffer');
    for (let i = 0; i < 32; i += 4) sum.writeInt32LE(sum.readInt32LE(i) ^ digest.readInt32LE(i), i);
    count++;
  }
  return createHash('sha256').update(sum).update(String(count)).digest('hex');
}

/**
 * Give every live object of a fold its stored JSON text (folds of logs that store another encoding hold
 * only decoded data), so the parity hash and the table writes of a rebuild stringify each object once.
 */
export function fillJson(folded: FoldedLog): void {
  for (const object of folded.objects.values()) if (object.data !== null && object.json === undefined) object.json = JSON.stringify(object.data);
}

/** The parity hash of a fold's live objects. */
export function foldParity(folded: FoldedLog): string {
  return parityHash(liveObjects(folded.objects.values()));
}

function* liveObjects(objects: Iterable<FoldedObject>): Generator<FoldedObject> {
  for (const object of objects) if (object.data !== null) yield object;
}
