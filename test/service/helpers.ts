import * as http from 'node:http';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { startServer, type RunningServer, type ServerOptions } from '../../src/api/service';
import { tempDir } from '../helpers/temp';

export const SCHEMA = { types: { user: { index: ['country'], unique: ['email'], text: ['name', 'bio'] } } };

/** A server under test, with the log lines it wrote. */
export interface TestServer {
  server: RunningServer;
  url: string;
  dir: string;
  logs: string[];
  /** POST a JSON-RPC payload (an object, or raw text) and return status, headers and parsed body. */
  post(payload: unknown, headers?: Record<string, string>): Promise<{ status: number; headers: Headers; body: any }>;
  /** Call one method and return the response object. */
  call(method: string, params?: unknown, headers?: Record<string, string>): Promise<any>;
  close(): Promise<void>;
}

/** Start a real server on a free loopback port (sqlite store in a temp dir unless a URL is given). */
export async function startTestServer(options: Partial<ServerOptions> = {}): Promise<TestServer> {
  const dir = tempDir('osis-serve-');
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, callback) {
      logs.push(...String(chunk).split('\n').filter((l) => l !== ''));
      callback();
    },
  });
  const server = await startServer({
    storeUrl: `sqlite:${path.join(dir, 'osis.db')}`,
    schema: SCHEMA,
    durability: 'normal',
    port: 0,
    logger: pino({ level: 'debug' }, sink),
    ...options,
  });
  const url = server.url ?? '';
  let nextId = 1;
  const post: TestServer['post'] = async (payload, headers = {}) => {
    const response = await fetch(`${url}/rpc`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof payload === 'string' ? payload : JSON.stringify(payload),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text === '' ? undefined : JSON.parse(text) };
  };
  return {
    server,
    url,
    dir,
    logs,
    post,
    async call(method, params, headers) {
      const { body } = await post({ jsonrpc: '2.0', id: nextId++, method, ...(params === undefined ? {} : { params }) }, headers);
      return body;
    },
    close: () => server.close(),
  };
}

/** The result of a call, or a thrown Error carrying the JSON-RPC error. */
export function resultOf(response: any): any {
  if (response.error) throw Object.assign(new Error(response.error.message), { rpc: response.error });
  return response.result;
}

/** A raw HTTP request over a Unix socket or TCP, with node:http. */
export function rawRequest(
  target: { socketPath: string } | { host: string; port: number },
  options: { method: string; path: string; headers?: Record<string, string | number>; body?: string },
): Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ ...target, method: options.method, path: options.path, headers: options.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** One Server-Sent Event as received. */
export interface SseEvent {
  id?: string;
  event?: string;
  data: string;
}

/** A streaming SSE reader over fetch: collects events until asked to stop. */
export class SseClient {
  readonly events: SseEvent[] = [];
  status = 0;
  ended = false;
  private readonly controller = new AbortController();
  private waiters: Array<() => void> = [];
  private opened?: Promise<void>;

  constructor(
    private readonly url: string,
    private readonly headers: Record<string, string> = {},
  ) {}

  /** Connect; resolves once the response headers (and the opening comment) have arrived. */
  open(): Promise<void> {
    this.opened ??= (async () => {
      const response = await fetch(this.url, { headers: this.headers, signal: this.controller.signal });
      this.status = response.status;
      if (!response.body) return;
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let buffer = '';
      let first = true;
      let markOpen!: () => void;
      const ready = new Promise<void>((resolve) => (markOpen = resolve));
      void (async () => {
        try {
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            buffer += decoder.decode(value, { stream: true });
            let cut: number;
            while ((cut = buffer.indexOf('\n\n')) >= 0) {
              const frame = buffer.slice(0, cut);
              buffer = buffer.slice(cut + 2);
              if (first) {
                first = false;
                markOpen();
              }
              this.take(frame);
            }
          }
        } catch {
          // aborted or cut by the server
        }
        this.ended = true;
        markOpen();
        this.wake();
      })();
      await ready;
    })();
    return this.opened;
  }

  /** Wait until `predicate` holds over the events received (or the stream ends, or time runs out). */
  async waitFor(predicate: (events: SseEvent[]) => boolean, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.events)) {
      if (this.ended) throw new Error(`stream ended; received ${this.events.length} events`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out; received ${this.events.length} events`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  close(): void {
    this.controller.abort();
  }

  private take(frame: string): void {
    const event: SseEvent = { data: '' };
    let hasData = false;
    for (const line of frame.split('\n')) {
      if (line.startsWith(':') || line === '') continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'id') event.id = value;
      else if (field === 'event') event.event = value;
      else if (field === 'data') {
        event.data = hasData ? `${event.data}\n${value}` : value;
        hasData = true;
      }
    }
    if (hasData) {
      this.events.push(event);
      this.wake();
    }
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }
}
