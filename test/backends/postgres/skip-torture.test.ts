import { expect } from 'chai';
import { PostgresEventLog } from '../../../src/backends/postgres/postgres-log';
import { startWorker, type FixtureWorker } from '../../helpers/spawn-ts';
import { figure } from '../../reliability/helpers/config';
import type { WriterReport } from '../../fixtures/pg-torture-writer';
import { PgSchemas, pgUrl } from './pg-fixture';
import { compareTail, installTortureTriggers, killBackends, tailByPosition, type Row } from './torture-helpers';

const long = process.env.RELIABILITY_LONG === '1';
const WRITERS = long ? 32 : 16;
const SECONDS = Number(process.env.PG_TORTURE_SECONDS ?? (long ? 30 : 6));
const CONTROL_SECONDS = Number(process.env.PG_TORTURE_CONTROL_SECONDS ?? (long ? 10 : 3));

const base = pgUrl();

/**
 * The skip torture of issue 12: WRITERS processes append at once while a trigger makes a fifth of the
 * append transactions sleep before commit, about 4% of the appends roll back after taking their
 * position (a trigger raises for a marked row; their group commit goes with them) and 4% more are
 * refused in phase 1, and the test kills a writer's backend (`pg_terminate_backend`) every 100–300 ms.
 * A tailer in this process follows `readAll(last + 1)`. After the writers stop, what it saw must equal
 * the table in position order: 0 skipped, 0 duplicated. The control puts the same load on a naive
 * BIGSERIAL table read by position and shows that such a reader does skip.
 */
