import { NoSpaceError, isNoSpace, isOsisError, type ErrorCode } from '../../log/errors';

/**
 * The one place where errors become JSON-RPC errors and HTTP statuses. Every other service module throws
 * `OsisError`s (from the store) or `ServiceError`s (from the edge) and lets this module translate them.
 */

/** String codes the service adds to the store's own (`data.code` carries one of these or an `ErrorCode`). */
export type ServiceCode =
  | 'PARSE_ERROR'
  | 'INVALID_REQUEST'
  | 'METHOD_NOT_FOUND'
  | 'UNAUTHORIZED'
  | 'TOO_LARGE'
  | 'TIMEOUT'
  | 'UNAVAILABLE'
  | 'NOT_ROUTED'
  | 'INTERNAL';

export type AnyCode = ErrorCode | ServiceCode;

/** Longest piece of a request (a method or param name) echoed back in an error. */
const MAX_ECHO = 100;

/** `text` as an error may echo it: cut to MAX_ECHO characters, marked with … when cut. */
export function echo(text: string): string {
  return text.length > MAX_ECHO ? `${text.slice(0, MAX_ECHO)}…` : text;
}

/** An error raised at the service edge (protocol, auth, limits). `details` go to `data` verbatim. */
export class ServiceError extends Error {
  constructor(
    readonly code: ServiceCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'ServiceError';
  }
}

/** A JSON-RPC error object as sent on the wire. */
export interface RpcErrorObject {
  code: number;
  message: string;
  data: { code: AnyCode; [key: string]: unknown };
}

const RPC_CODES: Record<AnyCode, number> = {
  PARSE_ERROR: -32700,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  INVALID_INPUT: -32602,
  NOT_FOUND: -32001,
  VERSION_CONFLICT: -32002,
  UNIQUE_VIOLATION: -32002,
  UNAUTHORIZED: -32003,
  TOO_LARGE: -32004,
  CORRUPT: -32603,
  LOCKED: -32603,
  CLOSED: -32603,
  NO_SPACE: -32005,
  IDEMPOTENCY_CONFLICT: -32002,
  TIMEOUT: -32603,
  UNAVAILABLE: -32603,
  NOT_ROUTED: -32601,
  INTERNAL: -32603,
};

/** HTTP status when an error answers a whole HTTP request rather than one call inside a 200 response. */
const HTTP_STATUS: Partial<Record<AnyCode, number>> = {
  PARSE_ERROR: 400,
  INVALID_REQUEST: 400,
  INVALID_INPUT: 400,
  NOT_FOUND: 404,
  NOT_ROUTED: 404,
  UNAUTHORIZED: 401,
  TOO_LARGE: 413,
  TIMEOUT: 408,
  UNAVAILABLE: 503,
  CLOSED: 503,
  LOCKED: 503,
  NO_SPACE: 507,
};

/** Translate anything thrown into a JSON-RPC error. Unknown errors become a bare -32603: no message, no stack. */
export function toRpcError(error: unknown): RpcErrorObject {
  if (!isOsisError(error) && isNoSpace(error)) error = new NoSpaceError('the disk is full; free space and retry');
  if (error instanceof ServiceError || isOsisError(error)) {
    const code = error.code as AnyCode;
    return { code: RPC_CODES[code], message: error.message, data: { ...(error.details ?? {}), code } };
  }
  return { code: RPC_CODES.INTERNAL, message: 'internal error', data: { code: 'INTERNAL' } };
}

/** True for errors the service did not raise on purpose (worth logging with their stack). */
export function isUnexpected(error: unknown): boolean {
  return !(error instanceof ServiceError || isOsisError(error) || isNoSpace(error));
}

/** The HTTP status of an error answering a whole request (non-RPC routes, refused requests). */
export function httpStatusOf(error: unknown): number {
  if (!isOsisError(error) && isNoSpace(error)) return 507;
  if (error instanceof ServiceError || isOsisError(error)) return HTTP_STATUS[error.code as AnyCode] ?? 500;
  return 500;
}

/** The string code of an error, for logs and metrics. */
export function codeOf(error: unknown): AnyCode {
  if (!isOsisError(error) && isNoSpace(error)) return 'NO_SPACE';
  return error instanceof ServiceError || isOsisError(error) ? (error.code as AnyCode) : 'INTERNAL';
}
