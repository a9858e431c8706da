import { InvalidInputError } from '../../log/errors';

/** Where the next page starts: after a sid (sid order) or at an offset (ranked text order). */
export type CursorState = { afterSid: string } | { offset: number };

/** Encode a cursor as an opaque URL-safe string. */
export function encodeCursor(state: CursorState): string {
  const payload = 'afterSid' in state ? { a: state.afterSid } : { o: state.offset };
  return Buffer.from(JSON.stringify(payload)).toString('base64url');
}

/** Decode a cursor from a caller; `ranked` says which kind the query needs. */
export function decodeCursor(cursor: unknown, ranked: boolean): CursorState | undefined {
  if (cursor === undefined || cursor === null || cursor === '') return undefined;
  if (typeof cursor !== 'string' || cursor.length > 400 || !/^[A-Za-z0-9_-]+$/.test(cursor)) {
    throw new InvalidInputError('invalid cursor: pass back the next_cursor of a previous page', { field: 'cursor' });
  }
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidInputError('invalid cursor: pass back the next_cursor of a previous page', { field: 'cursor' });
  }
  const p = payload as { a?: unknown; o?: unknown } | null;
  if (!ranked && p && typeof p.a === 'string') return { afterSid: p.a };
  if (ranked && p && typeof p.o === 'number' && Number.isInteger(p.o) && p.o >= 0 && p.o <= 1_000_000) return { offset: p.o };
  throw new InvalidInputError('invalid cursor: it belongs to a different kind of query', { field: 'cursor' });
}
