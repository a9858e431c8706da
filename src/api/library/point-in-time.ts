import { InvalidInputError } from '../../log/errors';
import type { StoredEvent } from '../../log/event';
import { foldEvents, type FoldedObject } from '../../projections/fold';
import type { ObjectRecord } from '../../projections/sqlite/queries';

/** A log position (>= 0), a Date, or an ISO 8601 time. */
export type PointInTime = number | Date | string;

/** Parse a point in time, as given to `at` or `--at`. */
export function parsePointInTime(at: PointInTime): { position: number } | { time: number } {
  if (typeof at === 'number') {
    if (!Number.isInteger(at) || at < 0) throw new InvalidInputError(`at: a position must be an integer >= 0, got ${at}`);
    return { position: at };
  }
  if (at instanceof Date) {
    if (Number.isNaN(at.getTime())) throw new InvalidInputError('at: invalid Date');
    return { time: at.getTime() };
  }
  if (typeof at === 'string') {
    if (/^\d+$/.test(at)) return { position: Number(at) };
    const time = Date.parse(at);
    if (/^\d{4}-\d{2}-\d{2}/.test(at) && !Number.isNaN(time)) return { time };
  }
  throw new InvalidInputError(`at: expected a log position or an ISO 8601 time, got ${JSON.stringify(at)}`);
}

/** The object's record as it was at `at`, from its events, or undefined when it did not exist then. */
export function resolveAt(events: readonly StoredEvent[], at: PointInTime): ObjectRecord | undefined {
  const point = parsePointInTime(at);
  const upTo = events.filter((e) => ('position' in point ? e.position <= point.position : Date.parse(e.ts) <= point.time));
  const folded = new Map<string, FoldedObject>();
  foldEvents(folded, upTo);
  const object = [...folded.values()][0];
  if (!object || object.data === null) return undefined;
  return {
    object: object.data,
    version: object.version,
    position: object.position,
    created_at: new Date(object.createdAt).toISOString(),
    updated_at: new Date(object.updatedAt).toISOString(),
  };
}
