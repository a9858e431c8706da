// Issue 12: append throughput of the PostgreSQL log, with and without NOTIFY, beside raw pg INSERTs of
// the same rows in the same run (ratios, not absolute numbers, are what carry over between machines).
//   OSIS_PG_URL=postgres://postgres@127.0.0.1:5432/postgres npx ts-node --transpile-only scripts/pg-append-bench.ts [seconds] [rounds]
// Each scenario runs for `seconds` (default 4); the with/without NOTIFY pair alternates for `rounds` (default 2).
// Stores live in schemas bench_<10 hex>, dropped at the end (an interrupted run leaves them behind).
import { randomBytes } from 'node:crypto';
import { Client, Pool } from 'pg';
import { performance } from 'node:perf_hooks';
import { PostgresEventLog } from '../src/backends/postgres/postgres-log';

const base = process.env.OSIS_PG_URL;
if (!base) {
  console.error('set OSIS_PG_URL, e.g. postgres://postgres@127.0.0.1:5432/postgres');
  process.exit(2);
}
const SECONDS = Number(process.argv[2] ?? 4);
const ROUNDS = Number(process.argv[3] ?? 2);
const schemas: string[] = [];

function freshUrl(): string {
  const schema = `bench_${randomBytes(5).toString('hex')}`;
  schemas.push(schema);
  const url = new URL(base!);
  url.searchParams.set('schema', schema);
  return url.toString();
}

const payload = (i: number) => ({ sid: `s${i}`, name: `user ${i}`, email: `u${i}@example.com`, country: 'be', n: i });

/** Run `lanes` loops of `step` for SECONDS; returns items per second. */
async function drive(lanes: number, step: (lane: number, i: number) => Promise<number>): Promise<number> {
  const deadline = Date.now() + SECONDS * 1000;
  let items = 0;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: lanes }, async (_, lane) => {
      for (let i = 0; Date.now() < deadline; i++) {
        const done = await step(lane, i); // not `items += await …`: that reads items before the await
        items += done;
      }
    }),
  );
  return items / ((Date.now() - started) / 1000);
}

/** Raw baseline: single-row autocommit INSERTs of the same JSON text into a BIGSERIAL table. */
async function raw(lanes: number): Promise<number> {
  const url = freshUrl();
  const schema = new URL(url).searchParams.get('schema')!;
  const pool = new Pool({ connectionString: base, max: lanes });
  await pool.query(`CREATE SCHEMA "${schema}"; CREATE TABLE "${schema}".raw (position bigserial PRIMARY KEY, type text, sid text, data text)`);
  const rate = await drive(lanes, async (lane, i) => {
    const data = payload(i);
    await pool.query(`INSERT INTO "${schema}".raw (type, sid, data) VALUES ($1, $2, $3)`, ['user', `l${lane}i${i}`, JSON.stringify(data)]);
    return 1;
  });
  await pool.end();
  return rate;
}

/** Single-event appends by `lanes` concurrent callers on each of `logs` log objects (group commit per object). */
async function appends(logs: number, lanes: number, notify: boolean, batch = 1): Promise<{ rate: number; notifications: number }> {
  const url = freshUrl();
  const opened = await Promise.all(Array.from({ length: logs }, () => PostgresEventLog.open(url, { notify, unique: { user: ['email'] } })));
  const rate = await drive(logs * lanes, async (lane, i) => {
    const log = opened[lane % logs];
    const events = Array.from({ length: batch }, (_, k) => {
      const sid = `l${lane}i${i}k${k}`;
      return { type: 'user', sid, kind: 'created' as const, data: { ...payload(i), sid, email: `${sid}@example.com` } };
    });
    await log.append(events);
    return batch;
  });
  const notifications = opened.reduce((n, log) => n + log.notifications, 0);
  await Promise.all(opened.map((log) => log.close()));
  return { rate, notifications };
}

