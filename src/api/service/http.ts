import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { MAX_OBJECT_BYTES } from '../library/validate';
import { isLoopbackHostHeader, type TokenCheck } from './auth';
import { DEFAULT_CONTEXT, type ContextRegistry } from './contexts';
import { ServiceError, codeOf, httpStatusOf, isUnexpected, toRpcError } from './errors';
import type { ServiceMetrics } from './metrics';
import type { RpcEndpoint } from './rpc';
import { parseStreamStart, type EventStreams } from './sse';

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Largest request body accepted, in bytes. */
export const MAX_BODY_BYTES = MAX_OBJECT_BYTES;

export interface HttpAppOptions {
  contexts: ContextRegistry;
  rpc: RpcEndpoint;
  streams: EventStreams;
  metrics: ServiceMetrics;
  logger: Logger;
  openRpc: () => unknown;
  /** Set when a token is required on every route but /health. */
  token?: TokenCheck;
  /** Refuse requests whose Host header is not a loopback name (no token, loopback TCP). */
  loopbackHostsOnly: boolean;
  /** The whole request body must arrive within this many ms. */
  bodyTimeoutMs: number;
  /** The browser UI (src/api/web), mounted on the same port. */
  web?: WebMount;
}

/** What the HTTP edge needs of the browser UI: the paths it serves, its handler, and its session check. */
export interface WebMount {
  routes(pathname: string): boolean;
  /** Answers the request itself (auth by bearer header or session cookie, errors as pages). */
  handle(req: IncomingMessage, res: ServerResponse, pathname: string, query: URLSearchParams): Promise<void>;
  /** True when the request carries a signed-in session cookie (accepted on GET /events in place of the bearer header). */
  signedIn(req: IncomingMessage): boolean;
}

const ROUTES: Record<string, string> = { '/rpc': 'POST', '/openrpc.json': 'GET', '/health': 'GET', '/events': 'GET', '/metrics': 'GET' };
const JSON_TYPE = /^application\/(json|json-rpc)\s*(;.*)?$/i;

/**
 * The HTTP edge: routing, auth, body limits, and the shape of every answer. Tracks requests in flight so
 * shutdown can wait for them.
 */
export class HttpApp {
  private inFlight = 0;
  private drained: Array<() => void> = [];
  private closing = false;
  private readonly accessLog: boolean;
  private readonly hostVerdicts = new Map<string, boolean>();

  constructor(private readonly o: HttpAppOptions) {
    this.accessLog = o.logger.isLevelEnabled('info');
  }

