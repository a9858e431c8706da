/**
 * Change feed benchmark: (1) a write in process A reaching a `changes()` subscriber in process B,
 * p50/p95/p99/max latency; (2) catch-up reading of the whole log from position 0 through `changes()`.
 * Run: `node dist/bench/feed-bench.js [STORE_URL]` (default: fresh sqlite and file stores, one after the
 * other) or `node -r ts-node/register/transpile-only src/bench/feed-bench.ts`.
 */
import { fork } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openStore } from '../index';
import { InvalidInputError } from '../index';
import type { Durability } from '../index';
import type { ProposedEvent } from '../index';

/** Options of `benchFeed`. */
export interface FeedBenchOptions {
  /** URL of a fresh store to run on (default: a new store of `backend` in a temporary directory). */
  url?: string;
  /** Backend of the temporary store when no `url` is given (default 'sqlite'). */
  backend?: 'sqlite' | 'file';
  /** Writes timed from process A to process B (default 500). */
  writes?: number;
  /** Pause between timed writes, drawn uniformly from this range in ms (default [2, 12]). */
  gapMs?: [number, number];
  /** Events in the log for the catch-up read (default 200,000). */
  catchUpEvents?: number;
  /** Batch size of the catch-up feed (default 1000, the feed's default). */
  batchSize?: number;
  /** Durability of process A's writes (default 'full', the store's default). */
  durability?: Durability;
  /** Subscriber poll interval for other processes' commits, in ms (default 20, the feed's default). */
  pollMs?: number;
}

/** Latency figures, in ms. */
export interface LatencyFigures {
  samples: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** What `benchFeed` measured. */
export interface FeedBenchResult {
  url: string;
  backend: string;
  durability: Durability;
  pollMs: number;
  /** Commit-to-delivery latency across processes (write call in A to `next` in B). */
  crossProcessLatencyMs: LatencyFigures;
  catchUp: { events: number; batchSize: number; seconds: number; eventsPerSecond: number; cpuEventsPerSecond: number };
  targets: { p99Ms: number; catchUpEventsPerSecond: number };
  meetsTargets: { latency: boolean; catchUp: boolean };
  loadAverage: number[];
}

const CHILD_FLAG = '--feed-bench-subscriber';
const now = () => performance.timeOrigin + performance.now();

/** Run both measurements on one fresh store and report them. */
export async function benchFeed(options: FeedBenchOptions = {}): Promise<FeedBenchResult> {
  if (options.url?.startsWith('memory:')) throw new InvalidInputError('the feed benchmark needs a store that two processes share (sqlite:, file:, postgres:)');
  const dir = options.url ? undefined : fs.mkdtempSync(path.join(os.tmpdir(), 'osis-feed-bench-'));
  const url = options.url ?? (options.backend === 'file' ? `file:${path.join(dir!, 'log')}` : `sqlite:${path.join(dir!, 'bench.db')}`);
  const durability = options.durability ?? 'full';
  const pollMs = options.pollMs ?? 20;
  try {
    const store = await openStore(url, { durability, schema: { types: {} } });
    let latency: LatencyFigures;
    let backend: string;
    try {
      backend = store.backendName;
      latency = await crossProcessLatency(store, url, options.writes ?? 500, options.gapMs ?? [2, 12], pollMs);
      await fillLog(store, options.catchUpEvents ?? 200_000);
    } finally {
      await store.close();
    }
    const catchUp = await catchUpRate(url, options.batchSize ?? 1000);
    const targets = { p99Ms: 100, catchUpEventsPerSecond: 200_000 };
    return {
      url,
      backend,
      durability,
      pollMs,
      crossProcessLatencyMs: latency,
      catchUp,
      targets,
      meetsTargets: { latency: latency.p99 < targets.p99Ms, catchUp: catchUp.eventsPerSecond >= targets.catchUpEventsPerSecond },
      loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100),
    };
  } finally {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  }
}

type Store = Awaited<ReturnType<typeof openStore>>;