/** Commit to signal in another log object (its own pool and LISTEN connection): p50/p99 in ms over `n` sequential appends. */
async function signalLatency(n: number): Promise<{ p50: number; p99: number; viaPoll: number }> {
  const url = freshUrl();
  const [writer, watcher] = [await PostgresEventLog.open(url), await PostgresEventLog.open(url)];
  let wake: (() => void) | undefined;
  const w = await watcher.watch(() => wake?.(), { intervalMs: 60_000 }); // the poll out of the way: NOTIFY only
  const samples: number[] = [];
  let viaPoll = 0;
  for (let i = 0; i < n; i++) {
    const signalled = new Promise<number>((resolve) => {
      wake = () => resolve(performance.now());
    });
    const started = performance.now();
    await writer.append([{ type: 'note', sid: `n${i}`, kind: 'created', data: { sid: `n${i}` } }]);
    const at = await Promise.race([signalled, new Promise<number>((r) => setTimeout(() => r(-1), 2000))]);
    if (at < 0) viaPoll++;
    else samples.push(at - started);
    await new Promise((r) => setTimeout(r, 2));
  }
  await w.close();
  await Promise.all([writer.close(), watcher.close()]);
  samples.sort((a, b) => a - b);
  const q = (f: number) => samples[Math.min(samples.length - 1, Math.floor(f * samples.length))];
  return { p50: q(0.5), p99: q(0.99), viaPoll };
}

async function main(): Promise<void> {
  const r = (n: number) => Math.round(n).toLocaleString('en');
  console.log(`PostgreSQL append benchmark, ${SECONDS} s per scenario, durability full (synchronous_commit on)`);
  const raw16 = await raw(16);
  console.log(`raw pg INSERT, 16 concurrent autocommit clients: ${r(raw16)} rows/s`);
  const scenarios: Array<[string, number, number, number]> = [
    ['1 log object, 16 concurrent single-event appends', 1, 16, 1],
    ['4 log objects x 4 concurrent single-event appends', 4, 4, 1],
    ['1 log object, 1 writer, batches of 100', 1, 1, 100],
    ['1 log object, 1000 concurrent single-event appends', 1, 1000, 1],
  ];
  const latency = await signalLatency(300);
  console.log(
    `append start -> signal in another log object (NOTIFY), 300 appends: p50 ${latency.p50.toFixed(1)} ms, p99 ${latency.p99.toFixed(1)} ms` +
      (latency.viaPoll > 0 ? `, ${latency.viaPoll} not signalled within 2 s` : ''),
  );
  const only = process.env.BENCH_ONLY; // a substring of a scenario name: run just those
  for (const [name, logs, lanes, batch] of scenarios.filter(([n]) => !only || n.includes(only))) {
    const totals = { on: 0, off: 0, notes: 0 };
    const runs: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      for (const notify of round % 2 === 0 ? [true, false] : [false, true]) {
        const result = await appends(logs, lanes, notify, batch);
        runs.push(`${notify ? 'on' : 'off'} ${r(result.rate)}`);
        if (notify) {
          totals.on += result.rate / ROUNDS;
          totals.notes += result.notifications;
        } else totals.off += result.rate / ROUNDS;
      }
    }
    if (ROUNDS > 1) console.log(`  runs: ${runs.join(', ')}`);
    console.log(
      `${name}: with NOTIFY ${r(totals.on)} events/s (${(totals.on / raw16).toFixed(2)}x raw), ` +
        `without ${r(totals.off)} events/s (${(totals.off / raw16).toFixed(2)}x raw); with/without ${(totals.on / totals.off).toFixed(2)}; ` +
        `${r(totals.notes)} NOTIFYs sent in ${ROUNDS} rounds`,
    );
  }
}

main()
  .catch((error) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(async () => {
    const client = new Client({ connectionString: base });
    await client.connect();
    if (schemas.length > 0) await client.query(`DROP SCHEMA IF EXISTS ${schemas.map((s) => `"${s}"`).join(', ')} CASCADE`);
    await client.end();
  });
