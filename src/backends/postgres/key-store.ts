import { randomBytes } from 'node:crypto';
import type { Pool } from 'pg';
import { mergePersonal, newDataKeys, type DataKey, type ErasedValue, type Erasure, type KeyStore, type PendingErasure } from '../../log/personal';
import { createPool, inTransaction, type TransactionContext } from './connection';
import { wrapPgError } from './pg-errors';
import { quoteIdent, type Queryable } from './sql';
import { parsePostgresUrl, type PostgresTarget } from './url';
import { vacuumFull } from './vacuum';

/** Most keys kept in memory; past it, the least recently loaded are dropped (and read again when needed). */
const MAX_CACHED_KEYS = 100_000;
/** Connections of the key store's own pool: key writes are rare (a batch of keys, an erasure). */
const POOL_SIZE = 2;

/** The key store's tables, schema-qualified and quoted. */
interface KeyTables {
  schema: string;
  keys: string;
  epoch: string;
  meta: string;
  erasing: string;
  erased: string;
  values: string;
}

function keyTables(schema: string): KeyTables {
  const q = (table: string) => `${quoteIdent(schema)}.${quoteIdent(table)}`;
  return {
    schema,
    keys: q('osis_keys'),
    epoch: q('osis_key_epoch'),
    meta: q('osis_key_meta'),
    erasing: q('osis_erasing'),
    erased: q('osis_erased'),
    values: q('osis_erased_values'),
  };
}

function ddl(t: KeyTables): string {
  return `
CREATE SCHEMA IF NOT EXISTS ${quoteIdent(t.schema)};
CREATE TABLE IF NOT EXISTS ${t.keys} (id text PRIMARY KEY, key bytea NOT NULL);
CREATE TABLE IF NOT EXISTS ${t.epoch} (id smallint PRIMARY KEY CHECK (id = 1), epoch bigint NOT NULL);
INSERT INTO ${t.epoch} (id, epoch) VALUES (1, 0) ON CONFLICT (id) DO NOTHING;
CREATE TABLE IF NOT EXISTS ${t.meta} (name text PRIMARY KEY, value text NOT NULL);
CREATE TABLE IF NOT EXISTS ${t.erasing} (
  type text NOT NULL, sid text NOT NULL, stage text NOT NULL CHECK (stage IN ('keys', 'purge')), PRIMARY KEY (type, sid)
);
CREATE TABLE IF NOT EXISTS ${t.erased} (type text NOT NULL, sid text NOT NULL, position bigint NOT NULL, PRIMARY KEY (type, sid, position));
CREATE TABLE IF NOT EXISTS ${t.values} (
  type text NOT NULL, sid text NOT NULL, len integer NOT NULL, rolling bigint NOT NULL, mac text NOT NULL,
  PRIMARY KEY (type, sid, len, mac)
);`;
}

/**
 * Data keys in PostgreSQL tables (`osis_keys` and friends): by default in the store's own schema, so
 * every host of the store shares them; or in the database and schema of another `postgres://` URL (the
 * `keys` option), so backups of the store's schema need not carry keys.
 *
 * `key(id)` is synchronous (events are opened inside append transactions), so it answers from a cache:
 * the keys this object created, and those `load` fetched (one query per batch of events). Destroyed keys
 * leave the cache when `epoch()` — one read of the `osis_key_epoch` row, done once per read or append
 * batch by the shredder — sees another erasure: the cached ids are checked against the table then.
 * Key batches commit with `synchronous_commit = on` before an event sealed with them is appended.
 */
export class PgKeyStore implements KeyStore {
  readonly preloads = true;
  private readonly cache = new Map<string, Buffer>();
  private cachedEpoch = -1;
  private verification: Buffer | undefined;
  private readonly tx: TransactionContext;
  private closed = false;

  private constructor(private readonly pool: Pool, private readonly t: KeyTables, readonly location: string) {
    this.tx = { pool, durability: 'full', display: location, retryForMs: 30_000 };
  }

