import type { PgSchemas } from './pg-fixture';

/**
 * Triggers of the skip torture on `"schema".table` (a table with `sid` and `data` text columns):
 * - after a fifth of the INSERT statements, `pg_sleep` of 2–32 ms before the transaction can commit
 *   (the window in which a BIGSERIAL log shows a later position while an earlier one is still uncommitted);
 * - a row whose data carries `"doomed":true` sleeps up to 20 ms and then raises `torture: doomed row`,
 *   after its position was taken: the whole transaction rolls back.
 */
export async function installTortureTriggers(schemas: PgSchemas, schema: string, table: string): Promise<void> {
  const s = `"${schema}"`;
  await schemas.sql(`
    CREATE FUNCTION ${s}.torture_slow() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN IF random() < 0.2 THEN PERFORM pg_sleep(0.002 + random() * 0.03); END IF; RETURN NULL; END $$;
    CREATE FUNCTION ${s}.torture_doom() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.data LIKE '%"doomed":true%' THEN
        PERFORM pg_sleep(random() * 0.02);
        RAISE EXCEPTION 'torture: doomed row %', NEW.sid;
      END IF;
      RETURN NEW;
    END $$;
    CREATE TRIGGER torture_slow AFTER INSERT ON ${s}."${table}" FOR EACH STATEMENT EXECUTE FUNCTION ${s}.torture_slow();
    CREATE TRIGGER torture_doom BEFORE INSERT ON ${s}."${table}" FOR EACH ROW EXECUTE FUNCTION ${s}.torture_doom();`);
}

/** One event as a tailer saw it, or as the table holds it: [position, sid]. */
export type Row = [number, string];

/**
 * A reader that tails by position, as a consumer of a log does: `read(after)` returns the rows with
 * positions above `after` in position order, and the next read starts after the last position seen.
 * Reads until `writing()` is false and two more reads found nothing.
 */
export async function tailByPosition(read: (after: number) => Promise<Row[]>, writing: () => boolean): Promise<{ seen: Row[]; reads: number }> {
  const seen: Row[] = [];
  let after = 0;
  let reads = 0;
  for (let idle = 0; writing() || idle < 2; ) {
    const rows = await read(after);
    reads++;
    seen.push(...rows);
    if (rows.length > 0) after = rows[rows.length - 1][0];
    else {
      if (!writing()) idle++;
      await new Promise((r) => setTimeout(r, 2));
    }
  }
  return { seen, reads };
}

/** What a tailer missed and repeated, against the table's final content in position order. */
export function compareTail(seen: readonly Row[], table: readonly Row[]): { skipped: number; duplicated: number; phantom: number } {
  const seenPositions = new Set(seen.map((r) => r[0]));
  const tablePositions = new Set(table.map((r) => r[0]));
  return {
    skipped: table.filter((r) => !seenPositions.has(r[0])).length,
    duplicated: seen.length - seenPositions.size,
    phantom: [...seenPositions].filter((p) => !tablePositions.has(p)).length,
  };
}

/**
 * Until `running()` is false, every 100–300 ms terminate one random backend named `applicationName`
 * that is running a statement or sits inside a transaction; resolves with the number killed.
 */
export async function killBackends(schemas: PgSchemas, applicationName: string, running: () => boolean): Promise<number> {
  const client = await schemas.client();
  let killed = 0;
  try {
    while (running()) {
      await new Promise((r) => setTimeout(r, 100 + Math.random() * 200));
      const rows = await client.query(
        `SELECT pg_terminate_backend(pid) AS ok FROM (
           SELECT pid FROM pg_stat_activity
           WHERE application_name = $1 AND state IN ('active', 'idle in transaction') AND pid <> pg_backend_pid()
           ORDER BY random() LIMIT 1) victim`,
        [applicationName],
      );
      if (rows.rows[0]?.ok) killed++;
    }
  } finally {
    await client.end();
  }
  return killed;
}

/** The value below which a fraction `p` of `values` lie. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}
