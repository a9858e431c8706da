/** The event model shared by every backend. */

/**
 * `erased` ends an object's life like `deleted`, and also marks its whole history as crypto-shredded:
 * the personal values of its earlier events can no longer be decrypted (see `src/log/personal/`).
 */
export type EventKind = 'created' | 'updated' | 'deleted' | 'erased';

/** A flat JSON object as stored; `sid` is always present on created/updated data. */
export type ObjectData = Record<string, unknown>;

/** Who and why: carried alongside the data, never interpreted by the log. */
export interface EventMetadata {
  actor?: string;
  correlationId?: string;
  causationId?: string;
  idempotencyKey?: string;
  [key: string]: unknown;
}

/**
 * Expected version of an object before an event is appended:
 * a number (exact current version of an existing object; 0 means the object never existed),
 * `'any'`, `'no_stream'` (the object does not currently exist: never created, or deleted) or
 * `'exists'` (the object currently exists).
 */
export type ExpectedVersion = number | 'any' | 'no_stream' | 'exists';

/** An event as proposed by a writer. The log assigns id, version, position and timestamp. */
export interface ProposedEvent {
  type: string;
  sid: string;
  kind: EventKind;
  /** Full object state after the event (created/updated); `{}` for deleted. */
  data: ObjectData;
  expectedVersion?: ExpectedVersion;
  meta?: EventMetadata;
}

/** An event as committed to the log. */
export interface StoredEvent {
  /** Global log position: 1-based, follows commit order, never reused. */
  position: number;
  /** ULID from a monotonic factory. */
  id: string;
  type: string;
  sid: string;
  kind: EventKind;
  /** Per-object version: 1 on first create, +1 per event of that object. */
  version: number;
  /** Commit time, ISO 8601. */
  ts: string;
  data: ObjectData;
  meta?: EventMetadata;
  /**
   * Set by the personal-data layer on read: this event belongs to a history that was erased later
   * (its personal values are gone). Folds and projections treat such an event as the object's absence,
   * so an erased object is erased at every point in time. Never stored.
   */
  shredded?: true;
}

/**
 * A committed event with its data still in the stored text: what bulk readers (rebuilds) fold
 * without decoding every event. Metadata and the event id are left out.
 */
export interface EncodedEvent {
  position: number;
  type: string;
  sid: string;
  kind: EventKind;
  version: number;
  /** Commit time, ms since the epoch. */
  ts: number;
  /** The event's data as the log stores it: `JSON.stringify` text, or what `EventLog.decodeEncodedData` decodes. */
  data: string;
  /** See `StoredEvent.shredded`. */
  shredded?: true;
}

/** The state of one object's stream as the log sees it. */
export interface StreamState {
  /** Version of the last event, 0 when the stream is empty. */
  version: number;
  /** True when the last event is not a deletion. */
  exists: boolean;
  /** True when the last event is `erased` (the object cannot be erased again). */
  erased?: boolean;
}
