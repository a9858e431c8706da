import { expect } from 'chai';
import { PostgresEventLog } from '../../../src/backends/postgres/postgres-log';
import type { PgSchemas } from './pg-fixture';

const WRITERS = 8;
const SECONDS = Number(process.env.PG_TAIL_SECONDS ?? 3);

/**
 * The tail never skips: 8 writer clients (each its own log object and pool, 4 appends in flight each,
 * some failing, some batches of 3) append for a few seconds while a trigger makes a fifth of the
 * append transactions sleep after inserting and before committing (the window in which a BIGSERIAL log
 * hands a later position to a transaction that commits first). A tailer following `readAll(next)`
 * must see every position exactly once, contiguous, and end equal to the table in position order.
 */
export function tailCases(schemas: PgSchemas): void {
  describe('postgres: a tailing reader under concurrent writers', () => {
    it(`sees every position once and in order while ${WRITERS} clients append for ${SECONDS} s, with slow commits`, async function () {
      this.timeout(SECONDS * 1000 + 60_000);
      const url = schemas.freshUrl();
      const tailLog = await PostgresEventLog.open(url, { unique: { user: ['email'] } });
      const schema = new URL(url).searchParams.get('schema')!;
      await schemas.sql(`
        CREATE FUNCTION "${schema}".slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN IF random() < 0.2 THEN PERFORM pg_sleep(0.002 + random() * 0.02); END IF; RETURN NULL; END $$;
        CREATE TRIGGER slow_commit AFTER INSERT ON "${schema}".events FOR EACH STATEMENT EXECUTE FUNCTION "${schema}".slow_commit();`);
      const writers = await Promise.all(Array.from({ length: WRITERS }, () => PostgresEventLog.open(url, { poolSize: 3, unique: { user: ['email'] } })));
      const acknowledged: number[] = [];
      let failures = 0;
      const deadline = Date.now() + SECONDS * 1000;
      let writing = true;

      const writer = async (log: PostgresEventLog, w: number, lane: number) => {
        for (let i = 0; Date.now() < deadline; i++) {
          const sid = `w${w}l${lane}i${i}`;
          const batch = i % 5 === 0 ? [0, 1, 2].map((k) => ({ type: 'note', sid: `${sid}k${k}`, kind: 'created' as const, data: { sid: `${sid}k${k}` } })) : [];
          const events = await log.append([{ type: 'user', sid, kind: 'created', data: { sid, email: `${sid}@x` } }, ...batch]);
          acknowledged.push(...events.map((e) => e.position));
          if (i % 7 === 3) {
            // a clash on a unique field taken by another writer: fails alone, writes nothing
            await log.append([{ type: 'user', sid: `${sid}dup`, kind: 'created', data: { sid: `${sid}dup`, email: `w0l0i0@x` } }]).then(
              () => expect.fail('a clashing email was accepted'),
              (error) => {
                expect((error as { code?: string }).code).to.equal('UNIQUE_VIOLATION');
                failures++;
              },
            );
          }
        }
      };

      const seen: number[] = [];
      let batches = 0;
      const tail = async () => {
        let next = 1;
        for (let idle = 0; writing || idle < 2; ) {
          const events = await tailLog.readAll(next, { limit: 500 });
          batches++;
          events.forEach((e, i) => expect(e.position, `tail batch from ${next}`).to.equal(next + i));
          seen.push(...events.map((e) => e.position));
          next += events.length;
          if (events.length === 0) {
            if (!writing) idle++;
            await new Promise((r) => setTimeout(r, 2));
          }
        }
      };
      const tailing = tail();
      await Promise.all(writers.flatMap((log, w) => [0, 1, 2, 3].map((lane) => writer(log, w, lane))));
      writing = false;
      await tailing;

      const table = (await schemas.sql(`SELECT position::float8 AS p FROM "${schema}".events ORDER BY position`)).map((r) => r.p as number);
      expect(seen.length, 'events seen by the tailer').to.equal(table.length);
      expect(seen).to.deep.equal(table);
      expect(table).to.deep.equal(Array.from({ length: table.length }, (_, i) => i + 1));
      expect([...acknowledged].sort((a, b) => a - b)).to.deep.equal(table);
      expect(failures).to.be.greaterThan(0);
      expect(table.length).to.be.greaterThan(WRITERS * 10);
      console.log(`      ${table.length} events from ${WRITERS} writers in ${SECONDS} s, ${failures} refused appends, tailer read ${batches} times`);
      await Promise.all([...writers, tailLog].map((log) => log.close()));
    });

    it('control: a reader tailing a naive BIGSERIAL table the same way, with the same slow commits, does skip events', async function () {
      this.timeout(30_000);
      const url = schemas.freshUrl();
      const schema = new URL(url).searchParams.get('schema')!;
      await schemas.sql(`
        CREATE SCHEMA "${schema}";
        CREATE TABLE "${schema}".naive (position bigserial PRIMARY KEY, sid text NOT NULL);
        CREATE FUNCTION "${schema}".slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN IF random() < 0.2 THEN PERFORM pg_sleep(0.002 + random() * 0.02); END IF; RETURN NULL; END $$;
        CREATE TRIGGER slow_commit AFTER INSERT ON "${schema}".naive FOR EACH STATEMENT EXECUTE FUNCTION "${schema}".slow_commit();`);
      const clients = await Promise.all(Array.from({ length: WRITERS }, () => schemas.client()));
      const reader = await schemas.client();
      const seen = new Set<number>();
      let writing = true;
      const deadline = Date.now() + 10_000;
      let skipped = 0;
      const tail = async () => {
        let last = 0;
        while (writing) {
          const rows = (await reader.query(`SELECT position::float8 AS p FROM "${schema}".naive WHERE position > $1 ORDER BY position`, [last])).rows;
          for (const row of rows) seen.add(row.p as number);
          if (rows.length > 0) last = rows[rows.length - 1].p as number;
          const committed = (await reader.query(`SELECT count(*)::int AS n FROM "${schema}".naive WHERE position <= $1`, [last])).rows[0].n as number;
          skipped = committed - [...seen].filter((p) => p <= last).length;
          if (skipped > 0 || Date.now() > deadline) writing = false;
        }
      };
      const write = async (client: (typeof clients)[number], w: number) => {
        for (let i = 0; writing; i++) await client.query(`INSERT INTO "${schema}".naive (sid) VALUES ($1)`, [`w${w}i${i}`]);
      };
      await Promise.all([tail(), ...clients.map((client, w) => write(client, w))]);
      await Promise.all([...clients, reader].map((client) => client.end()));
      expect(skipped, 'events a position-tailing reader moved past on a BIGSERIAL table').to.be.greaterThan(0);
    });
  });
}
