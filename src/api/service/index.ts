import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import pino, { type Logger } from 'pino';
import { InvalidInputError } from '../../log/errors';
import type { Durability } from '../../log/event-log';
import type { SchemaInput } from '../library/schema';
import { TokenCheck, assertToken, isLoopbackHost } from './auth';
import { ContextRegistry, DEFAULT_CONTEXT_LIMITS } from './contexts';
import { HttpApp } from './http';
import { MethodTable } from './methods';
import { ServiceMetrics } from './metrics';
import { openRpcDocument } from './openrpc';
import { RpcEndpoint } from './rpc';
import { EventStreams } from './sse';
import { WebUi } from '../web';

/** Options of `startServer`. */
export interface ServerOptions {
  /** The base store (the `default` context); other contexts live beside it. */
  storeUrl: string;
  /** Schema (parsed, or a TOML file path); default `./osis.toml` when present. */
  schema?: SchemaInput | string;
  durability?: Durability;
  /** TCP host (default 127.0.0.1). A non-loopback host needs a token. */
  host?: string;
  /** TCP port (default 8787; 0 picks a free one). */
  port?: number;
  /** Unix socket path. Given alone (no host/port), the server listens on the socket only. */
  socket?: string;
  /** Bearer token required on every route but /health. */
  token?: string;
  /** JSON-line logger (pino). Default: pino on stdout at info level. Tokens are never logged. */
  logger?: Logger;
  /** A call (or a request body) taking longer answers TIMEOUT. Default 30,000 ms. */
  requestTimeoutMs?: number;
  /** An SSE subscriber with more unsent bytes than this is dropped. Default 4 MiB. */
  sseMaxBufferBytes?: number;
  /** SSE heartbeat interval. Default 15,000 ms. */
  sseHeartbeatMs?: number;
  /** Most SSE subscribers at once. Default 256. */
  sseMaxClients?: number;
  /** How long close() waits for requests in flight before cutting connections. Default 10,000 ms. */
  shutdownGraceMs?: number;
  /** Most contexts that may exist, default included (default 1,000): context_create past it answers -32004. */
  maxContexts?: number;
  /** Most context stores open at once (default 64); the least recently used idle one is closed past it. */
  maxOpenContexts?: number;
}

/** A running server. */
export interface RunningServer {
  /** `http://HOST:PORT` of the TCP listener, when there is one. */
  url?: string;
  /** Path of the Unix-socket listener, when there is one. */
  socketPath?: string;
  /** Stop accepting, let requests in flight finish, end event streams, close the stores. Idempotent. */
  close(): Promise<void>;
}

const OPTION_KEYS = new Set([
  'storeUrl', 'schema', 'durability', 'host', 'port', 'socket', 'token', 'logger',
  'requestTimeoutMs', 'sseMaxBufferBytes', 'sseHeartbeatMs', 'sseMaxClients', 'shutdownGraceMs', 'maxContexts', 'maxOpenContexts',
]);

/**
 * Start the JSON-RPC 2.0 service (`osis serve`): POST /rpc, GET /openrpc.json, /health, /events, /metrics.
 * Refuses to start on a non-loopback host without a token.
 */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const o = checkOptions(options);
  // A port in use fails here, before the store (and its files) is created.
  if (o.tcp && o.port !== 0) await probePort(o.host, o.port);
  const logger = options.logger ?? pino({ name: 'osis', redact: { paths: ['token', '*.authorization', 'headers.authorization'], censor: '[redacted]' } });
  const contexts = await ContextRegistry.open(
    o.storeUrl,
    {
      ...(options.schema !== undefined ? { schema: options.schema } : {}),
      ...(options.durability !== undefined ? { durability: options.durability } : {}),
    },
    { maxContexts: o.maxContexts, maxOpen: o.maxOpenContexts },
  );
  const servers: http.Server[] = [];
  try {
    const schema = (await contexts.store('default')).schema;
    let document: unknown = openRpcDocument(schema, packageVersion());
    let metrics: ServiceMetrics | undefined;
    const streams = new EventStreams(
      { maxBufferBytes: o.sseMaxBufferBytes, heartbeatMs: o.sseHeartbeatMs, maxClients: o.sseMaxClients },
      (context, position) => {
        metrics?.droppedSubscriber(context);
        logger.warn({ context, position }, 'dropped a slow event subscriber');
      },
    );
    metrics = new ServiceMetrics(contexts, streams);
    const methods = new MethodTable(contexts, schema, () => document, { onAppend: (context, n) => metrics?.append(context, n) });
    const rpc = new RpcEndpoint(methods, {
      callTimeoutMs: o.requestTimeoutMs,
      observe: (method, seconds, error) => metrics?.call(method, seconds, error),
      onUnexpected: (error, method) => logger.error({ err: error, method }, 'unexpected error in a call'),
    });
    const tokenCheck = o.token !== undefined ? new TokenCheck(o.token) : undefined;
    const web = new WebUi({ contexts, logger, bodyTimeoutMs: o.requestTimeoutMs, ...(tokenCheck ? { token: tokenCheck } : {}) });
    const app = new HttpApp({
      contexts,
      rpc,
      streams,
      metrics,
      logger,
      openRpc: () => document,
      ...(tokenCheck ? { token: tokenCheck } : {}),
      web,
      loopbackHostsOnly: o.token === undefined,
      bodyTimeoutMs: o.requestTimeoutMs,
    });
    const running: RunningServer = { close: async () => undefined };
    const make = (viaSocket: boolean) => {
      const server = http.createServer({ requestTimeout: o.requestTimeoutMs + 1000, headersTimeout: Math.min(10_000, o.requestTimeoutMs), keepAliveTimeout: 5_000 }, (req, res) =>
        app.handle(req, res, viaSocket),
      );
      servers.push(server);
      return server;
    };
    if (o.tcp) {
      const server = make(false);
      await listen(server, { host: o.host, port: o.port });
      const address = server.address() as net.AddressInfo;
      running.url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
      document = openRpcDocument(schema, packageVersion(), `${running.url}/rpc`);
    }
    if (o.socket) {
      const socketPath = path.resolve(o.socket);
      await clearStaleSocket(socketPath);
      await listen(make(true), { path: socketPath });
      fs.chmodSync(socketPath, 0o600);
      running.socketPath = socketPath;
    }
    let closing: Promise<void> | undefined;
    running.close = () => (closing ??= shutdown(servers, app, streams, contexts, o.shutdownGraceMs, running.socketPath));
    logger.info({ url: running.url, socket: running.socketPath, auth: o.token !== undefined }, 'osis service listening');
    return running;
  } catch (error) {
    for (const server of servers) server.close();
    await contexts.close();
    throw error;
  }
}