  /**
   * Open the key tables at `url` (a `postgres://` URL; its `?schema=` names the schema). `create`: make
   * them when missing; otherwise undefined when there is no key table (a store without personal data).
   */
  static async open(url: string, create: boolean): Promise<PgKeyStore | undefined> {
    const target: PostgresTarget = parsePostgresUrl(url);
    const location = `${target.display}${target.display.includes('schema=') ? '' : ` (schema ${target.schema})`}`;
    const pool = createPool(target, { poolSize: POOL_SIZE });
    const t = keyTables(target.schema);
    try {
      if (!create) {
        const found = await pool.query<{ ok: boolean }>('SELECT to_regclass($1) IS NOT NULL AS ok', [t.keys]).catch((error: unknown) => {
          throw wrapPgError(error, 'cannot open the key store', target.display);
        });
        if (!found.rows[0].ok) {
          await pool.end();
          return undefined;
        }
      }
      const store = new PgKeyStore(pool, t, location);
      await inTransaction(store.tx, 'cannot open the key store', async (client) => {
        await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`osis-store keys ddl:${t.schema}`]);
        await client.query(ddl(t));
      });
      return store;
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw error;
    }
  }

  key(id: string): Buffer | undefined {
    return this.cache.get(id);
  }

  async load(ids: Iterable<string>): Promise<void> {
    const missing = new Set<string>();
    for (const id of ids) if (!this.cache.has(id)) missing.add(id);
    if (missing.size === 0) return;
    const rows = await this.read(() => this.pool.query<{ id: string; key: Buffer }>(`SELECT id, key FROM ${this.t.keys} WHERE id = ANY($1::text[])`, [[...missing]]));
    this.remember(rows.rows.map((r) => [r.id, r.key]));
  }

  /** Add keys to the cache, dropping the oldest entries past its bound (never the ones added now). */
  private remember(entries: ReadonlyArray<readonly [string, Buffer]>): void {
    let excess = this.cache.size + entries.length - MAX_CACHED_KEYS;
    for (const id of this.cache.keys()) {
      if (excess-- <= 0) break;
      this.cache.delete(id);
    }
    for (const [id, key] of entries) this.cache.set(id, key);
  }

  async createKeys(count: number): Promise<DataKey[]> {
    const created = newDataKeys(count);
    await inTransaction(this.tx, 'cannot create data keys', (client) =>
      client.query(`INSERT INTO ${this.t.keys} (id, key) SELECT * FROM unnest($1::text[], $2::bytea[])`, [created.map((k) => k.id), created.map((k) => k.key)]),
    );
    this.remember(created.map((k) => [k.id, k.key]));
    return created;
  }

  /** The epoch row; when it moved, cached keys destroyed meanwhile (by any host) are dropped. */
  async epoch(): Promise<number> {
    const result = await this.read(() => this.pool.query<{ epoch: number }>(`SELECT epoch FROM ${this.t.epoch} WHERE id = 1`));
    const epoch = result.rows[0]?.epoch ?? 0;
    if (epoch !== this.cachedEpoch) {
      const cached = [...this.cache.keys()];
      if (cached.length > 0) {
        const live = await this.read(() => this.pool.query<{ id: string }>(`SELECT id FROM ${this.t.keys} WHERE id = ANY($1::text[])`, [cached]));
        const kept = new Set(live.rows.map((r) => r.id));
        for (const id of cached) if (!kept.has(id)) this.cache.delete(id);
      }
      this.cachedEpoch = epoch;
    }
    return epoch;
  }

  async beginErasure(type: string, sid: string): Promise<void> {
    await this.write('cannot record the erasure', (c) => c.query(`INSERT INTO ${this.t.erasing} (type, sid, stage) VALUES ($1, $2, 'keys') ON CONFLICT DO NOTHING`, [type, sid]));
  }

  async cancelErasure(type: string, sid: string): Promise<void> {
    await this.write('cannot cancel the erasure', (c) => c.query(`DELETE FROM ${this.t.erasing} WHERE type = $1 AND sid = $2 AND stage = 'keys'`, [type, sid]));
  }

  async pendingErasures(): Promise<PendingErasure[]> {
    return (await this.read(() => this.pool.query<PendingErasure>(`SELECT type, sid, stage FROM ${this.t.erasing} ORDER BY type, sid`))).rows;
  }

  async purged(type: string, sid: string): Promise<void> {
    await this.write('cannot finish the erasure', (c) => c.query(`DELETE FROM ${this.t.erasing} WHERE type = $1 AND sid = $2`, [type, sid]));
  }

  async finishErasure(erasure: Erasure): Promise<void> {
    const t = this.t;
    const v = erasure.values;
    const epoch = await this.write('cannot destroy the keys', async (c) => {
      await c.query(`DELETE FROM ${t.keys} WHERE id = ANY($1::text[])`, [[...erasure.keyIds]]);
      if (v.length > 0) {
        await c.query(
          `INSERT INTO ${t.values} (type, sid, len, rolling, mac) SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::bigint[], $5::text[]) ON CONFLICT DO NOTHING`,
          [v.map((x) => x.type), v.map((x) => x.sid), v.map((x) => x.len), v.map((x) => x.rolling), v.map((x) => x.mac)],
        );
      }
      await c.query(`INSERT INTO ${t.erased} (type, sid, position) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, [erasure.type, erasure.sid, erasure.position]);
      await c.query(
        `INSERT INTO ${t.erasing} (type, sid, stage) VALUES ($1, $2, 'purge') ON CONFLICT (type, sid) DO UPDATE SET stage = 'purge'`,
        [erasure.type, erasure.sid],
      );
      return (await c.query<{ epoch: number }>(`UPDATE ${t.epoch} SET epoch = epoch + 1 WHERE id = 1 RETURNING epoch`)).rows[0].epoch;
    });
    for (const id of erasure.keyIds) this.cache.get(id)?.fill(0);
    for (const id of erasure.keyIds) this.cache.delete(id);
    // Only our own step: if another host's erasure came between, the next epoch() still checks the cache.
    if (epoch === this.cachedEpoch + 1) this.cachedEpoch = epoch;
  }

  async erasures(): Promise<Map<string, number>> {
    const rows = await this.read(() =>
      this.pool.query<{ type: string; sid: string; position: number }>(`SELECT type, sid, max(position) AS position FROM ${this.t.erased} GROUP BY type, sid`),
    );
    return new Map(rows.rows.map((r) => [`${r.type}\0${r.sid}`, r.position]));
  }

  async personalFields(declared: Readonly<Record<string, readonly string[]>>): Promise<Record<string, readonly string[]>> {
    return this.write('cannot save the personal fields', async (c) => {
      await c.query(`INSERT INTO ${this.t.meta} (name, value) VALUES ('personal', '{}') ON CONFLICT (name) DO NOTHING`);
      const saved = (await c.query<{ value: string }>(`SELECT value FROM ${this.t.meta} WHERE name = 'personal' FOR UPDATE`)).rows[0].value;
      const merged = mergePersonal(JSON.parse(saved) as Record<string, string[]>, declared);
      const text = JSON.stringify(merged);
      if (text !== saved) await c.query(`UPDATE ${this.t.meta} SET value = $1 WHERE name = 'personal'`, [text]);
      return merged;
    });
  }

  async verificationKey(): Promise<Buffer> {
    if (this.verification) return this.verification;
    const hex = await this.write('cannot read the verification key', async (c) => {
      await c.query(`INSERT INTO ${this.t.meta} (name, value) VALUES ('verification', $1) ON CONFLICT (name) DO NOTHING`, [randomBytes(32).toString('hex')]);
      return (await c.query<{ value: string }>(`SELECT value FROM ${this.t.meta} WHERE name = 'verification'`)).rows[0].value;
    });
    this.verification = Buffer.from(hex, 'hex');
    return this.verification;
  }

  async erasedValues(): Promise<ErasedValue[]> {
    return (await this.read(() => this.pool.query<ErasedValue>(`SELECT type, sid, len, rolling, mac FROM ${this.t.values}`))).rows;
  }

  /** On a server: no local file. */
  files(): string[] {
    return [];
  }

  /**
   * Rewrite `osis_keys` (VACUUM FULL): a deleted key row stays in the table file as a dead tuple until
   * its page is rewritten; the rewrite leaves only live keys in a new file (the old one is truncated).
   */
  async checkpoint(): Promise<void> {
    await vacuumFull(this.pool, [this.t.keys], this.location);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.cache.clear();
    await this.pool.end();
  }

  private async read<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw wrapPgError(error, 'key store read failed', this.location);
    }
  }

  private write<T>(what: string, work: (client: Queryable) => Promise<T>): Promise<T> {
    return inTransaction(this.tx, what, work);
  }
}
