import type { IntegrityProblem, IntegrityReport } from '../../log/event-log';
import type { Queryable } from './sql';
import type { LogTables } from './log-schema';

/** How many rows one read of the JSON check takes. */
const CHUNK = 5_000;
/** At most this many problems of one kind are listed. */
const MAX_LISTED = 100;

/**
 * Check the stored log without changing it: versions run 1..n per object, positions run 1..head with
 * no hole (appends and imports only ever continue the log), the counter row is not behind the events,
 * and every row's data and meta are valid JSON (read in chunks of `CHUNK` rows, reporting progress).
 */
export async function verifyLog(db: Queryable, t: LogTables, onProgress?: (done: number, total: number) => void): Promise<IntegrityReport> {
  const problems: IntegrityProblem[] = [];
  const summary = await db.query<{ n: number; lo: number | null; hi: number | null; counter: number | null }>(
    `SELECT count(*) AS n, min(position) AS lo, max(position) AS hi, (SELECT position FROM ${t.head} WHERE id = 1) AS counter FROM ${t.events}`,
  );
  const { n: events, lo, hi, counter } = summary.rows[0];
  if (counter === null) problems.push({ where: 'log_head', message: 'the position counter row is missing' });
  else if (hi !== null && counter < hi) problems.push({ where: 'log_head', message: `the position counter is ${counter}, behind the last event at ${hi}` });
  if (lo !== null && lo !== 1) problems.push({ where: `events position ${lo}`, message: `the log starts at ${lo}, not 1` });
  if (hi !== null && hi - (lo ?? 1) + 1 !== events) {
    const holes = await db.query<{ missing: number }>(
      `SELECT position + 1 AS missing FROM ${t.events} e
        WHERE position < $1 AND NOT EXISTS (SELECT 1 FROM ${t.events} n WHERE n.position = e.position + 1)
        ORDER BY position LIMIT ${MAX_LISTED}`,
      [hi],
    );
    for (const { missing } of holes.rows) problems.push({ where: `events position ${missing}`, message: 'missing: positions must run without holes' });
  }
  const gaps = await db.query<{ type: string; sid: string; n: number; v: number }>(
    `SELECT type, sid, count(*) AS n, max(version) AS v FROM ${t.events} GROUP BY type, sid
      HAVING count(*) <> max(version) OR min(version) <> 1 LIMIT ${MAX_LISTED}`,
  );
  for (const gap of gaps.rows) problems.push({ where: `events ${gap.type}/${gap.sid}`, message: `${gap.n} events but versions up to ${gap.v}` });
  let done = 0;
  let unreadable = 0;
  for (let after = 0; ; ) {
    const rows = await db.query({
      text: `SELECT position, data, meta FROM ${t.events} WHERE position > $1 ORDER BY position LIMIT ${CHUNK}`,
      values: [after],
      rowMode: 'array',
    });
    if (rows.rows.length === 0) break;
    for (const [position, data, meta] of rows.rows as Array<[number, string, string | null]>) {
      if (!isJson(data) || (meta !== null && !isJson(meta))) {
        if (unreadable++ < MAX_LISTED) problems.push({ where: `events position ${position}`, message: 'data or meta is not valid JSON' });
      }
    }
    after = rows.rows[rows.rows.length - 1][0] as number;
    done += rows.rows.length;
    onProgress?.(done, events);
  }
  return { events, problems };
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
