import type Database from 'better-sqlite3';
import type { StoredEvent } from '../../log/event';
import { indexedFields, type StoreSchema } from '../config';
import { parityHash, type FoldedObject } from '../fold';
import type { FullTextProjection } from './fulltext';
import { CURRENT_STATE, LIVE, indexValue, type TableNames } from './tables';

/**
 * The current-state projection: one `objects` row per live object plus its `object_index` rows.
 * Applied inline with each append (same transaction on the SQLite backend).
 */
export class CurrentStateProjection {
  private readonly s;

  constructor(
    private readonly db: Database.Database,
    private readonly schema: StoreSchema,
    private readonly fulltext: FullTextProjection,
    private readonly names: TableNames = LIVE,
  ) {
    const { objects, index } = names;
    this.s = {
      upsert: db.prepare(
        `INSERT INTO ${objects} (type, sid, data, version, position, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (type, sid) DO UPDATE SET data = excluded.data, version = excluded.version,
           position = excluded.position, updated_at = excluded.updated_at`,
      ),
      remove: db.prepare(`DELETE FROM ${objects} WHERE type = ? AND sid = ? RETURNING id`).pluck(),
      dropIndex: db.prepare(`DELETE FROM ${index} WHERE type = ? AND sid = ?`),
      addIndex: db.prepare(`INSERT OR IGNORE INTO ${index} (type, field, value, sid) VALUES (?, ?, ?, ?)`),
      checkpoint: db.prepare('SELECT position FROM projection_checkpoints WHERE name = ?').pluck(),
      saveCheckpoint: db.prepare(
        'INSERT INTO projection_checkpoints (name, position) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET position = excluded.position',
      ),
    };
  }

  /** Position of the last event applied. */
  position(): number {
    return (this.s.checkpoint.get(CURRENT_STATE) as number | undefined) ?? 0;
  }

  /** Apply committed events in order and advance the checkpoint; run inside the caller's transaction. */
  apply(events: readonly StoredEvent[]): void {
    for (const event of events) {
      if (event.kind === 'deleted' || event.kind === 'erased' || event.shredded) {
        this.remove(event.type, event.sid);
        continue;
      }
      const ms = Date.parse(event.ts);
      this.s.upsert.run(event.type, event.sid, JSON.stringify(event.data), event.version, event.position, ms, ms);
      this.writeIndex(event.type, event.sid, event.data);
    }
    if (events.length > 0) this.s.saveCheckpoint.run(CURRENT_STATE, events[events.length - 1].position);
  }

  /** Write a folded object (rebuilds); returns its row id, or undefined when it is deleted. */
  writeFolded(object: FoldedObject): number | undefined {
    if (object.data === null) return undefined;
    const info = this.s.upsert.run(
      object.type, object.sid, object.json ?? JSON.stringify(object.data), object.version, object.position, object.createdAt, object.updatedAt,
    );
    this.writeIndex(object.type, object.sid, object.data);
    return Number(info.lastInsertRowid);
  }

  /** The parity hash of every object in these tables (see `parityHash`). */
  parity(): string {
    const rows = this.db.prepare(`SELECT type, sid, version, data FROM ${this.names.objects}`).raw().iterate() as Iterable<[string, string, number, string]>;
    return parityHash(mapRows(rows, ([type, sid, version, json]) => ({ type, sid, version, data: null, json })));
  }

  /** Set the checkpoint (inside the caller's transaction). */
  setPosition(position: number): void {
    this.s.saveCheckpoint.run(CURRENT_STATE, position);
  }

  /** Re-derive every `object_index` row from `objects` (after the declared index fields changed). */
  reindex(): void {
    this.db.prepare(`DELETE FROM ${this.names.index}`).run();
    const page = this.db.prepare(`SELECT id, type, sid, data FROM ${this.names.objects} WHERE id > ? ORDER BY id LIMIT 5000`);
    for (let after = 0; ; ) {
      const rows = page.all(after) as { id: number; type: string; sid: string; data: string }[];
      for (const row of rows) {
        if (indexedFields(this.schema, row.type).length > 0) this.writeIndex(row.type, row.sid, JSON.parse(row.data), false);
      }
      if (rows.length < 5000) return;
      after = rows[rows.length - 1].id;
    }
  }

  private remove(type: string, sid: string): void {
    const id = this.s.remove.get(type, sid) as number | undefined;
    this.s.dropIndex.run(type, sid);
    if (id !== undefined) this.fulltext.remove(type, id);
  }

  private writeIndex(type: string, sid: string, data: Record<string, unknown>, clear = true): void {
    const fields = indexedFields(this.schema, type);
    if (fields.length === 0) return;
    if (clear) this.s.dropIndex.run(type, sid);
    for (const field of fields) {
      const value = Object.prototype.hasOwnProperty.call(data, field) ? indexValue(data[field]) : undefined;
      if (value !== undefined) this.s.addIndex.run(type, field, value, sid);
    }
  }
}

function* mapRows<R, T>(rows: Iterable<R>, fn: (row: R) => T): Generator<T> {
  for (const row of rows) yield fn(row);
}
