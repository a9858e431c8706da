import { fork } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';

/** Options of `runServiceBench`. */
export interface ServiceBenchOptions {
  /** Concurrent keep-alive clients (default 32). */
  concurrency?: number;
  /** Measured time per server, split over alternating rounds (default 4000 ms). */
  durationMs?: number;
  /** Alternating rounds per server (default 4). */
  rounds?: number;
  /** Objects to read from (default 1000). */
  objects?: number;
  /** Writes whose SSE delivery is timed (default 200). */
  sseWrites?: number;
  /** Log every request as the service does by default (default false: warnings only). */
  accessLog?: boolean;
  /** Receives one line per step. */
  progress?: (line: string) => void;
}

/** Throughput and latency of one server under the load. */
export interface LoadFigures {
  requests: number;
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  /** Server CPU time (user + system) per request, in µs: what the server costs, whatever else runs on the machine. */
  cpuUsPerRequest: number;
}

/** What `runServiceBench` measured. */
export interface ServiceBenchResult {
  concurrency: number;
  store: string;
  /** `TYPE_get` over HTTP keep-alive on loopback. */
  get: LoadFigures;
  /** A minimal node:http server answering a constant JSON body, same client, same run. */
  baseline: LoadFigures;
  /**
   * get / baseline for req/s; baseline / get for p99 and for CPU per request (all: higher is better, 1 = as
   * fast as the baseline). The CPU ratio is the steadiest on a shared machine.
   */
  ratio: { reqPerSec: number; p99: number; cpuPerRequest: number };
  /** From sending a write to receiving its SSE event at a connected client. */
  sse: { writes: number; p50Ms: number; p99Ms: number; maxMs: number };
}

interface ServerSpec {
  kind: 'osis' | 'minimal';
  storeUrl?: string;
  accessLog?: boolean;
}

const CONSTANT_BODY = JSON.stringify({ jsonrpc: '2.0', id: 1, result: { sid: 'u000001', name: 'Constant', email: 'c@example.org', country: 'be' } });

/**
 * Measure the service: `user_get` over HTTP keep-alive with N concurrent clients against a minimal
 * node:http server in the same run (rounds alternate so a noisy machine slows both alike), then the
 * latency from a write to its Server-Sent Event. Each server runs in a child process (its CPU time per
 * request is reported too); the client is a lean raw-socket HTTP/1.1 keep-alive client in this process,
 * the same for both.
 */
