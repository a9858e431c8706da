import type Database from 'better-sqlite3';
import { endsLife, streamStateOf, uniqueClaims } from '../../log/append-rules';
import { CorruptError, InvalidInputError } from '../../log/errors';
import type { StreamState } from '../../log/event';
import type { UniqueSpec } from '../../log/event-log';
import type { ScannedRecord } from './segment-scan';

/**
 * The file log's index in the sidecar database. It is derived from the segments and can always be
 * rebuilt from them: per event its stream, version and frame location (so reading one object's events
 * or seeking to a position is one lookup), the unique-key holders, the idempotency keys, and a
 * checkpoint saying how far into the log it reaches.
 */
export const LOG_INDEX_SCHEMA = `
CREATE TABLE IF NOT EXISTS log_events (
  position INTEGER PRIMARY KEY,
  type     TEXT    NOT NULL,
  sid      TEXT    NOT NULL,
  version  INTEGER NOT NULL,
  kind     TEXT    NOT NULL,
  segment  INTEGER NOT NULL,
  offset   INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS log_events_by_stream ON log_events (type, sid, version);
CREATE TABLE IF NOT EXISTS log_unique (
  type  TEXT NOT NULL,
  field TEXT NOT NULL,
  key   TEXT NOT NULL,
  sid   TEXT NOT NULL,
  PRIMARY KEY (type, field, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS log_unique_by_sid ON log_unique (type, sid);
CREATE TABLE IF NOT EXISTS log_idempotency (
  key            TEXT PRIMARY KEY,
  first_position INTEGER NOT NULL,
  last_position  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS log_state (
  id           INTEGER PRIMARY KEY CHECK (id = 1),
  store_id     TEXT    NOT NULL,
  position     INTEGER NOT NULL,
  segment      INTEGER NOT NULL,
  end_offset   INTEGER NOT NULL,
  last_segment INTEGER NOT NULL,
  last_offset  INTEGER NOT NULL,
  last_crc     INTEGER NOT NULL,
  unique_spec  TEXT    NOT NULL
);
`;

/** How far the index reaches: the end of the last indexed append, and that append's last frame. */
export interface Checkpoint {
  position: number;
  /** Segment holding the next frame to index, and the offset where it starts. */
  segment: number;
  endOffset: number;
  /** The last indexed frame (position `position`), to check the index against the log; -1 when none. */
  lastSegment: number;
  lastOffset: number;
  lastCrc: number;
}

/** Location of one event's frame. */
export interface FrameLocation {
  position: number;
  segment: number;
  offset: number;
}

/** An append to index: its segment and records, in order. */
export interface IndexedAppend {
  segment: number;
  records: readonly ScannedRecord[];
}

export class LogIndex {
  private readonly s;

