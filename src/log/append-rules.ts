import { UniqueViolationError, VersionConflictError, NotFoundError, InvalidInputError } from './errors';
import type { ExpectedVersion, ObjectData, ProposedEvent, StoredEvent, StreamState } from './event';
import { REVEAL, type UniqueSpec } from './event-log';

/**
 * The rules every backend applies to each proposed event, against the stream's state just before it.
 * Throws the typed error that rejects the append; returns the new stream state.
 */
export function applyAppendRules(event: ProposedEvent, state: StreamState): StreamState {
  checkExpectedVersion(event.type, event.sid, event.expectedVersion ?? 'any', state);
  if (event.kind === 'created') {
    if (state.exists) throw new VersionConflictError(event.type, event.sid, 'no_stream', state.version);
    return { version: state.version + 1, exists: true };
  }
  if (event.kind === 'updated' || event.kind === 'deleted') {
    if (!state.exists) throw new NotFoundError(`${event.type}/${event.sid} does not exist`, { type: event.type, sid: event.sid });
    return { version: state.version + 1, exists: event.kind === 'updated' };
  }
  if (event.kind === 'erased') {
    // A deleted object can still be erased (its history holds personal data); an erased one cannot.
    if (state.version === 0 || state.erased) {
      const why = state.erased ? 'is already erased' : 'does not exist';
      throw new NotFoundError(`${event.type}/${event.sid} ${why}`, { type: event.type, sid: event.sid });
    }
    return { version: state.version + 1, exists: false, erased: true };
  }
  throw new InvalidInputError(`unknown event kind ${JSON.stringify(event.kind)}`);
}

/** Throws VERSION_CONFLICT when `expected` does not hold for `state`. */
export function checkExpectedVersion(type: string, sid: string, expected: ExpectedVersion, state: StreamState): void {
  const actual = state.exists ? state.version : state.version === 0 ? 'no_stream' : 'deleted';
  if (expected === 'any') return;
  if (expected === 0 && state.version === 0) return;
  if (expected === 'no_stream' && !state.exists) return;
  if (expected === 'exists' && state.exists) return;
  if (typeof expected === 'number' && state.exists && state.version === expected) return;
  if (expected === 'exists' || (typeof expected === 'number' && expected > 0 && !state.exists)) {
    throw new NotFoundError(`${type}/${sid} does not exist`, { type, sid, expected });
  }
  throw new VersionConflictError(type, sid, expected, actual);
}

/** A unique claim: `type.field` holds `key` (the JSON encoding of the value). */
export interface UniqueClaim {
  field: string;
  key: string;
  value: unknown;
}

/** The stream state after an event of `kind` at `version`. */
export function streamStateOf(last: { version: number; kind: string }): StreamState {
  return last.kind === 'erased' ? { version: last.version, exists: false, erased: true } : { version: last.version, exists: last.kind !== 'deleted' };
}

/** True for the kinds that end an object's life (its unique claims are released). */
export function endsLife(kind: string): boolean {
  return kind === 'deleted' || kind === 'erased';
}

/**
 * The unique claims an object's data makes under `spec`; null/absent values claim nothing. Values of
 * personal fields are stored encrypted: the spec's `REVEAL` function (when set) turns a stored value back
 * into the plaintext the claim is made on (undefined when its key is gone: nothing is claimed).
 */
export function uniqueClaims(spec: UniqueSpec, type: string, data: ObjectData): UniqueClaim[] {
  const fields = spec[type];
  if (!fields || fields.length === 0) return [];
  const claims: UniqueClaim[] = [];
  const reveal = spec[REVEAL];
  for (const field of fields) {
    const stored = Object.prototype.hasOwnProperty.call(data, field) ? data[field] : undefined;
    const value = reveal && stored !== undefined && stored !== null ? reveal(field, stored) : stored;
    if (value === undefined || value === null) continue;
    claims.push({ field, key: JSON.stringify(value), value });
  }
  return claims;
}

/** The declared unique fields in a canonical form (sorted), to tell whether a backend's claim table matches the spec. */
export function uniqueSpecKey(spec: UniqueSpec): string {
  return JSON.stringify(
    Object.keys(spec)
      .sort()
      .map((t) => [t, [...spec[t]].sort()])
      .filter(([, fields]) => fields.length > 0),
  );
}

/** Raise the typed error for a claim held by another object. */
export function uniqueViolation(type: string, claim: UniqueClaim, heldBy: string): UniqueViolationError {
  return new UniqueViolationError(type, claim.field, claim.value, heldBy);
}

/**
 * Imported events: the consecutive events carrying the same `meta.idempotencyKey`, the first run per
 * key, which becomes that key's idempotent outcome in the destination log.
 */
export function idempotencyRuns(events: readonly StoredEvent[]): Map<string, StoredEvent[]> {
  const groups = new Map<string, StoredEvent[]>();
  let current: { key: string; events: StoredEvent[] } | undefined;
  for (const event of events) {
    const key = typeof event.meta?.idempotencyKey === 'string' ? event.meta.idempotencyKey : undefined;
    if (key !== undefined && current?.key === key) {
      current.events.push(event);
      continue;
    }
    current = key !== undefined && !groups.has(key) ? { key, events: [event] } : undefined;
    if (current) groups.set(key!, current.events);
  }
  return groups;
}

/**
 * The rules for one imported event (`EventLog.importEvents`): it must sit at `position` (the log's
 * next), carry a canonical timestamp, obey the append rules against `state`, and carry the version
 * they give. Throws INVALID_INPUT naming the event (`index` is 0-based); returns the new stream state.
 */
export function applyImportRules(event: StoredEvent, index: number, position: number, state: StreamState): StreamState {
  const where = `imported event ${index + 1} (position ${event.position})`;
  if (event.position !== position) throw new InvalidInputError(`${where}: imported events must continue the log at position ${position}`);
  if (!isCanonicalTimestamp(event.ts)) {
    throw new InvalidInputError(`${where}: ts must be an ISO 8601 UTC time with milliseconds, got ${JSON.stringify(event.ts)}`);
  }
  const after = applyAppendRules({ type: event.type, sid: event.sid, kind: event.kind, data: event.data }, state);
  if (after.version !== event.version) {
    throw new InvalidInputError(`${where}: ${event.type}/${event.sid} has version ${event.version} where the log expects ${after.version}`);
  }
  return after;
}

/** True for timestamps as the log writes them: ISO 8601 UTC with milliseconds (`Date#toISOString`). */
export function isCanonicalTimestamp(ts: unknown): ts is string {
  if (typeof ts !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(ts)) return false;
  const ms = Date.parse(ts);
  return !Number.isNaN(ms) && new Date(ms).toISOString() === ts;
}
