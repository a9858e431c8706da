import { JSONRPCServer, createJSONRPCErrorResponse, type JSONRPCID, type JSONRPCRequest, type JSONRPCResponse } from 'json-rpc-2.0';
import { MAX_DEPTH } from '../validate';
import { scanJson, unsafeIntegerError } from '../json-input';
import { ServiceError, isUnexpected, toRpcError } from './errors';
import type { CallContext, MethodTable } from './methods';

/** Most calls in one batch. */
export const MAX_BATCH = 1000;
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
      throw new ServiceError('METHOD_NOT_FOUND', `unknown method ${JSON.stringify(request.method)}`, { method: request.method });
    };
    this.server.applyMiddleware((next, request, call) => this.around(next, request, call));
  }

  /** Answer a request body: the response payload, or undefined when there is nothing to answer (notifications only). */
  async handle(body: string, call: CallContext): Promise<JSONRPCResponse | JSONRPCResponse[] | undefined> {
    const scan = scanJson(body);
    if (scan.depth > MAX_DEPTH + ENVELOPE_DEPTH) {
      return errorResponse(null, new ServiceError('TOO_LARGE', `request nested deeper than ${MAX_DEPTH}`, { limit: 'depth', max: MAX_DEPTH }));
    }
    let payload: unknown;
    try {
      payload = JSON.parse(body);
    } catch (error) {
      return errorResponse(null, new ServiceError('PARSE_ERROR', `parse error: ${(error as Error).message}`));
    }
    if (scan.unsafeInteger !== undefined) {
      const id = (payload as { id?: unknown } | null)?.id;
      return errorResponse(!Array.isArray(payload) && validId(id) ? id : null, unsafeIntegerError('params', scan.unsafeInteger));
    }
    if (!Array.isArray(payload)) return (await this.one(payload, call)) ?? undefined;
    if (payload.length === 0) return errorResponse(null, new ServiceError('INVALID_REQUEST', 'a batch must hold at least one request'));
    if (payload.length > MAX_BATCH) {
      return errorResponse(null, new ServiceError('TOO_LARGE', `a batch may hold at most ${MAX_BATCH} requests`, { limit: 'batch', max: MAX_BATCH }));
    }
    const responses: JSONRPCResponse[] = [];
    for (const request of payload) {
      const response = await this.one(request, call);
      if (response) responses.push(response);
    }
    return responses.length > 0 ? responses : undefined;
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
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new ServiceError('TIMEOUT', `${request.method} did not finish within ${this.options.callTimeoutMs} ms`)),
          this.options.callTimeoutMs,
        );
      });
      const result = await Promise.race([handler(request.params, call), timeout]);
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
