import { CorruptError } from './errors';
import type { EventKind, StoredEvent } from './event';

/**
 * Decode event rows read as arrays in the order `position, id, type, sid, kind, version, ts, data, meta`
 * (`ts` in ms since the epoch, `data` and `meta` as JSON text), as the SQL backends (sqlite, postgres)
 * select them: the catch-up fast path. Avoids a row object per event and formats each distinct commit
 * time once (a batch shares few timestamps). A row whose JSON cannot be decoded is CORRUPT, naming its position.
 */
export function decodeRawRows(rows: unknown[][]): StoredEvent[] {
  const out = new Array<StoredEvent>(rows.length);
  let lastMs = Number.NaN;
  let lastIso = '';
  let i = 0;
  try {
    for (; i < rows.length; i++) {
      const row = rows[i];
      const ms = row[6] as number;
      if (ms !== lastMs) {
        lastMs = ms;
        lastIso = new Date(ms).toISOString();
      }
      const event: StoredEvent = {
        position: row[0] as number,
        id: row[1] as string,
        type: row[2] as string,
        sid: row[3] as string,
        kind: row[4] as EventKind,
        version: row[5] as number,
        ts: lastIso,
        data: JSON.parse(row[7] as string),
      };
      if (row[8] !== null) event.meta = JSON.parse(row[8] as string);
      out[i] = event;
    }
  } catch (error) {
    throw unreadableRow(rows[i][0] as number, error);
  }
  return out;
}

/** A stored event row whose JSON cannot be decoded: CORRUPT, naming its position. */
export function unreadableRow(position: number, cause: unknown): CorruptError {
  return new CorruptError(`events row at position ${position}: data or meta is not valid JSON`, { cause, details: { position } });
}
