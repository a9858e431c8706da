import type { StoredEvent } from '../../log/event';
import { unreadableRow } from '../../log/raw-events';
import type { EventRow } from './log-schema';

/** Decode one `events` row. */
export function rowToEvent(row: EventRow): StoredEvent {
  try {
    return decodeRow(row);
  } catch (error) {
    throw unreadableRow(row.position, error);
  }
}

function decodeRow(row: EventRow): StoredEvent {
  const event: StoredEvent = {
    position: row.position,
    id: row.id,
    type: row.type,
    sid: row.sid,
    kind: row.kind,
    version: row.version,
    ts: new Date(row.ts).toISOString(),
    data: JSON.parse(row.data),
  };
  if (row.meta !== null) event.meta = JSON.parse(row.meta);
  return event;
}
