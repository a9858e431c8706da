/**
 * Typed errors with stable string codes. Backends wrap driver and fs errors once (keeping `cause`);
 * only `src/api` maps codes to exit codes and JSON-RPC errors.
 */
export type ErrorCode =
  | 'NOT_FOUND'
  | 'VERSION_CONFLICT'
  | 'UNIQUE_VIOLATION'
  | 'INVALID_INPUT'
  | 'CORRUPT'
  | 'LOCKED'
  | 'UNAVAILABLE'
  | 'CLOSED'
  | 'NO_SPACE'
  | 'IDEMPOTENCY_CONFLICT';

/** Base class of every error the store raises on purpose. `code` is stable and safe to switch on. */
export class OsisError extends Error {
  readonly code: ErrorCode;
  readonly details?: Record<string, unknown>;
  constructor(code: ErrorCode, message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    if (options.details) this.details = options.details;
  }
}

/** The object (or stream) does not exist. */
export class NotFoundError extends OsisError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('NOT_FOUND', message, { details });
  }
}

/** An expected version did not match the stream's actual version; nothing was written. */
export class VersionConflictError extends OsisError {
  constructor(
    readonly type: string,
    readonly sid: string,
    readonly expected: unknown,
    readonly actual: number | 'no_stream' | 'deleted',
  ) {
    super('VERSION_CONFLICT', `${type}/${sid}: expected version ${String(expected)}, actual ${String(actual)}`, {
      details: { type, sid, expected, actual },
    });
  }
}

/** A declared unique field value is already held by another live object; nothing was written. */
export class UniqueViolationError extends OsisError {
  constructor(readonly type: string, readonly field: string, readonly value: unknown, readonly heldBy: string) {
    super('UNIQUE_VIOLATION', `${type}.${field} = ${JSON.stringify(value)} is already used by ${type}/${heldBy}`, {
      details: { type, field, value, heldBy },
    });
  }
}

/** Bad input at the public edge; the message names the problem. Nothing was written. */
export class InvalidInputError extends OsisError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('INVALID_INPUT', message, { details });
  }
}

/** Stored data failed an integrity check. `details` says where. */
export class CorruptError extends OsisError {
  constructor(message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super('CORRUPT', message, options);
  }
}

/** The store is locked or busy beyond its timeout. */
export class LockedError extends OsisError {
  constructor(message: string, cause?: unknown) {
    super('LOCKED', message, { cause });
  }
}

/**
 * The store cannot be reached or created where its URL points (a missing or read-only directory, a path
 * the filesystem refuses). Nothing was written; it fails at once rather than retrying.
 */
export class UnavailableError extends OsisError {
  constructor(message: string, cause?: unknown) {
    super('UNAVAILABLE', message, { cause });
  }
}

/**
 * The disk (or the quota, or SQLite's page limit) is full: nothing of the failed write was
 * acknowledged, and the store works again once space is freed. Never a sign of damage.
 */
export class NoSpaceError extends OsisError {
  constructor(message: string, cause?: unknown) {
    super('NO_SPACE', message, { cause });
  }
}

/** An idempotency key already used by a write of another type or object; nothing was written. */
export class IdempotencyConflictError extends OsisError {
  constructor(readonly key: string, readonly type: string, readonly sid: string | undefined) {
    super('IDEMPOTENCY_CONFLICT', `idempotency key ${JSON.stringify(key)} was already used by a write of another ${sid === undefined ? 'type' : 'type or object'}`, {
      details: { idempotencyKey: key, type, ...(sid !== undefined ? { sid } : {}) },
    });
  }
}

/** Driver and fs codes that mean the disk is full: ENOSPC, EDQUOT, SQLITE_FULL. */
const NO_SPACE_CODES = new Set(['ENOSPC', 'EDQUOT', 'SQLITE_FULL']);

/** True when `error`, or an error in its `cause` chain, says the disk (or quota) is full. */
export function isNoSpace(error: unknown): boolean {
  for (let e = error, depth = 0; e !== null && typeof e === 'object' && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (code === 'NO_SPACE' || (typeof code === 'string' && NO_SPACE_CODES.has(code))) return true;
  }
  return false;
}

/** The store (or log) was used after close(). */
export class ClosedError extends OsisError {
  constructor() {
    super('CLOSED', 'the store is closed');
  }
}

export function isOsisError(error: unknown): error is OsisError {
  return error instanceof OsisError;
}
