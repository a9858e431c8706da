import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import pino from 'pino';
import { startServer } from '../service';
import { openStore } from '../index';
import { BENCH_TYPE, COMMON_TERM, RARE_TERMS, bulkSid } from './data';
import { insertIntoSqliteLog } from './loader';

/** Options of `runWebBench`. */
export interface WebBenchOptions {
  /** Objects in the store (default 1,000,000). */
  objects?: number;
  /** Keep the store here and reuse it on the next run (default: a temporary directory, removed after). */
  dir?: string;
  /** Timed requests per page (default 100), after 5 untimed ones. */
  requests?: number;
  progress?: (line: string) => void;
}

/** Latency of one page. */
export interface PageFigures {
  path: string;
  requests: number;
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
  bytes: number;
}

/** What `runWebBench` measured. */
export interface WebBenchResult {
  objects: number;
  store: string;
  /** How long building the store took (0 when an existing one was reused). */
  loadMs: number;
  rebuildMs: number;
  pages: PageFigures[];
}

/** The bench documents with an indexed, faceted `tag` (five values) and full text. */
export const WEB_BENCH_SCHEMA = { types: { [BENCH_TYPE]: { index: ['tag'], unique: [], text: ['title', 'body'] } } };

/**
 * Page times of the web UI on a big sqlite store: the log is bulk-inserted and the projections derived
 * with `store.rebuild()`, then each page is fetched one request at a time (no concurrency) from
 * `osis serve` in this process, the way one person browsing would.
 */
export async function runWebBench(options: WebBenchOptions = {}): Promise<WebBenchResult> {
  const objects = options.objects ?? 1_000_000;
  const requests = options.requests ?? 100;
  const log = options.progress ?? (() => undefined);
  const dir = options.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'osis-web-bench-'));
  const file = path.join(dir, `web-${objects}.db`);
  const url = `sqlite:${file}`;
  let loadMs = 0;
  let rebuildMs = 0;
  try {
    if (!fs.existsSync(file)) {
      fs.mkdirSync(dir, { recursive: true });
      await (await openStore(url, { schema: WEB_BENCH_SCHEMA, durability: 'normal' })).close();
      log(`loading ${objects} objects into ${file}`);
      const t0 = performance.now();
      insertIntoSqliteLog(file, { objects, eventsPerObject: 1, seed: 7 });
      const t1 = performance.now();
      const store = await openStore(url, { schema: WEB_BENCH_SCHEMA, durability: 'normal' });
      await store.rebuild((done, total) => done % 100_000 < 20_000 && log(`rebuild ${done}/${total}`));
      await store.close();
      loadMs = t1 - t0;
      rebuildMs = performance.now() - t1;
      log(`loaded in ${Math.round(loadMs)} ms, projections built in ${Math.round(rebuildMs)} ms`);
    }
    const server = await startServer({ storeUrl: url, schema: WEB_BENCH_SCHEMA, durability: 'normal', port: 0, logger: pino({ level: 'warn' }) });
    try {
      const base = server.url!;
      const middle = bulkSid(Math.floor(objects / 2));
      const second = (await (await fetch(`${base}/t/${BENCH_TYPE}.json?limit=50`)).json()) as { next_cursor: string };
      const paths = [
        '/',
        `/t/${BENCH_TYPE}`,
        `/t/${BENCH_TYPE}?cursor=${encodeURIComponent(second.next_cursor)}`,
        `/t/${BENCH_TYPE}?tag=alpha`,
        `/t/${BENCH_TYPE}?tag=alpha&tag=beta`,
        `/t/${BENCH_TYPE}?q=${RARE_TERMS[0]}`,
        `/t/${BENCH_TYPE}?q=${RARE_TERMS[0]}&tag=gamma`,
        `/t/${BENCH_TYPE}?q=${COMMON_TERM}`,
        `/t/${BENCH_TYPE}/${middle}`,
        `/t/${BENCH_TYPE}/${middle}?at=1`,
        '/log',
        `/log?type=${BENCH_TYPE}`,
        '/projections',
        '/index.json',
        `/t/${BENCH_TYPE}.json?tag=alpha`,
      ];
      const pages: PageFigures[] = [];
      for (const page of paths) {
        const figures = await timePage(base, page, requests);
        log(`${page}: p50 ${figures.p50Ms.toFixed(1)} ms, p95 ${figures.p95Ms.toFixed(1)} ms`);
        pages.push(figures);
      }
      return { objects, store: 'sqlite', loadMs, rebuildMs, pages };
    } finally {
      await server.close();
    }
  } finally {
    if (!options.dir) fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function timePage(base: string, page: string, requests: number): Promise<PageFigures> {
  const times: number[] = [];
  let bytes = 0;
  for (let i = 0; i < requests + 5; i++) {
    const t0 = performance.now();
    const response = await fetch(`${base}${page}`);
    const body = await response.arrayBuffer();
    const ms = performance.now() - t0;
    if (response.status !== 200) throw new Error(`${page} answered ${response.status}`);
    if (i >= 5) times.push(ms);
    bytes = body.byteLength;
  }
  times.sort((a, b) => a - b);
  const at = (q: number) => times[Math.min(times.length - 1, Math.ceil(q * times.length) - 1)];
  return { path: page, requests, p50Ms: at(0.5), p95Ms: at(0.95), maxMs: times[times.length - 1], bytes };
}
