import { expect } from 'chai';
import { startFixture } from '../../helpers/spawn-ts';
import { PgSchemas, pgUrl } from './pg-fixture';

const base = pgUrl();

/**
 * `pg_terminate_backend` (or a server shutting down) on the connection of an append transaction while
 * no statement is running on it: the append must fail UNAVAILABLE and the next one succeed. The `pg`
 * client emits 'error' on a connection that breaks between statements, and pg-pool removes its own
 * listener while a client is checked out, so without a listener of the backend's own that 'error' is
 * uncaught and kills the whole process (found by the skip torture, where killed writer processes died).
 */
if (base) {
  describe('postgres: a backend killed inside an append transaction', function () {
    this.timeout(60_000);
    const schemas = new PgSchemas(base);
    after(() => schemas.dropAll());

    it('fails that append with UNAVAILABLE and does not bring the process down', async () => {
      const url = new URL(schemas.freshUrl());
      const applicationName = `osis_killed_${url.searchParams.get('schema')}`;
      url.searchParams.set('application_name', applicationName);
      const child = startFixture('pg-killed-mid-append.ts', [url.toString()]);
      await child.line((l) => l === 'in transaction');
      const killed = await schemas.sql(
        `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = $1 AND state = 'idle in transaction'`,
        [applicationName],
      );
      expect(killed.map((r) => r.ok), 'the append transaction’s backend, killed').to.deep.equal([true]);
      const { code, signal } = await child.exited;
      expect({ code, signal, stderr: child.stderr().split('\n').filter((l) => /^error:/.test(l)).join('\n') }, 'the process exits normally').to.deep.equal({
        code: 0,
        signal: null,
        stderr: '',
      });
      expect(child.lines.filter(Boolean)).to.deep.equal(['in transaction', 'first UNAVAILABLE', 'next ok 1']);
    });
  });
}