  constructor(private readonly db: Database.Database, private readonly unique: UniqueSpec) {
    db.exec(LOG_INDEX_SCHEMA);
    this.s = {
      state: db.prepare('SELECT * FROM log_state WHERE id = 1'),
      saveState: db.prepare(
        `INSERT INTO log_state (id, store_id, position, segment, end_offset, last_segment, last_offset, last_crc, unique_spec)
         VALUES (1, @storeId, @position, @segment, @endOffset, @lastSegment, @lastOffset, @lastCrc, @uniqueSpec)
         ON CONFLICT (id) DO UPDATE SET store_id = excluded.store_id, position = excluded.position, segment = excluded.segment,
           end_offset = excluded.end_offset, last_segment = excluded.last_segment, last_offset = excluded.last_offset,
           last_crc = excluded.last_crc, unique_spec = excluded.unique_spec`,
      ),
      insertEvent: db.prepare('INSERT INTO log_events (position, type, sid, version, kind, segment, offset) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      streamHead: db.prepare('SELECT version, kind FROM log_events WHERE type = ? AND sid = ? ORDER BY version DESC LIMIT 1'),
      stream: db.prepare('SELECT position, segment, offset FROM log_events WHERE type = ? AND sid = ? ORDER BY version'),
      locate: db.prepare('SELECT position, segment, offset FROM log_events WHERE position = ?'),
      range: db.prepare('SELECT position, segment, offset FROM log_events WHERE position BETWEEN ? AND ? ORDER BY position'),
      holder: db.prepare('SELECT sid FROM log_unique WHERE type = ? AND field = ? AND key = ?').pluck(),
      claimsOf: db.prepare('SELECT field, key FROM log_unique WHERE type = ? AND sid = ?'),
      release: db.prepare('DELETE FROM log_unique WHERE type = ? AND sid = ?'),
      claim: db.prepare('INSERT OR REPLACE INTO log_unique (type, field, key, sid) VALUES (?, ?, ?, ?)'),
      idempotent: db.prepare('SELECT first_position AS first, last_position AS last FROM log_idempotency WHERE key = ?'),
      saveKey: db.prepare(
        `INSERT INTO log_idempotency (key, first_position, last_position) VALUES (?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET last_position = excluded.last_position
         WHERE log_idempotency.last_position = excluded.first_position - 1`,
      ),
    };
  }

  /** The stored checkpoint and the store it belongs to, or undefined for a fresh sidecar. */
  state(): (Checkpoint & { storeId: string; uniqueSpec: string }) | undefined {
    const row = this.s.state.get() as
      | { store_id: string; position: number; segment: number; end_offset: number; last_segment: number; last_offset: number; last_crc: number; unique_spec: string }
      | undefined;
    if (!row) return undefined;
    return {
      storeId: row.store_id,
      uniqueSpec: row.unique_spec,
      position: row.position,
      segment: row.segment,
      endOffset: row.end_offset,
      lastSegment: row.last_segment,
      lastOffset: row.last_offset,
      lastCrc: row.last_crc,
    };
  }

  /** Save the checkpoint (inside the caller's transaction). */
  saveState(storeId: string, checkpoint: Checkpoint, uniqueSpec: string): void {
    this.s.saveState.run({ storeId, uniqueSpec, ...checkpoint });
  }

  /** Drop every indexed row (the checkpoint is saved by the caller). */
  clear(): void {
    this.db.exec('DELETE FROM log_events; DELETE FROM log_unique; DELETE FROM log_idempotency;');
  }

  /** Index complete appends in log order (inside the caller's transaction). */
  apply(appends: readonly IndexedAppend[]): void {
    for (const append of appends) {
      for (const record of append.records) {
        const e = record.event;
        try {
          this.s.insertEvent.run(e.position, e.type, e.sid, e.version, e.kind, append.segment, record.offset);
        } catch (error) {
          const code = (error as { code?: string }).code ?? '';
          if (!code.startsWith('SQLITE_CONSTRAINT')) throw error;
          throw new CorruptError(`the log holds two events for ${e.type}/${e.sid} version ${e.version} (again at position ${e.position})`, {
            cause: error,
            details: { position: e.position },
          });
        }
        this.applyClaims(e.type, e.sid, endsLife(e.kind) ? undefined : e.data);
        if (record.idempotencyKey !== undefined) this.s.saveKey.run(record.idempotencyKey, e.position, e.position);
      }
    }
  }

  private applyClaims(type: string, sid: string, data: Record<string, unknown> | undefined): void {
    const fields = this.unique[type];
    if (!fields || fields.length === 0) return;
    this.s.release.run(type, sid);
    if (!data) return;
    for (const claim of uniqueClaims(this.unique, type, data)) this.s.claim.run(type, claim.field, claim.key, sid);
  }

  streamState(type: string, sid: string): StreamState {
    const row = this.s.streamHead.get(type, sid) as { version: number; kind: string } | undefined;
    return row ? streamStateOf(row) : { version: 0, exists: false };
  }

  streamLocations(type: string, sid: string): FrameLocation[] {
    return this.s.stream.all(type, sid) as FrameLocation[];
  }

  locate(position: number): FrameLocation | undefined {
    return this.s.locate.get(position) as FrameLocation | undefined;
  }

  rangeLocations(first: number, last: number): FrameLocation[] {
    return this.s.range.all(first, last) as FrameLocation[];
  }

  /** Locations of events of `types` from `from`, at most `limit`. */
  typedLocations(from: number, types: readonly string[], limit: number): FrameLocation[] {
    const marks = types.map(() => '?').join(', ');
    return this.db
      .prepare(`SELECT position, segment, offset FROM log_events WHERE position >= ? AND type IN (${marks}) ORDER BY position LIMIT ?`)
      .all(from, ...types, limit) as FrameLocation[];
  }

  uniqueHolder(type: string, field: string, key: string): string | undefined {
    return this.s.holder.get(type, field, key) as string | undefined;
  }

  claimsOf(type: string, sid: string): { field: string; key: string }[] {
    return this.s.claimsOf.all(type, sid) as { field: string; key: string }[];
  }

  idempotent(key: string): { first: number; last: number } | undefined {
    return this.s.idempotent.get(key) as { first: number; last: number } | undefined;
  }

  /** Frame locations of the latest event of every live object of `types` (to rebuild unique claims). */
  latestLive(types: readonly string[]): FrameLocation[] {
    if (types.length === 0) return [];
    const marks = types.map(() => '?').join(', ');
    return this.db
      .prepare(
        `SELECT e.position, e.segment, e.offset FROM log_events e
           JOIN (SELECT type, sid, max(version) AS v FROM log_events WHERE type IN (${marks}) GROUP BY type, sid) m
             ON e.type = m.type AND e.sid = m.sid AND e.version = m.v
          WHERE e.kind NOT IN ('deleted', 'erased') ORDER BY e.position`,
      )
      .all(...types) as FrameLocation[];
  }

  /**
   * Re-derive every unique claim from the latest event of each live object (inside the caller's
   * transaction). A value held by two objects is an error that names both.
   */
  rebuildClaims(latest: Iterable<{ type: string; sid: string; data: Record<string, unknown> }>): void {
    this.db.exec('DELETE FROM log_unique');
    for (const e of latest) {
      for (const claim of uniqueClaims(this.unique, e.type, e.data)) {
        const held = this.uniqueHolder(e.type, claim.field, claim.key);
        if (held !== undefined && held !== e.sid) {
          throw new InvalidInputError(
            `cannot declare ${e.type}.${claim.field} unique: ${JSON.stringify(claim.value)} is held by both ${held} and ${e.sid}`,
          );
        }
        this.s.claim.run(e.type, claim.field, claim.key, e.sid);
      }
    }
  }
}