interface CheckedOptions {
  storeUrl: string;
  tcp: boolean;
  host: string;
  port: number;
  socket?: string;
  token?: string;
  requestTimeoutMs: number;
  sseMaxBufferBytes: number;
  sseHeartbeatMs: number;
  sseMaxClients: number;
  shutdownGraceMs: number;
  maxContexts: number;
  maxOpenContexts: number;
}

function checkOptions(options: ServerOptions): CheckedOptions {
  if (options === null || typeof options !== 'object') throw new InvalidInputError('startServer needs an options object');
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.has(key)) throw new InvalidInputError(`unknown startServer option ${JSON.stringify(key)} (expected ${[...OPTION_KEYS].join(', ')})`);
  }
  if (typeof options.storeUrl !== 'string' || options.storeUrl === '') throw new InvalidInputError('storeUrl must be a store URL');
  const host = options.host ?? '127.0.0.1';
  if (typeof host !== 'string' || host === '') throw new InvalidInputError('host must be a host name or address');
  const port = options.port ?? 8787;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidInputError(`port must be an integer from 0 to 65535, got ${String(port)}`);
  if (options.socket !== undefined && (typeof options.socket !== 'string' || options.socket === '' || options.socket.includes('\0'))) {
    throw new InvalidInputError('socket must be a file path');
  }
  if (options.token !== undefined) assertToken(options.token);
  const tcp = options.socket === undefined || options.host !== undefined || options.port !== undefined;
  if (tcp && !isLoopbackHost(host) && options.token === undefined) {
    throw new InvalidInputError(`refusing to listen on non-loopback host ${host} without a token: pass --token or set OSIS_TOKEN`);
  }
  const positive = (name: keyof ServerOptions, fallback: number): number => {
    const value = options[name] ?? fallback;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw new InvalidInputError(`${name} must be a positive integer`);
    return value;
  };
  return {
    storeUrl: options.storeUrl,
    tcp,
    host,
    port,
    ...(options.socket !== undefined ? { socket: options.socket } : {}),
    ...(options.token !== undefined ? { token: options.token } : {}),
    requestTimeoutMs: positive('requestTimeoutMs', 30_000),
    sseMaxBufferBytes: positive('sseMaxBufferBytes', 4 * 1024 * 1024),
    sseHeartbeatMs: positive('sseHeartbeatMs', 15_000),
    sseMaxClients: positive('sseMaxClients', 256),
    shutdownGraceMs: positive('shutdownGraceMs', 10_000),
    maxContexts: positive('maxContexts', DEFAULT_CONTEXT_LIMITS.maxContexts),
    maxOpenContexts: positive('maxOpenContexts', DEFAULT_CONTEXT_LIMITS.maxOpen),
  };
}

/** Bind `host:port` for a moment and let it go: fails with the same error as the real listen would. */
async function probePort(host: string, port: number): Promise<void> {
  const probe = net.createServer();
  await listen(probe, { host, port });
  await new Promise<void>((resolve) => probe.close(() => resolve()));
}

function listen(server: http.Server | net.Server, target: net.ListenOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      const where = target.path ?? `${target.host}:${target.port}`;
      reject(new Error(`cannot listen on ${where}: ${error.code ?? error.message}`, { cause: error }));
    };
    server.once('error', onError);
    server.listen(target, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/** Remove a socket file left by a server that died; refuse when a server still answers on it. */
async function clearStaleSocket(socketPath: string): Promise<void> {
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(socketPath);
  } catch {
    return;
  }
  if (!stat.isSocket()) throw new InvalidInputError(`${socketPath} exists and is not a socket`);
  const live = await new Promise<boolean>((resolve) => {
    const probe = net.connect(socketPath);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (live) throw new Error(`cannot listen on ${socketPath}: another server is listening there`);
  fs.rmSync(socketPath, { force: true });
}

async function shutdown(
  servers: http.Server[],
  app: HttpApp,
  streams: EventStreams,
  contexts: ContextRegistry,
  graceMs: number,
  socketPath: string | undefined,
): Promise<void> {
  const closed = servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve())));
  for (const server of servers) server.closeIdleConnections();
  streams.closeAll();
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([app.drain(), new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
  clearTimeout(timer);
  for (const server of servers) server.closeAllConnections();
  await Promise.all(closed);
  await contexts.close();
  if (socketPath) fs.rmSync(socketPath, { force: true });
}

let version: string | undefined;
function packageVersion(): string {
  if (version === undefined) {
    try {
      version = String(JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', '..', 'package.json'), 'utf8')).version);
    } catch {
      version = '0.0.0';
    }
  }
  return version;
}
