import { randomBytes } from 'node:crypto';
import { Pool } from 'pg';

/**
 * The raw `pg` baselines of the PostgreSQL benchmark: the same rows in plain tables of a scratch schema
 * with nothing but parameterised statements (no checks, no positions in commit order, no projections
 * beyond one object row and one generated tsvector).
 */
export class RawPg {
  readonly schema = `bench_raw_${randomBytes(5).toString('hex')}`;
  readonly pool: Pool;
  private next = 0;

  constructor(url: string, poolSize: number) {
    this.pool = new Pool({ connectionString: url.replace(/[?&]schema=[^&]*/, ''), max: poolSize, allowExitOnIdle: true });
  }

  async create(): Promise<void> {
    const s = this.schema;
    await this.pool.query(`CREATE SCHEMA ${s};
      CREATE TABLE ${s}.events (position bigserial PRIMARY KEY, type text NOT NULL, sid text NOT NULL, version int NOT NULL, data text NOT NULL, UNIQUE (type, sid, version));
      CREATE TABLE ${s}.objects (id bigserial PRIMARY KEY, type text NOT NULL, sid text NOT NULL, data text NOT NULL, tsv tsvector, UNIQUE (type, sid));
      CREATE INDEX ON ${s}.objects USING gin (tsv);`);
  }

  /** One write: the event row and the object row (with its tsvector) in one transaction. */
  async write(type: string, doc: { title: string; body: string }): Promise<void> {
    const sid = `r${this.next++}`;
    const data = JSON.stringify({ sid, ...doc });
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(`INSERT INTO ${this.schema}.events (type, sid, version, data) VALUES ($1, $2, 1, $3)`, [type, sid, data]);
      await client.query(`INSERT INTO ${this.schema}.objects (type, sid, data, tsv) VALUES ($1, $2, $3, to_tsvector('simple', $4))`, [type, sid, data, `${doc.title} ${doc.body}`]);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  /** Load many objects fast (multi-row inserts), for the read baselines. */
  async load(type: string, docs: Array<{ sid: string; title: string; body: string }>): Promise<void> {
    for (let i = 0; i < docs.length; i += 1000) {
      const chunk = docs.slice(i, i + 1000);
      await this.pool.query(
        `INSERT INTO ${this.schema}.objects (type, sid, data, tsv) SELECT $1, s, d, to_tsvector('simple', t) FROM unnest($2::text[], $3::text[], $4::text[]) AS u(s, d, t)`,
        [type, chunk.map((d) => d.sid), chunk.map((d) => JSON.stringify(d)), chunk.map((d) => `${d.title} ${d.body}`)],
      );
    }
    await this.pool.query(`ANALYZE ${this.schema}.objects`);
  }

  async get(type: string, sid: string): Promise<unknown> {
    return (await this.pool.query(`SELECT data FROM ${this.schema}.objects WHERE type = $1 AND sid = $2`, [type, sid])).rows[0];
  }

  /**
   * The top 20 sids for one term, ranked as the store ranks (`ts_rank_cd(tsv, q, 1)` best first, ties by
   * id) at `offset`: the fastest of the raw forms scripts/pg-topk.ts compares (score every GIN match in a
   * subquery, then read the sids of the page). GIN gives no order, so every match is scored.
   */
  async find(type: string, term: string, offset = 0): Promise<string[]> {
    const s = this.schema;
    const result = await this.pool.query(
      `SELECT o.sid FROM (SELECT id, ts_rank_cd(tsv, $2::tsquery, 1) AS r FROM ${s}.objects WHERE type = $1 AND tsv @@ $2::tsquery ORDER BY r DESC, id LIMIT 20 OFFSET $3) t
       JOIN ${s}.objects o ON o.id = t.id ORDER BY t.r DESC, t.id`,
      [type, `'${term.replace(/'/g, "''")}'`, offset],
    );
    return result.rows.map((r) => r.sid as string);
  }

  async drop(): Promise<void> {
    await this.pool.query(`DROP SCHEMA IF EXISTS ${this.schema} CASCADE`).catch(() => undefined);
    await this.pool.end();
  }
}
