import * as net from 'node:net';
import { expect } from 'chai';
import { PostgresEventLog } from '../../../src/backends/postgres/postgres-log';
import { parsePostgresUrl } from '../../../src/backends/postgres/url';
import { expectCode } from '../../helpers/expect-error';
import type { PgSchemas } from './pg-fixture';

const SECRET = 's3cretPw';

/** The URL `base` points at, with user, password, port or database replaced. */
function variant(base: string, change: { user?: string; port?: string; db?: string; query?: string }): string {
  const url = new URL(base);
  url.username = change.user ?? (url.username || 'postgres');
  url.password = SECRET;
  if (change.port) url.port = change.port;
  if (change.db) url.pathname = `/${change.db}`;
  return url.toString() + (change.query ?? '');
}

/** Opening errors name the URL without its password; a server lost mid-append leaves nothing half-done. */
export function errorCases(schemas: PgSchemas): void {
  describe('postgres: errors', () => {
    const expectNoSecret = (error: Error) => {
      expect(error.message).to.not.include(SECRET);
      expect(JSON.stringify(error.message)).to.include('***');
    };

    it('says UNAVAILABLE for a refused connection, naming the URL without its password', async () => {
      const error = await expectCode(PostgresEventLog.open(variant(schemas.base, { port: '1' })), 'UNAVAILABLE');
      expect(error.message).to.include('127.0.0.1:1').and.include('ECONNREFUSED');
      expectNoSecret(error);
      const inQuery = await expectCode(PostgresEventLog.open(`postgres://postgres@127.0.0.1:1/postgres?password=${SECRET}`), 'UNAVAILABLE');
      expectNoSecret(inQuery);
    });

    it('says UNAVAILABLE when the server does not answer within the connect timeout', async () => {
      const silent = net.createServer(() => undefined); // accepts connections, never says a word
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      const port = (silent.address() as net.AddressInfo).port;
      try {
        const started = Date.now();
        const error = await expectCode(PostgresEventLog.open(`postgres://postgres:${SECRET}@127.0.0.1:${port}/postgres`, { connectTimeoutMs: 300 }), 'UNAVAILABLE');
        expect(Date.now() - started).to.be.within(250, 5000);
        expect(error.message).to.include(`127.0.0.1:${port}`).and.match(/timeout/i);
        expectNoSecret(error);
      } finally {
        silent.close();
      }
    });

    it('says UNAVAILABLE for a missing database and for refused credentials', async () => {
      const missing = await expectCode(PostgresEventLog.open(variant(schemas.base, { db: 'osis_no_such_db' })), 'UNAVAILABLE');
      expect(missing.message).to.include('"osis_no_such_db" does not exist');
      expectNoSecret(missing);
      const role = await expectCode(PostgresEventLog.open(variant(schemas.base, { user: 'osis_no_such_role' })), 'UNAVAILABLE');
      expect(role.message).to.include('refused the credentials').and.include('osis_no_such_role');
      expectNoSecret(role);
    });

    it('says INVALID_INPUT for a malformed URL or schema name', async () => {
      for (const url of [`postgres://u:${SECRET}@[nope/db`, `${schemas.base}?schema=Bad-Name`, `${schemas.base}?schema=pg_catalog`, `${schemas.base}?schema=${'a'.repeat(55)}`]) {
        const error = await expectCode(PostgresEventLog.open(url), 'INVALID_INPUT');
        expect(error.message).to.not.include(SECRET);
      }
      const twice = new URL(schemas.freshUrl());
      twice.searchParams.append('schema', 'other');
      await expectCode(PostgresEventLog.open(twice.toString()), 'INVALID_INPUT');
    });

    it('passes libpq parameters on, keeps ?schema= for itself, and accepts socket URLs without a host', () => {
      expect(parsePostgresUrl(`postgresql://u:${SECRET}@h:5433/db?sslmode=disable&schema=tenant_1&application_name=osis`)).to.deep.equal({
        connectionString: `postgresql://u:${SECRET}@h:5433/db?sslmode=disable&application_name=osis`,
        schema: 'tenant_1',
        display: 'postgresql://u:***@h:5433/db?sslmode=disable&schema=tenant_1&application_name=osis',
      });
      expect(parsePostgresUrl('postgres://postgres@/postgres?host=/var/run/postgresql').connectionString).to.equal(
        'postgres://postgres@/postgres?host=%2Fvar%2Frun%2Fpostgresql',
      );
      expect(parsePostgresUrl('postgres:///db').schema).to.equal('public');
      expect(() => parsePostgresUrl('postgres://h/db/extra')).to.throw(/not a PostgreSQL URL/);
    });

    it('fails an append whose server connection dies mid-transaction with UNAVAILABLE, writes nothing, and recovers', async function () {
      this.timeout(30_000);
      const url = schemas.freshUrl();
      const schema = new URL(url).searchParams.get('schema')!;
      const log = await PostgresEventLog.open(url, { unique: { user: ['email'] } });
      try {
        await log.append([{ type: 'user', sid: 'first', kind: 'created', data: { sid: 'first' } }]);
        await schemas.sql(`
          CREATE FUNCTION "${schema}".stall() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN IF EXISTS (SELECT 1 FROM new_rows WHERE sid = 'victim') THEN PERFORM pg_sleep(5); END IF; RETURN NULL; END $$;
          CREATE TRIGGER stall AFTER INSERT ON "${schema}".events REFERENCING NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION "${schema}".stall();`);
        const pending = log.append([{ type: 'user', sid: 'victim', kind: 'created', data: { sid: 'victim', email: 'v@x' } }], { idempotencyKey: 'victim-key' });
        pending.catch(() => undefined); // settled below
        let killed = 0;
        for (let tries = 0; killed === 0 && tries < 200; tries++) {
          await new Promise((r) => setTimeout(r, 20));
          const rows = await schemas.sql(
            "SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE wait_event = 'PgSleep' AND query LIKE $1",
            [`%INSERT INTO "${schema}"."events"%`],
          );
          killed = rows.length;
        }
        expect(killed).to.equal(1);
        const error = await expectCode(pending, 'UNAVAILABLE');
        expect(error.message).to.include('127.0.0.1');
        expect(await log.head()).to.equal(1);
        expect(await log.readStream('user', 'victim')).to.deep.equal([]);
        const [retried] = await log.append([{ type: 'user', sid: 'other', kind: 'created', data: { sid: 'other', email: 'v@x' } }], { idempotencyKey: 'victim-key' });
        expect([retried.sid, retried.position]).to.deep.equal(['other', 2]);
        expect((await log.verify()).problems).to.deep.equal([]);
      } finally {
        await log.close();
      }
    });
  });
}
