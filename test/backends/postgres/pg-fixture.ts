import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { PostgresEventLog, type PostgresLogOptions } from '../../../src/backends/postgres/postgres-log';
import type { PostgresProjectionTransaction } from '../../../src/backends/postgres/projection-store';
import type { BackendFixture } from '../../conformance/backends';
import type { LogFixture } from '../../conformance/event-log';
import type { ProjectionCaps } from '../../conformance/projection-store';

/**
 * The PostgreSQL server the PG suites run against: `OSIS_PG_URL`, or undefined when it is not set, in
 * which case the suites register no tests (they never count as passed) and one line says so.
 */
export function pgUrl(): string | undefined {
  const url = process.env.OSIS_PG_URL;
  if (url) return url;
  if (!announced) {
    announced = true;
    console.log(
      'PostgreSQL suites NOT RUN: OSIS_PG_URL is not set. Run them with OSIS_PG_URL=postgres://postgres@127.0.0.1:5432/postgres (PostgreSQL 15+ reachable there).',
    );
  }
  return undefined;
}
let announced = false;

/** `base` with `?schema=NAME` (any schema parameter it had replaced). */
export function withSchema(base: string, schema: string): string {
  const url = new URL(base);
  url.searchParams.set('schema', schema);
  return url.toString();
}

/** A new, unused schema name. */
export function freshSchemaName(): string {
  return `t_${randomBytes(6).toString('hex')}`;
}

/**
 * Fresh schemas for tests, each dropped by `dropAll()` (call it in an `after` hook). `sql` runs a
 * statement on a plain connection (setting up triggers, holding transactions open).
 */
export class PgSchemas {
  private readonly created: string[] = [];

  constructor(readonly base: string) {}

  /** A store URL on a new schema. */
  freshUrl(): string {
    const schema = freshSchemaName();
    this.created.push(schema);
    return withSchema(this.base, schema);
  }

  /** A connected plain client (the caller ends it). */
  async client(): Promise<Client> {
    const client = new Client({ connectionString: this.base });
    await client.connect();
    return client;
  }

  async sql(text: string, values: unknown[] = []): Promise<Array<Record<string, unknown>>> {
    const client = await this.client();
    try {
      return (await client.query(text, values)).rows;
    } finally {
      await client.end();
    }
  }

  async dropAll(): Promise<void> {
    const schemas = this.created.splice(0);
    if (schemas.length === 0) return;
    await this.sql(`DROP SCHEMA IF EXISTS ${schemas.map((s) => `"${s}"`).join(', ')} CASCADE`);
  }
}

/** The log suite's fixture: every log on its own fresh schema. */
export function postgresLogFixture(schemas: PgSchemas, options: PostgresLogOptions = {}): LogFixture {
  return {
    name: 'postgres',
    caps: { encodedReads: true },
    openLog: (unique) => PostgresEventLog.open(schemas.freshUrl(), { durability: 'normal', poolSize: 4, ...options, unique }),
  };
}

/** The PostgreSQL projection store's abilities for the projection suite: user tables through `tx.client`. */
export const postgresProjectionCaps: ProjectionCaps = {
  transaction: 'postgres',
  persistent: true,
  asyncHandlers: true,
  userTable: {
    create: async (tx, table) => void (await (tx as PostgresProjectionTransaction).client.query(`CREATE TABLE IF NOT EXISTS ${table} (position bigint)`)),
    insert: async (tx, table, position) => void (await (tx as PostgresProjectionTransaction).client.query(`INSERT INTO ${table} VALUES ($1)`, [position])),
    count: async (tx, table) => Number((await (tx as PostgresProjectionTransaction).client.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n),
    positions: async (tx, table) =>
      (await (tx as PostgresProjectionTransaction).client.query(`SELECT position FROM ${table} ORDER BY position`)).rows.map((r) => Number(r.position)),
  },
};

/** The whole conformance suite's fixture: every store on its own fresh schema of the server. */
export function postgresBackendFixture(schemas: PgSchemas): BackendFixture {
  return {
    name: 'postgres',
    caps: { persistent: true, multiProcess: true, watch: true, encodedReads: true, erasure: true },
    freshUrl: () => schemas.freshUrl(),
    log: postgresLogFixture(schemas),
    projections: postgresProjectionCaps,
  };
}