export async function runServiceBench(options: ServiceBenchOptions = {}): Promise<ServiceBenchResult> {
  const concurrency = options.concurrency ?? 32;
  const durationMs = options.durationMs ?? 4000;
  const rounds = options.rounds ?? 4;
  const objects = options.objects ?? 1000;
  const sseWrites = options.sseWrites ?? 200;
  const progress = options.progress ?? (() => undefined);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osis-service-bench-'));
  const storeUrl = `sqlite:${path.join(dir, 'osis.db')}`;
  const osis = await startServerProcess({ kind: 'osis', storeUrl, accessLog: options.accessLog === true });
  const minimal = await startServerProcess({ kind: 'minimal' });
  try {
    progress(`seeding ${objects} objects`);
    await seed(osis.port, objects);
    const sids = Array.from({ length: objects }, (_, i) => sidOf(i));
    const getRequests = sids.map((sid) => rpcRequest('user_get', { sid }));
    const sample = await once(osis.port, getRequests[0]);
    if (!sample.includes('"result"')) throw new Error(`user_get did not answer a result: ${sample.slice(0, 200)}`);

    const merged = { get: emptyLoad(), baseline: emptyLoad() };
    const slice = Math.max(200, Math.floor(durationMs / rounds));
    await load(minimal.port, getRequests, concurrency, 500);
    await load(osis.port, getRequests, concurrency, 500);
    for (let round = 0; round < rounds; round++) {
      progress(`round ${round + 1}/${rounds}`);
      mergeLoad(merged.baseline, await measured(minimal, () => load(minimal.port, getRequests, concurrency, slice)));
      mergeLoad(merged.get, await measured(osis, () => load(osis.port, getRequests, concurrency, slice)));
    }
    const get = figures(merged.get);
    const baseline = figures(merged.baseline);
    progress(`timing ${sseWrites} writes to their SSE events`);
    const sse = await sseLatency(osis.port, sseWrites);
    return {
      concurrency,
      store: 'sqlite (durability full)',
      get,
      baseline,
      ratio: {
        reqPerSec: get.reqPerSec / baseline.reqPerSec,
        p99: baseline.p99Ms / get.p99Ms,
        cpuPerRequest: baseline.cpuUsPerRequest / get.cpuUsPerRequest,
      },
      sse,
    };
  } finally {
    await osis.stop();
    await minimal.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const sidOf = (i: number) => `u${String(i).padStart(6, '0')}`;

function rpcRequest(method: string, params: unknown, id = 1): Buffer {
  const body = JSON.stringify({ jsonrpc: '2.0', id, method, params });
  return Buffer.from(
    `POST /rpc HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

async function seed(port: number, objects: number): Promise<void> {
  for (let start = 0; start < objects; start += 200) {
    const batch = [];
    for (let i = start; i < Math.min(objects, start + 200); i++) {
      batch.push({ jsonrpc: '2.0', id: i, method: 'user_new', params: { sid: sidOf(i), object: { name: `User ${i}`, email: `u${i}@example.org`, country: i % 2 ? 'be' : 'nl' } } });
    }
    const body = JSON.stringify(batch);
    const answer = await once(port, Buffer.from(`POST /rpc HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`));
    if (answer.includes('"error"')) throw new Error(`seeding failed: ${answer.slice(0, 300)}`);
  }
}

/** One request on a fresh connection; resolves with the response body. */
async function once(port: number, request: Buffer): Promise<string> {
  const connection = await KeepAliveConnection.open(port);
  try {
    return (await connection.send(request)).toString('utf8');
  } finally {
    connection.close();
  }
}

interface RawLoad {
  latencies: number[];
  ms: number;
  errors: number;
  cpuUs: number;
}

const emptyLoad = (): RawLoad => ({ latencies: [], ms: 0, errors: 0, cpuUs: 0 });

function mergeLoad(into: RawLoad, from: RawLoad): void {
  for (const latency of from.latencies) into.latencies.push(latency);
  into.ms += from.ms;
  into.errors += from.errors;
  into.cpuUs += from.cpuUs;
}

/** Run a load and add the CPU time the server spent meanwhile. */
async function measured(server: BenchServer, run: () => Promise<RawLoad>): Promise<RawLoad> {
  const before = await server.cpu();
  const result = await run();
  result.cpuUs = (await server.cpu()) - before;
  return result;
}

function figures(raw: RawLoad): LoadFigures {
  const sorted = [...raw.latencies].sort((a, b) => a - b);
  return {
    requests: sorted.length,
    reqPerSec: sorted.length / (raw.ms / 1000),
    p50Ms: quantile(sorted, 0.5),
    p99Ms: quantile(sorted, 0.99),
    errors: raw.errors,
    cpuUsPerRequest: raw.cpuUs / sorted.length,
  };
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/** `concurrency` keep-alive connections, each sending its next request as soon as the last answered. */
async function load(port: number, requests: readonly Buffer[], concurrency: number, durationMs: number): Promise<RawLoad> {
  const connections = await Promise.all(Array.from({ length: concurrency }, () => KeepAliveConnection.open(port)));
  const result = emptyLoad();
  const started = performance.now();
  const deadline = started + durationMs;
  await Promise.all(
    connections.map(async (connection, c) => {
      let i = c;
      while (performance.now() < deadline) {
        const t = performance.now();
        try {
          await connection.send(requests[i % requests.length]);
          result.latencies.push(performance.now() - t);
        } catch {
          result.errors++;
          return;
        }
        i += concurrency;
      }
    }),
  );
  result.ms = performance.now() - started;
  for (const connection of connections) connection.close();
  return result;
}

/** A minimal HTTP/1.1 keep-alive client over one socket: one request at a time, Content-Length bodies only. */
class KeepAliveConnection {
  private buffer: Buffer = Buffer.alloc(0);
  private pending?: { resolve: (body: Buffer) => void; reject: (error: Error) => void };

  private constructor(private readonly socket: net.Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
      this.parse();
    });
    const fail = (error: Error) => {
      const pending = this.pending;
      this.pending = undefined;
      pending?.reject(error);
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('connection closed')));
  }

  static open(port: number): Promise<KeepAliveConnection> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => resolve(new KeepAliveConnection(socket)));
      socket.once('error', reject);
    });
  }

  send(request: Buffer): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.socket.write(request);
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private parse(): void {
    const end = this.buffer.indexOf('\r\n\r\n');
    if (end < 0 || !this.pending) return;
    const head = this.buffer.subarray(0, end).toString('latin1');
    const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    if (!length) {
      this.pending.reject(new Error(`response without Content-Length: ${head.split('\r\n')[0]}`));
      this.pending = undefined;
      return;
    }
    const total = end + 4 + Number(length[1]);
    if (this.buffer.length < total) return;
    const status = Number(head.slice(9, 12));
    const body = this.buffer.subarray(end + 4, total);
    this.buffer = this.buffer.subarray(total);
    const pending = this.pending;
    this.pending = undefined;
    if (status !== 200) pending.reject(new Error(`HTTP ${status}`));
    else pending.resolve(body);
  }
}

/** Time writes to their SSE events: a subscriber from the head, one write at a time at irregular intervals. */
async function sseLatency(port: number, writes: number): Promise<{ writes: number; p50Ms: number; p99Ms: number; maxMs: number }> {
  const waiting = new Map<string, (at: number) => void>();
  const stream = await new Promise<http.IncomingMessage>((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/events', agent: false }, resolve);
    req.on('error', reject);
  });
  let text = '';
  let opened!: () => void;
  const ready = new Promise<void>((resolve) => (opened = resolve));
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const at = performance.now();
    text += chunk;
    let cut: number;
    while ((cut = text.indexOf('\n\n')) >= 0) {
      const frame = text.slice(0, cut);
      text = text.slice(cut + 2);
      opened();
      const data = frame.split('\n').find((line) => line.startsWith('data: '));
      if (!data) continue;
      const sid = (JSON.parse(data.slice(6)) as { sid: string }).sid;
      waiting.get(sid)?.(at);
    }
  });
  await ready;
  const writer = await KeepAliveConnection.open(port);
  const latencies: number[] = [];
  try {
    for (let i = 0; i < writes; i++) {
      const sid = `sse${i}`;
      const delivered = new Promise<number>((resolve) => waiting.set(sid, resolve));
      const t = performance.now();
      await writer.send(rpcRequest('note_new', { sid, object: { n: i } }));
      const at = await withTimeout(delivered, 5000, `SSE event of ${sid}`);
      latencies.push(at - t);
      waiting.delete(sid);
      await new Promise((resolve) => setTimeout(resolve, (i * 7) % 13));
    }
  } finally {
    writer.close();
    stream.destroy();
  }
  const sorted = latencies.sort((a, b) => a - b);
  return { writes, p50Ms: quantile(sorted, 0.5), p99Ms: quantile(sorted, 0.99), maxMs: sorted[sorted.length - 1] };
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms))),
  ]);
}

interface BenchServer {
  port: number;
  /** CPU time (user + system) the server process has used so far, in µs. */
  cpu(): Promise<number>;
  stop(): Promise<void>;
}

const CHILD_ENV = 'OSIS_SERVICE_BENCH_SERVER';

/** Start a server in a child process of its own, so its CPU time can be read exactly. */
function startServerProcess(spec: ServerSpec): Promise<BenchServer> {
  return new Promise((resolve, reject) => {
    const child = fork(__filename, [], {
      execArgv: __filename.endsWith('.ts') ? ['-r', 'ts-node/register/transpile-only'] : [],
      env: { ...process.env, [CHILD_ENV]: JSON.stringify(spec) },
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    const waiting: Array<(cpu: number) => void> = [];
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`bench server exited with code ${code}`)));
    child.on('message', (message: { port?: number; cpu?: number; error?: string }) => {
      if (message.error !== undefined) reject(new Error(`bench server failed: ${message.error}`));
      else if (message.cpu !== undefined) waiting.shift()?.(message.cpu);
      else if (message.port !== undefined) {
        resolve({
          port: message.port,
          cpu: () =>
            new Promise<number>((done) => {
              waiting.push(done);
              child.send('cpu');
            }),
          stop: async () => {
            const exited = new Promise<void>((done) => child.once('exit', () => done()));
            child.send('stop');
            await exited;
          },
        });
      }
    });
  });
}

/** Child side: start the server the spec names, report its port and CPU time, stop on request. */
async function serveInChild(spec: ServerSpec): Promise<void> {
  let close: () => Promise<void>;
  let port: number;
  if (spec.kind === 'minimal') {
    const server = http.createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(CONSTANT_BODY) });
      res.end(CONSTANT_BODY);
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    port = (server.address() as net.AddressInfo).port;
    close = () => {
      server.closeAllConnections();
      return new Promise<void>((done) => server.close(() => done()));
    };
  } else {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const pino = require('pino') as typeof import('pino');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { startServer } = require('../service') as typeof import('../service');
    const logger = pino.default({ level: spec.accessLog ? 'info' : 'warn' }, pino.destination({ dest: os.devNull, sync: false }));
    const server = await startServer({
      storeUrl: spec.storeUrl!,
      schema: { types: { user: { index: ['country'], unique: ['email'], text: ['name'] } } },
      port: 0,
      logger,
    });
    port = Number(new URL(server.url!).port);
    close = () => server.close();
  }
  process.on('message', async (message) => {
    if (message === 'cpu') {
      const usage = process.cpuUsage();
      process.send!({ cpu: usage.user + usage.system });
    } else if (message === 'stop') {
      await close();
      process.exit(0);
    }
  });
  process.send!({ port });
}

if (process.env[CHILD_ENV] !== undefined && require.main === module) {
  serveInChild(JSON.parse(process.env[CHILD_ENV]) as ServerSpec).catch((error: Error) => {
    process.send!({ error: error.message });
    process.exit(1);
  });
} else if (require.main === module) {
  runServiceBench({ progress: (line) => process.stderr.write(`${line}\n`) }).then(
    (result) => process.stdout.write(`${JSON.stringify(result, null, 2)}\n`),
    (error: Error) => {
      process.stderr.write(`${error.stack}\n`);
      process.exitCode = 1;
    },
  );
}