  /** Stop taking new requests; resolves when the ones in flight have answered. */
  drain(): Promise<void> {
    this.closing = true;
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.drained.push(resolve));
  }

  /** The `request` listener of an http.Server; `viaSocket` is true on the Unix-socket listener. */
  handle(req: IncomingMessage, res: ServerResponse, viaSocket: boolean): void {
    const started = process.hrtime.bigint();
    const raw = req.url ?? '/';
    const mark = raw.indexOf('?');
    const pathname = mark < 0 ? raw : raw.slice(0, mark);
    const route = Object.prototype.hasOwnProperty.call(ROUTES, pathname) ? pathname : this.o.web?.routes(pathname) ? 'web' : 'other';
    this.inFlight++;
    res.once('close', () => {
      this.inFlight--;
      this.o.metrics.request(route, res.statusCode);
      if (this.accessLog && route !== '/health' && route !== '/metrics') {
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        this.o.logger.info({ method: req.method, path: pathname, status: res.statusCode, ms: Math.round(ms * 1000) / 1000 }, 'request');
      }
      if (this.inFlight === 0 && this.drained.length > 0) for (const resolve of this.drained.splice(0)) resolve();
    });
    const query = () => new URLSearchParams(mark < 0 ? '' : raw.slice(mark + 1));
    this.route(req, res, pathname, query, route, viaSocket).catch((error) => this.fail(res, error, req));
  }

  private async route(
    req: IncomingMessage,
    res: ServerResponse,
    pathname: string,
    query: () => URLSearchParams,
    route: string,
    viaSocket: boolean,
  ): Promise<void> {
    if (this.closing) {
      res.setHeader('Connection', 'close');
      throw new ServiceError('UNAVAILABLE', 'the server is shutting down');
    }
    if (this.o.loopbackHostsOnly && !viaSocket && !this.loopbackHost(req.headers.host)) {
      throw new ServiceError('UNAUTHORIZED', 'this server only answers requests addressed to a loopback host name', { reason: 'host' });
    }
    if (route === 'web') return this.o.web!.handle(req, res, pathname, query());
    if (route === 'other') throw new ServiceError('NOT_ROUTED', `no route ${pathname}: use POST /rpc, GET /openrpc.json, /events, /health or /metrics`);
    const headToo = ROUTES[route] === 'GET' && route !== '/events';
    if (req.method !== ROUTES[route] && !(req.method === 'HEAD' && headToo)) {
      res.setHeader('Allow', headToo ? 'GET, HEAD' : ROUTES[route]);
      return this.send(res, 405, { error: { code: -32600, message: `${pathname} takes ${ROUTES[route]}`, data: { code: 'INVALID_REQUEST' } } });
    }
    if (route === '/health') return this.send(res, 200, { status: 'ok' });
    if (this.o.token && !(route === '/events' && this.o.web?.signedIn(req))) {
      try {
        this.o.token.verify(req.headers.authorization);
      } catch (error) {
        res.setHeader('WWW-Authenticate', 'Bearer realm="osis"');
        throw error;
      }
    }
    const context = contextOf(req);
    switch (route) {
      case '/rpc':
        return this.rpc(req, res, context);
      case '/openrpc.json':
        return this.send(res, 200, this.o.openRpc());
      case '/metrics': {
        const text = await this.o.metrics.registry.metrics();
        return this.sendText(res, 200, text, this.o.metrics.registry.contentType);
      }
      case '/events': {
        const params = query();
        const start = parseStreamStart(req, params);
        const name = params.get('context') ?? context;
        const release = await this.o.contexts.pin(name);
        res.once('close', release);
        const store = await this.o.contexts.store(name);
        if (this.o.streams.full) throw new ServiceError('UNAVAILABLE', 'too many event subscribers; retry later');
        return this.o.streams.open(res, store, name, start);
      }
    }
  }

  private async rpc(req: IncomingMessage, res: ServerResponse, context: string): Promise<void> {
    const type = req.headers['content-type'];
    if (!type || !JSON_TYPE.test(type)) {
      res.setHeader('Connection', 'close');
      return this.send(res, 415, {
        jsonrpc: '2.0',
        id: null,
        error: { code: -32600, message: 'Content-Type must be application/json', data: { code: 'INVALID_REQUEST' } },
      });
    }
    const body = await readBody(req, MAX_BODY_BYTES, this.o.bodyTimeoutMs);
    const response = await this.o.rpc.respond(body, { context });
    if (response === undefined) {
      res.writeHead(204);
      res.end();
      return;
    }
    this.sendText(res, 200, response, 'application/json; charset=utf-8');
  }

  /** Answer a whole request with an error: JSON-RPC shaped on /rpc, `{error}` elsewhere. */
  private fail(res: ServerResponse, error: unknown, req: IncomingMessage): void {
    if (isUnexpected(error)) this.o.logger.error({ err: error, path: req.url }, 'unexpected error');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const rpcError = toRpcError(error);
    const status = httpStatusOf(error);
    if (codeOf(error) === 'TOO_LARGE' || codeOf(error) === 'TIMEOUT') res.setHeader('Connection', 'close');
    const onRpc = req.url?.startsWith('/rpc') === true;
    this.send(res, status, onRpc ? { jsonrpc: '2.0', id: null, error: rpcError } : { error: rpcError });
  }

  private send(res: ServerResponse, status: number, body: unknown): void {
    this.sendText(res, status, JSON.stringify(body), 'application/json; charset=utf-8');
  }

  private sendText(res: ServerResponse, status: number, text: string, contentType: string): void {
    if (this.closing) res.setHeader('Connection', 'close');
    res.writeHead(status, {
      'Content-Type': contentType,
      'Content-Length': Buffer.byteLength(text),
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
    });
    res.end(text);
  }

  private loopbackHost(host: string | undefined): boolean {
    if (host === undefined) return false;
    let verdict = this.hostVerdicts.get(host);
    if (verdict === undefined) {
      verdict = isLoopbackHostHeader(host);
      if (this.hostVerdicts.size >= 64) this.hostVerdicts.clear();
      this.hostVerdicts.set(host, verdict);
    }
    return verdict;
  }
}

function contextOf(req: IncomingMessage): string {
  const header = req.headers['x-hero-context'];
  const value = Array.isArray(header) ? header[0] : header;
  return value === undefined || value === '' ? DEFAULT_CONTEXT : value.trim();
}

/**
 * Read a request body of at most `limit` bytes within `timeoutMs`. A declared Content-Length over the
 * limit is refused before a byte is read; a chunked body is refused as soon as it passes the limit.
 */
export function readBody(req: IncomingMessage, limit: number, timeoutMs: number): Promise<string> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    return Promise.reject(new ServiceError('TOO_LARGE', `request body is larger than ${limit} bytes`, { limit: 'bytes', max: limit }));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (error?: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      if (error) {
        req.resume();
        reject(error);
      } else {
        try {
          resolve(UTF8.decode(Buffer.concat(chunks, size)));
        } catch {
          reject(new ServiceError('PARSE_ERROR', 'the request body is not valid UTF-8'));
        }
      }
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) settle(new ServiceError('TOO_LARGE', `request body is larger than ${limit} bytes`, { limit: 'bytes', max: limit }));
      else chunks.push(chunk);
    };
    const onEnd = () => settle();
    const onError = (error: Error) => settle(error);
    const timer = setTimeout(() => settle(new ServiceError('TIMEOUT', `request body did not arrive within ${timeoutMs} ms`)), timeoutMs);
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}
