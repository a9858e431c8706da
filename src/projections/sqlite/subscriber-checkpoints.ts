import type Database from 'better-sqlite3';
import type { SubscriberCheckpoint, SubscriberKind } from '../projection-store';
export type { SubscriberCheckpoint, SubscriberKind } from '../projection-store';

/** Table of named subscribers' checkpoints; it lives beside the projections and no rebuild touches it. */
export const SUBSCRIBER_CHECKPOINTS = `
CREATE TABLE IF NOT EXISTS subscriber_checkpoints (
  name       TEXT    PRIMARY KEY,
  kind       TEXT    NOT NULL CHECK (kind IN ('subscriber', 'projection')),
  position   INTEGER NOT NULL CHECK (position >= 0),
  updated_at INTEGER NOT NULL
) WITHOUT ROWID;
`;

/** Every checkpoint, read without creating the table (an empty list when no subscriber ever ran). */
export function listCheckpoints(db: Database.Database): SubscriberCheckpoint[] {
  const exists = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'subscriber_checkpoints'").get();
  if (!exists) return [];
  return db.prepare('SELECT name, kind, position, updated_at AS updatedAt FROM subscriber_checkpoints ORDER BY name').all() as SubscriberCheckpoint[];
}

/** Reads and writes `subscriber_checkpoints` in the projection database (in the caller's transaction, if any). */
export class SubscriberCheckpoints {
  private readonly s;

  constructor(readonly db: Database.Database) {
    db.exec(SUBSCRIBER_CHECKPOINTS);
    this.s = {
      get: db.prepare('SELECT name, kind, position, updated_at AS updatedAt FROM subscriber_checkpoints WHERE name = ?'),
      save: db.prepare(
        `INSERT INTO subscriber_checkpoints (name, kind, position, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at
         WHERE excluded.position > subscriber_checkpoints.position`,
      ),
    };
  }

  get(name: string): SubscriberCheckpoint | undefined {
    return this.s.get.get(name) as SubscriberCheckpoint | undefined;
  }

  /** Move the checkpoint forward (never back) to `position`. */
  save(name: string, kind: SubscriberKind, position: number): void {
    this.s.save.run(name, kind, position, Date.now());
  }
}
