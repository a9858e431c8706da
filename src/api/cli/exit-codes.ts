import { OsisError, isNoSpace } from '../../log/errors';

/** Exit codes of the CLI, per the contract. */
export const EXIT = { ok: 0, failure: 1, usage: 2, notFound: 3, conflict: 4, corrupt: 5, locked: 6, noSpace: 6 } as const;

/** The exit code for an error raised by a command. */
export function exitCodeFor(error: unknown): number {
  if (error instanceof OsisError) {
    switch (error.code) {
      case 'INVALID_INPUT':
        return EXIT.usage;
      case 'NOT_FOUND':
        return EXIT.notFound;
      case 'VERSION_CONFLICT':
      case 'UNIQUE_VIOLATION':
      case 'IDEMPOTENCY_CONFLICT':
        return EXIT.conflict;
      case 'NO_SPACE':
        return EXIT.noSpace;
      case 'CORRUPT':
        return EXIT.corrupt;
      case 'LOCKED':
      case 'UNAVAILABLE':
      case 'CLOSED':
        return EXIT.locked;
    }
  }
  return isNoSpace(error) ? EXIT.noSpace : EXIT.failure;
}

/** The stderr line for an error: `osis: CODE: message`. */
export function errorLine(error: unknown): string {
  if (error instanceof OsisError) return `osis: ${error.code}: ${error.message}`;
  if (isNoSpace(error)) return `osis: NO_SPACE: the disk is full (${error instanceof Error ? error.message : String(error)}); free space and retry`;
  const message = error instanceof Error ? error.message : String(error);
  return `osis: ERROR: ${message}`;
}
