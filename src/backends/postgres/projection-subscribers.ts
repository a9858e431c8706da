import type { Pool } from 'pg';
import type { StoredEvent } from '../../log/event';
import type { ProjectionTransaction, SubscriberCheckpoint, SubscriberKind, UserProjectionHandler } from '../../projections/projection-store';
import type { ProjectionTables, Queryable } from './projection-schema';
import { transaction } from './projection-rebuild';
import type { PoolClient } from 'pg';
import { checkout } from './sql';

/**
 * A user projection's transaction on the PostgreSQL store: a `pg` client inside `BEGIN … COMMIT`, whose
 * `search_path` is the store's schema (unqualified table names land beside the projections), in the
 * transaction that also moves the projection's checkpoint. The handler may be async. Do not BEGIN,
 * COMMIT or ROLLBACK yourself; prefix your tables' names.
 */
export interface PostgresProjectionTransaction extends ProjectionTransaction {
  readonly kind: 'postgres';
  readonly client: PoolClient;
}

const COLUMNS = 'name, kind, position, updated_at';

function toCheckpoint(row: { name: string; kind: SubscriberKind; position: string | number; updated_at: string | number }): SubscriberCheckpoint {
  return { name: row.name, kind: row.kind, position: Number(row.position), updatedAt: Number(row.updated_at) };
}

/**
 * Named subscribers' and user projections' checkpoints in `subscriber_checkpoints`, shared by every host
 * of the store. A checkpoint only moves forward.
 */
export class PgSubscriberCheckpoints {
  constructor(private readonly pool: Pool, private readonly t: ProjectionTables) {}

  async get(name: string, db: Queryable = this.pool): Promise<SubscriberCheckpoint | undefined> {
    const result = await db.query(`SELECT ${COLUMNS} FROM ${this.t.subscribers} WHERE name = $1`, [name]);
    return result.rows.length === 0 ? undefined : toCheckpoint(result.rows[0]);
  }

  async list(): Promise<SubscriberCheckpoint[]> {
    const result = await this.pool.query(`SELECT ${COLUMNS} FROM ${this.t.subscribers} ORDER BY name`);
    return result.rows.map(toCheckpoint);
  }

  /** Move a checkpoint forward (never back), in the caller's transaction when `db` is one. */
  async save(name: string, kind: SubscriberKind, position: number, db: Queryable = this.pool): Promise<void> {
    await db.query(
      `INSERT INTO ${this.t.subscribers} AS s (name, kind, position, updated_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (name) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at WHERE excluded.position > s.position`,
      [name, kind, position, Date.now()],
    );
  }

  /**
   * Run a user projection over one batch, exactly once per store: in one transaction, make sure its
   * checkpoint row exists and lock it (`SELECT … FOR UPDATE`: another host running the same batch waits,
   * then sees the moved checkpoint and gets no events), hand `handler` the events past it, await it, and
   * move the checkpoint to `through`. A throw (or a rejected promise) rolls back the handler's writes
   * with the checkpoint. Returns the checkpoint after the call.
   */
  async project(name: string, events: readonly StoredEvent[], through: number, handler: UserProjectionHandler<PostgresProjectionTransaction>): Promise<number> {
    return this.inTransaction('BEGIN', async (client) => {
      await client.query(
        `INSERT INTO ${this.t.subscribers} (name, kind, position, updated_at) VALUES ($1, 'projection', 0, $2) ON CONFLICT (name) DO NOTHING`,
        [name, Date.now()],
      );
      const locked = await client.query(`SELECT position FROM ${this.t.subscribers} WHERE name = $1 FOR UPDATE`, [name]);
      const saved = Number(locked.rows[0].position);
      const fresh = events.filter((e) => e.position > saved);
      if (fresh.length > 0) await handler(fresh, { kind: 'postgres', name, client });
      if (through > saved) await this.save(name, 'projection', through, client);
      return Math.max(saved, through);
    });
  }

  /** Run `fn` in a READ ONLY transaction with the store's schema first on the search path. */
  read<T>(fn: (tx: PostgresProjectionTransaction) => T): Promise<T> {
    return this.inTransaction('BEGIN READ ONLY', async (client) => await fn({ kind: 'postgres', name: '', client }));
  }

  private async inTransaction<T>(begin: string, work: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await checkout(this.pool);
    try {
      return await transaction(
        client,
        async () => {
          await client.query(`SET LOCAL search_path TO ${this.t.schema}, public`);
          return work(client);
        },
        begin,
      );
    } finally {
      client.release();
    }
  }
}