async function crossProcessLatency(store: Store, url: string, writes: number, gap: [number, number], pollMs: number): Promise<LatencyFigures> {
  const execArgv = __filename.endsWith('.ts') ? ['-r', 'ts-node/register/transpile-only'] : [];
  const child = fork(__filename, [CHILD_FLAG, url, String(pollMs)], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    const messages: { warm?: boolean; latencies?: number[]; error?: string }[] = [];
    let wake: (() => void) | undefined;
    child.on('message', (m) => {
      messages.push(m as (typeof messages)[number]);
      wake?.();
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const next = async (what: string, timeoutMs: number): Promise<(typeof messages)[number]> => {
      const deadline = Date.now() + timeoutMs;
      while (messages.length === 0) {
        if (child.exitCode !== null) throw new Error(`feed bench subscriber exited (${child.exitCode}) before ${what}`);
        if (Date.now() > deadline) throw new Error(`feed bench subscriber: no ${what} within ${timeoutMs} ms`);
        await new Promise<void>((r) => {
          wake = r;
          setTimeout(r, 50);
        });
      }
      const message = messages.shift()!;
      if (message.error) throw new Error(`feed bench subscriber failed: ${message.error}`);
      return message;
    };
    const bench = store.collection('bench_latency');
    let warm = false;
    const warmer = (async () => {
      for (let i = 0; !warm && i < 600; i++) {
        await bench._new({ warm: true, t: now() });
        await sleep(50);
      }
    })();
    await next('warm-up', 60_000);
    warm = true;
    await warmer;
    for (let i = 0; i < writes; i++) {
      await sleep(gap[0] + Math.random() * (gap[1] - gap[0]));
      await bench._new({ i, t: now(), last: i === writes - 1 });
    }
    const { latencies } = await next('latencies', 60_000);
    await exited;
    return figures(latencies!);
  } finally {
    if (child.exitCode === null) child.kill();
  }
}

/** Process B: subscribe from the head and time each timed write's arrival. */
async function subscriberProcess(url: string, pollMs: number): Promise<void> {
  const send = (message: unknown) => new Promise<void>((resolve) => process.send!(message, () => resolve()));
  const store = await openStore(url, { schema: { types: {} } });
  try {
    const from = (await store.log.head()) + 1;
    const latencies: number[] = [];
    let warm = false;
    await new Promise<void>((resolve, reject) => {
      const subscription = store.changes({ from, pollMs, types: ['bench_latency'] }).subscribe({
        next: (event) => {
          const arrived = now();
          const data = event.data as { warm?: boolean; t: number; last?: boolean };
          if (data.warm) {
            if (!warm) void send({ warm: true });
            warm = true;
            return;
          }
          latencies.push(arrived - data.t);
          if (data.last) {
            subscription.unsubscribe();
            resolve();
          }
        },
        error: reject,
      });
    });
    await send({ latencies });
  } catch (error) {
    await send({ error: String((error as Error)?.message ?? error) });
  } finally {
    await store.close();
  }
}

async function fillLog(store: Store, count: number): Promise<void> {
  const countries = ['be', 'nl', 'fr', 'de', 'lu'];
  for (let i = 0; i < count; i += 1000) {
    const batch: ProposedEvent[] = [];
    for (let j = i; j < Math.min(count, i + 1000); j++) {
      const sid = `u${j}`;
      batch.push({ type: 'user', sid, kind: 'created', data: { sid, name: `User ${j}`, email: `${sid}@example.com`, country: countries[j % 5], age: 20 + (j % 50) } });
    }
    await store.eventLog.append(batch);
  }
}

/** Open the store afresh and time `changes({ from: 0 })` to the head. */
async function catchUpRate(url: string, batchSize: number): Promise<FeedBenchResult['catchUp']> {
  const store = await openStore(url, { schema: { types: {} } });
  try {
    const head = await store.log.head();
    const cpu = process.cpuUsage();
    const started = performance.now();
    let events = 0;
    await new Promise<void>((resolve, reject) => {
      const subscription = store.changes({ from: 0, batchSize }).subscribe({
        next: (event) => {
          events++;
          if (event.position >= head) {
            subscription.unsubscribe();
            resolve();
          }
        },
        error: reject,
      });
    });
    const seconds = (performance.now() - started) / 1000;
    const used = process.cpuUsage(cpu);
    return {
      events,
      batchSize,
      seconds: Math.round(seconds * 1000) / 1000,
      eventsPerSecond: Math.round(events / seconds),
      cpuEventsPerSecond: Math.round(events / ((used.user + used.system) / 1e6)),
    };
  } finally {
    await store.close();
  }
}

function figures(samples: number[]): LatencyFigures {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => round(sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]);
  return { samples: sorted.length, p50: at(0.5), p95: at(0.95), p99: at(0.99), max: round(sorted[sorted.length - 1]) };
}

const round = (ms: number) => Math.round(ms * 100) / 100;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

if (require.main === module) {
  if (process.argv[2] === CHILD_FLAG) {
    void subscriberProcess(process.argv[3], Number(process.argv[4]));
  } else {
    const run = async () => {
      if (process.argv[2]) return [await benchFeed({ url: process.argv[2] })];
      return [await benchFeed({ backend: 'sqlite' }), await benchFeed({ backend: 'file' })];
    };
    run().then(
      (results) => process.stdout.write(`${JSON.stringify(results, null, 2)}\n`),
      (error) => {
        process.stderr.write(`feed bench failed: ${(error as Error).stack ?? error}\n`);
        process.exitCode = 1;
      },
    );
  }
}