if (base) {
  describe(`postgres: skip torture (${WRITERS} writer processes)`, function () {
    this.timeout(120_000);
    const schemas = new PgSchemas(base);
    let workers: FixtureWorker[] = [];
    /** Stop a worker; one that crashed has already closed, so do not wait for a close that will not come again. */
    const stop = (w: FixtureWorker) => Promise.race([w.stop(), new Promise((r) => setTimeout(r, 5000).unref())]);
    before(() => {
      workers = Array.from({ length: WRITERS }, () => startWorker('pg-torture-writer.ts'));
    });
    after(async () => {
      await Promise.all(workers.map(stop));
      await schemas.dropAll();
    });

    /**
     * Open the writers on `url`, then run the load of `mode` for `seconds` while `read` is tailed by
     * position and backends get killed. A process that crashed answers `{ error }` (see the fixture) and
     * is replaced by a fresh one for the next test.
     */
    async function torture(mode: 'osis' | 'naive', url: string, seconds: number, read: (after: number) => Promise<Row[]>) {
      const schema = new URL(url).searchParams.get('schema')!;
      const applicationName = `osis_torture_${schema}`;
      const named = new URL(url);
      named.searchParams.set('application_name', applicationName);
      const opened = await Promise.all(workers.map((w, writer) => w.ask({ open: { mode, url: named.toString(), writer } })));
      for (const line of opened) expect(JSON.parse(line), 'a writer opened').to.deep.equal({ ready: true });
      let writing = true;
      const started = Date.now();
      const tailing = tailByPosition(read, () => writing);
      const killing = killBackends(schemas, applicationName, () => writing);
      const answers = await Promise.all(workers.map((w) => w.ask({ run: seconds })));
      writing = false;
      const [{ seen, reads }, killed] = await Promise.all([tailing, killing]);
      const elapsed = (Date.now() - started) / 1000;
      const reports = answers.map((line) => JSON.parse(line) as Partial<WriterReport> & { error?: string });
      workers = workers.map((w, i) => (reports[i].error ? (void stop(w), startWorker('pg-torture-writer.ts')) : w));
      return { seen, reads, killed, reports, elapsed, crashes: reports.flatMap((r, w) => (r.error ? [`writer ${w}: ${r.error}`] : [])) };
    }

    it(`the tailer sees every committed event once while ${WRITERS} processes append for ${SECONDS} s with slow commits, rollbacks and killed backends`, async () => {
      const url = schemas.freshUrl();
      const schema = new URL(url).searchParams.get('schema')!;
      const tailLog = await PostgresEventLog.open(url, { poolSize: 2 });
      try {
        await installTortureTriggers(schemas, schema, 'events');
        const { seen, reads, killed, reports, elapsed, crashes } = await torture('osis', url, SECONDS, async (after) =>
          (await tailLog.readAll(after + 1, { limit: 500 })).map((e): Row => [e.position, e.sid]),
        );
        const table = (await schemas.sql(`SELECT position::float8 AS p, sid FROM "${schema}".events ORDER BY position`)).map((r): Row => [r.p as number, r.sid as string]);

        const { skipped, duplicated, phantom } = compareTail(seen, table);
        const sum = (key: 'attempts' | 'refused' | 'rolledBack' | 'unavailable') => reports.reduce((n, r) => n + (r[key] ?? 0), 0);
        const acked = reports.flatMap((r) => r.acked ?? []);
        const failed = sum('refused') + sum('rolledBack') + sum('unavailable');
        figure(
          `skip torture: ${WRITERS} processes, ${sum('attempts')} appends in ${elapsed.toFixed(1)} s → ${table.length} events; ` +
            `${sum('rolledBack')} rolled back by the trigger, ${sum('refused')} refused, ${sum('unavailable')} UNAVAILABLE from ${killed} killed backends ` +
            `(${((100 * failed) / sum('attempts')).toFixed(1)}% failed), ${crashes.length} writer processes crashed; tailer read ${reads} times: ${skipped} skipped, ${duplicated} duplicated, ${phantom} phantom`,
        );

        expect(skipped, 'events the tailer skipped').to.equal(0);
        expect(duplicated, 'events the tailer saw twice').to.equal(0);
        expect(seen).to.deep.equal(table);
        expect(table.map((r) => r[0]), 'positions without holes').to.deep.equal(Array.from({ length: table.length }, (_, i) => i + 1));
        // Every acknowledged event is in the table at its position (a commit cut off by a kill may be in it unacknowledged).
        const bySid = new Map(table.map(([p, sid]) => [sid, p]));
        for (const [position, sid] of acked) expect(bySid.get(sid), `acknowledged ${sid}`).to.equal(position);
        expect(new Set(acked.map((a) => a[0])).size, 'acknowledged positions are distinct').to.equal(acked.length);
        expect((await schemas.sql(`SELECT count(*)::int AS n FROM "${schema}".events WHERE data LIKE '%"doomed":true%'`))[0].n, 'doomed rows committed').to.equal(0);
        expect((await tailLog.verify()).problems, 'verify').to.deep.equal([]);
        // The load was what it claims to be.
        expect(sum('rolledBack'), 'appends rolled back by the trigger').to.be.greaterThan(0);
        expect(sum('refused'), 'appends refused in phase 1').to.be.greaterThan(0);
        expect(failed / sum('attempts'), 'share of failed appends').to.be.within(0.05, 0.5);
        expect(killed, 'backends killed').to.be.greaterThan(0);
        expect(sum('unavailable'), 'appends that lost their backend').to.be.greaterThan(0);
        expect(table.length, 'events written').to.be.greaterThan(WRITERS * 20);
        // A backend killed by the server must cost its appends (UNAVAILABLE), never the process.
        expect(crashes, 'writer processes that crashed').to.deep.equal([]);
        expect(reports.flatMap((r) => r.unexpected ?? []), 'unexpected outcomes in the writers').to.deep.equal([]);
      } finally {
        await tailLog.close();
      }
    });

    it('control: a reader tailing a naive BIGSERIAL table by position under the same load does skip', async () => {
      const url = schemas.freshUrl();
      const schema = new URL(url).searchParams.get('schema')!;
      await schemas.sql(`CREATE SCHEMA "${schema}"; CREATE TABLE "${schema}".naive (position bigserial PRIMARY KEY, sid text NOT NULL, data text NOT NULL)`);
      await installTortureTriggers(schemas, schema, 'naive');
      const reader = await schemas.client();
      try {
        const { seen, killed, reports, crashes } = await torture('naive', url, CONTROL_SECONDS, async (after) =>
          (await reader.query(`SELECT position::float8 AS p, sid FROM "${schema}".naive WHERE position > $1 ORDER BY position LIMIT 500`, [after])).rows.map(
            (r): Row => [r.p as number, r.sid as string],
          ),
        );
        const table = (await schemas.sql(`SELECT position::float8 AS p, sid FROM "${schema}".naive ORDER BY position`)).map((r): Row => [r.p as number, r.sid as string]);
        const { skipped, duplicated } = compareTail(seen, table);
        figure(
          `skip torture control: naive BIGSERIAL table, ${WRITERS} processes for ${CONTROL_SECONDS} s → ${table.length} rows, ${killed} killed backends; ` +
            `position-tailing reader: ${skipped} skipped, ${duplicated} duplicated`,
        );
        expect(crashes, 'writer processes that crashed').to.deep.equal([]);
        expect(reports.flatMap((r) => r.unexpected ?? []), 'unexpected outcomes in the writers').to.deep.equal([]);
        expect(skipped, 'rows a position-tailing reader moved past on a BIGSERIAL table').to.be.greaterThan(0);
      } finally {
        await reader.end();
      }
    });
  });
}
