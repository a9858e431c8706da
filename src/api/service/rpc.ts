import { JSONRPCServer, createJSONRPCErrorResponse, type JSONRPCID, type JSONRPCRequest, type JSONRPCResponse } from 'json-rpc-2.0';
import { MAX_DEPTH } from '../library/validate';
import { scanJson, unsafeIntegerError } from '../library/json-input';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { ReadBudget } from '../library/collection';
import { ServiceError, echo, isUnexpected, toRpcError } from './errors';
import type { CallContext, MethodTable } from './methods';

/** Most calls in one batch. */
export const MAX_BATCH = 1000;
/** Most rows (objects, sids, events) the calls of one request may ask for, summed over its calls' limits. */
export const MAX_REQUEST_ROWS = 10_000;
/** Largest response body: reads stop early with a cursor, later calls of a batch answer -32004. */
export const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;
/** Most objects the filters of one request may examine without an index before they stop with a cursor. */
export const MAX_REQUEST_SCAN_ROWS = 1_000_000;
/** Bracket levels a request may hold beyond MAX_DEPTH: the value's own root, params, request and batch. */
const ENVELOPE_DEPTH = 4;

/** Observes each call, for logs and metrics. */
export interface CallObserver {
  (method: string, seconds: number, error: unknown | undefined): void;
}

/** Per-call settings. */
export interface RpcOptions {
  /** A call still running after this many ms answers TIMEOUT (its write may still complete). */
  callTimeoutMs: number;
  observe?: CallObserver;
  /** Called with errors the service did not raise on purpose (to log them with their stack). */
  onUnexpected?: (error: unknown, method: string) => void;
}

/**
 * JSON-RPC 2.0 over a request body, using the `json-rpc-2.0` server for dispatch, notifications and
 * response shapes. The envelope is checked strictly first (the library is lenient), and batches are run
 * here one call after the other, so a batch of one answers with an array of one as the spec says.
 */
export class RpcEndpoint {
  private readonly server = new JSONRPCServer<CallContext>({ errorListener: () => undefined });

  constructor(
    private readonly methods: MethodTable,
    private readonly options: RpcOptions,
  ) {
    this.server.mapErrorToJSONRPCErrorResponse = (id: JSONRPCID, error: unknown) => {
      const { code, message, data } = toRpcError(error);
      return createJSONRPCErrorResponse(id, code, message, data);
    };
    this.server.handleMethodNotFound = async (request: JSONRPCRequest) => {
      const method = echo(String(request.method));
      throw new ServiceError('METHOD_NOT_FOUND', `unknown method ${JSON.stringify(method)}`, { method });
    };
    this.server.applyMiddleware((next, request, call) => this.around(next, request, call));
  }

  /** Answer a request body: the response payload, or undefined when there is nothing to answer (notifications only). */
  async handle(body: string, call: CallContext): Promise<JSONRPCResponse | JSONRPCResponse[] | undefined> {
    const text = await this.respond(body, call);
    return text === undefined ? undefined : JSON.parse(text);
  }

  /**
   * Answer a request body with the response text, or undefined when there is nothing to answer. A batch
   * runs one call after the other, yielding to the event loop between them; its calls share one budget
   * of rows, scanned objects and response bytes (MAX_REQUEST_ROWS, MAX_REQUEST_SCAN_ROWS,
   * MAX_RESPONSE_BYTES), and each response is serialized as soon as its call is done.
   */
  async respond(body: string, call: CallContext): Promise<string | undefined> {
    const scan = scanJson(body);
    if (scan.depth > MAX_DEPTH + ENVELOPE_DEPTH) {
      return text(errorResponse(null, new ServiceError('TOO_LARGE', `request nested deeper than ${MAX_DEPTH}`, { limit: 'depth', max: MAX_DEPTH })));
    }
    let payload: unknown;
    try {
      payload = JSON.parse(body);
    } catch (error) {
      return text(errorResponse(null, new ServiceError('PARSE_ERROR', `parse error: ${(error as Error).message}`)));
    }
    if (scan.unsafeInteger !== undefined) {
      const id = (payload as { id?: unknown } | null)?.id;
      return text(errorResponse(!Array.isArray(payload) && validId(id) ? id : null, unsafeIntegerError('params', scan.unsafeInteger)));
    }
    const requests = Array.isArray(payload) ? payload : [payload];
    if (requests.length === 0) return text(errorResponse(null, new ServiceError('INVALID_REQUEST', 'a batch must hold at least one request')));
    if (requests.length > MAX_BATCH) {
      return text(errorResponse(null, new ServiceError('TOO_LARGE', `a batch may hold at most ${MAX_BATCH} requests`, { limit: 'batch', max: MAX_BATCH })));
    }
    const rows = requests.reduce((sum: number, r) => sum + this.declaredRows(r), 0);
    if (rows > MAX_REQUEST_ROWS) {
      const single = Array.isArray(payload) ? undefined : (payload as { id?: unknown } | null)?.id;
      return text(
        errorResponse(
          validId(single) ? single : null,
          new ServiceError('TOO_LARGE', `the calls of one request may ask for at most ${MAX_REQUEST_ROWS} rows in all (their limits add up to ${rows}); split it`, {
            limit: 'rows',
            max: MAX_REQUEST_ROWS,
            requested: rows,
          }),
        ),
      );
    }
    const budget = requestBudget();
    const parts: string[] = [];
    let sent = 0;
    for (let i = 0; i < requests.length; i++) {
      if (i > 0) await yieldToLoop();
      budget.bytes = MAX_RESPONSE_BYTES - sent;
      let response = await this.one(requests[i], { ...call, budget });
      if (!response) continue;
      let part = text(response);
      if (parts.length > 0 && sent + part.length > MAX_RESPONSE_BYTES) {
        response = errorResponse(response.id, budget.refuse('bytes'));
        part = text(response);
      }
      sent += part.length + 1;
      parts.push(part);
    }
    if (parts.length === 0) return undefined;
    return Array.isArray(payload) ? `[${parts.join(',')}]` : parts[0];
  }

