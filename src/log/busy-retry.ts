import { LockedError } from './errors';

/**
 * Retry `attempt` while `isBusy(error)` says another writer holds the lock, sleeping a short random
 * time between tries (the event loop stays free), until `timeoutMs` has passed; then the last error
 * is thrown.
 */
export async function retryWhileBusy<T>(attempt: () => T, isBusy: (error: unknown) => boolean, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let tries = 0; ; tries++) {
    try {
      return attempt();
    } catch (error) {
      if (!isBusy(error) || Date.now() >= deadline) throw error;
    }
    const ceiling = Math.min(1 + tries / 4, 4);
    await new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling));
  }
}

/**
 * How long opening a store waits for other processes that are opening or writing it at the same moment
 * before it fails with LOCKED: 15 s by default, or `OSIS_OPEN_TIMEOUT_MS`.
 */
export function openTimeoutMs(): number {
  const configured = Number(process.env.OSIS_OPEN_TIMEOUT_MS);
  return Number.isFinite(configured) && configured > 0 ? configured : DEFAULT_OPEN_TIMEOUT_MS;
}

/** The default of `openTimeoutMs()`. */
export const DEFAULT_OPEN_TIMEOUT_MS = 15_000;

/**
 * The one way every backend runs a set-up step of opening (creating tables, switching to WAL, taking the
 * first write lock): retried while another process holds the lock the step needs (SQLite answers
 * SQLITE_BUSY at once, without waiting, when several connections open a new database together), with
 * asynchronous sleeps so the event loop and signal handlers keep running. Past `timeoutMs` it fails
 * with LOCKED naming `what`; any other error is thrown as it is.
 */
export async function retryOpening<T>(what: string, step: () => T, timeoutMs = openTimeoutMs()): Promise<T> {
  try {
    return await retryWhileBusy(step, isLockBusy, timeoutMs);
  } catch (error) {
    if (!isLockBusy(error) || error instanceof LockedError) throw error;
    throw new LockedError(`cannot open ${what}: still busy after ${Math.round(timeoutMs / 100) / 10} s of waiting for other processes (OSIS_OPEN_TIMEOUT_MS)`, error);
  }
}

/** True when a storage error means "another writer holds the lock, try again". */
export function isLockBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED') || code === 'LOCKED');
}

/** Thrown (and retried) when the connection is already inside another transaction of this process. */
export class ConnectionBusy extends Error {
  readonly code = 'SQLITE_BUSY_CONNECTION';
}
