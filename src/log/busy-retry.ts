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

/** True when a storage error means "another writer holds the lock, try again". */
export function isLockBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED') || code === 'LOCKED');
}

/** Thrown (and retried) when the connection is already inside another transaction of this process. */
export class ConnectionBusy extends Error {
  readonly code = 'SQLITE_BUSY_CONNECTION';
}