  /** The rows a request may return, from its method and `limit` (what the row budget counts). */
  private declaredRows(request: unknown): number {
    const r = request as { method?: unknown; params?: unknown } | null;
    if (typeof r?.method !== 'string') return 0;
    const rows = this.methods.lookup(r.method).rows;
    return rows ? rows(r.params) : 1;
  }

  private async one(request: unknown, call: CallContext): Promise<JSONRPCResponse | null> {
    const problem = envelopeProblem(request);
    if (problem) {
      const id = validId((request as { id?: unknown } | null)?.id) ? (request as { id: JSONRPCID }).id : null;
      return errorResponse(id, new ServiceError('INVALID_REQUEST', `invalid request: ${problem}`));
    }
    return this.server.receive(request as JSONRPCRequest, call);
  }

  private async around(
    next: (request: JSONRPCRequest, call: CallContext) => PromiseLike<JSONRPCResponse | null>,
    request: JSONRPCRequest,
    call: CallContext,
  ): Promise<JSONRPCResponse | null> {
    const started = process.hrtime.bigint();
    const { handler, label } = this.methods.lookup(request.method);
    let failure: unknown;
    let timer: NodeJS.Timeout | undefined;
    try {
      if (!handler) return await next(request, call); // the library answers -32601 through handleMethodNotFound
      // The timeout answers at once; the abort stops work that can stop (a scan between slices, a paged read).
      const abort = new AbortController();
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          const error = new ServiceError('TIMEOUT', `${request.method} did not finish within ${this.options.callTimeoutMs} ms`, { max_ms: this.options.callTimeoutMs });
          abort.abort(error);
          reject(error);
        }, this.options.callTimeoutMs);
      });
      const budget = call.budget ? Object.assign(call.budget, { signal: abort.signal }) : undefined;
      const result = await Promise.race([handler(request.params, budget ? { ...call, budget } : call), timeout]);
      return request.id === undefined ? null : { jsonrpc: '2.0', id: request.id, result: result === undefined ? null : result };
    } catch (error) {
      failure = error;
      if (isUnexpected(error)) this.options.onUnexpected?.(error, request.method);
      throw error;
    } finally {
      if (timer) clearTimeout(timer);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      this.options.observe?.(label, seconds, failure ?? (handler ? undefined : new ServiceError('METHOD_NOT_FOUND', '')));
    }
  }
}

/** A fresh budget for the calls of one request. */
function requestBudget(): ReadBudget {
  return {
    bytes: MAX_RESPONSE_BYTES,
    scanRows: MAX_REQUEST_SCAN_ROWS,
    refuse: (bound) =>
      bound === 'bytes'
        ? new ServiceError('TOO_LARGE', `the response reached ${MAX_RESPONSE_BYTES} bytes; send this call in another request`, {
            limit: 'response_bytes',
            max: MAX_RESPONSE_BYTES,
          })
        : new ServiceError('TOO_LARGE', `the filters of this request examined ${MAX_REQUEST_SCAN_ROWS} objects without an index; send this call in another request or declare an index`, {
            limit: 'scan_rows',
            max: MAX_REQUEST_SCAN_ROWS,
          }),
  };
}

function text(response: JSONRPCResponse): string {
  return JSON.stringify(response);
}

function errorResponse(id: JSONRPCID, error: unknown): JSONRPCResponse {
  const { code, message, data } = toRpcError(error);
  return createJSONRPCErrorResponse(id, code, message, data);
}

function validId(id: unknown): id is JSONRPCID {
  return id === null || typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id));
}

/** What is wrong with a request envelope, or undefined when it is a well-formed JSON-RPC 2.0 request. */
function envelopeProblem(request: unknown): string | undefined {
  if (request === null || typeof request !== 'object' || Array.isArray(request)) return 'a request must be a JSON object';
  const r = request as Record<string, unknown>;
  if (r.jsonrpc !== '2.0') return 'jsonrpc must be "2.0"';
  if (typeof r.method !== 'string' || r.method.length === 0) return 'method must be a non-empty string';
  if ('id' in r && !validId(r.id)) return 'id must be a string, a number or null';
  if ('params' in r && (r.params === null || typeof r.params !== 'object')) return 'params must be an object or an array';
  for (const key of Object.keys(r)) {
    if (key === '__proto__' || key === 'constructor' || key === 'prototype') return `key ${JSON.stringify(key)} is not allowed`;
  }
  return undefined;
}
