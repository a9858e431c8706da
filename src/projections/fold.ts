import { createHash } from 'node:crypto';
import type { EventLog } from '../log/event-log';
import type { StoredEvent } from '../log/event';

/** An object's state after folding its events. */
export interface FoldedObject {
  type: string;
  sid: string;
  data: Record<string, unknown> | null;
  version: number;
  position: number;
  createdAt: number;
  updatedAt: number;
}

/** Fold events into per-object state in memory (rebuilds and point-in-time reads). */
export function foldEvents(into: Map<string, FoldedObject>, events: readonly StoredEvent[]): void {
  for (const event of events) {
    const key = `${event.type}\0${event.sid}`;
    const ms = Date.parse(event.ts);
    const current = into.get(key);
    if (event.kind === 'deleted') {
      if (current) {
        current.data = null;
        current.version = event.version;
        current.position = event.position;
      }
      continue;
    }
    if (!current || current.data === null || event.kind === 'created') {
      into.set(key, { type: event.type, sid: event.sid, data: event.data, version: event.version, position: event.position, createdAt: ms, updatedAt: ms });
    } else {
      current.data = event.data;
      current.version = event.version;
      current.position = event.position;
      current.updatedAt = ms;
    }
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

const READ_BATCH = 20_000;

/** Read the log in batches and fold each object's events in memory. */
export async function foldLog(log: EventLog, limit: FoldLimit = {}, onProgress?: ProgressFn, from = 1, into?: FoldedLog): Promise<FoldedLog> {
  const folded: FoldedLog = into ?? { objects: new Map(), events: 0, position: 0 };
  const head = limit.position ?? (await log.head());
  for (let next = from; next <= head; ) {
    let batch = await log.readAll(next, { limit: Math.min(READ_BATCH, head - next + 1) });
    if (batch.length === 0) break;
    next = batch[batch.length - 1].position + 1;
    if (limit.time !== undefined) batch = batch.filter((e) => Date.parse(e.ts) <= limit.time!);
    foldEvents(folded.objects, batch);
    folded.events += batch.length;
    if (batch.length > 0) folded.position = batch[batch.length - 1].position;
    onProgress?.(next - 1, head);
  }
  return folded;
}

/** A hash of live objects (type, sid, version, data) in a canonical order, to compare two derivations. */
export function parityHash(objects: Iterable<{ type: string; sid: string; version: number; data: unknown }>): string {
  const rows = [...objects].map((o) => `${o.type}\0${o.sid}\0${o.version}\0${JSON.stringify(o.data)}`).sort();
  const hash = createHash('sha256');
  for (const row of rows) hash.update(row).update('\n');
  return hash.digest('hex');
}

/** The parity hash of a fold's live objects. */
export function foldParity(folded: FoldedLog): string {
  const live: FoldedObject[] = [];
  for (const object of folded.objects.values()) if (object.data !== null) live.push(object);
  return parityHash(live);
}
