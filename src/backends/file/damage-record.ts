import * as fs from 'node:fs';
import * as path from 'node:path';
import { CorruptError } from '../../log/errors';
import { writeFileAtomically } from '../../log/atomic-file';
import type { IntegrityProblem } from '../../log/event-log';

/**
 * The file in a log directory that records damage found in the log (by `verify`, a read or a catch-up).
 * While it exists every writer refuses with CORRUPT, so nothing is appended after damage that was
 * found once. A `verify` that finds the log whole again (the segment was restored) removes it; deleting
 * it by hand accepts the loss (reads of the damaged frame still fail with CORRUPT).
 */
export const DAMAGE_FILE = 'DAMAGED.json';

/** What is recorded. */
export interface DamageRecord {
  where: string;
  message: string;
  found_at: string;
  found_by: string;
}

/** The recorded damage of `dir`, if any: one stat when there is none. */
export function readDamage(dir: string): DamageRecord | undefined {
  const file = path.join(dir, DAMAGE_FILE);
  if (!fs.existsSync(file)) return undefined;
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    return JSON.parse(text) as DamageRecord;
  } catch {
    return { where: file, message: 'the damage record itself is unreadable', found_at: '', found_by: '' };
  }
}

/** The error every writer gives while damage is recorded. */
export function damageError(dir: string, record: DamageRecord): CorruptError {
  return new CorruptError(
    `the log in ${dir} is damaged at ${record.where}: ${record.message} (found by ${record.found_by} at ${record.found_at}); ` +
      `writes are refused until the segment is restored and 'osis verify' passes, or ${path.join(dir, DAMAGE_FILE)} is deleted to accept the loss`,
    { details: { where: record.where, damage: path.join(dir, DAMAGE_FILE) } },
  );
}

/**
 * Record damage durably (temp file, fsync, rename, fsync of the directory); the first record found is
 * kept. Best effort: a disk that cannot take the record leaves the original error to speak.
 */
export function recordDamage(dir: string, problem: IntegrityProblem, foundBy: string): void {
  const file = path.join(dir, DAMAGE_FILE);
  if (fs.existsSync(file)) return;
  const record: DamageRecord = { where: problem.where, message: problem.message, found_at: new Date().toISOString(), found_by: foundBy };
  try {
    writeFileAtomically(file, `${JSON.stringify(record, null, 2)}\n`);
  } catch {
    // best effort: the error that found the damage is thrown by the caller
  }
}

/** Remove the record after a verify found the log whole. Returns what was removed. */
export function clearDamage(dir: string): DamageRecord | undefined {
  const record = readDamage(dir);
  if (record) fs.rmSync(path.join(dir, DAMAGE_FILE), { force: true });
  return record;
}

/** The damage a CORRUPT error from the log's frames describes (not the sidecar's own errors). */
export function damageOf(error: unknown): IntegrityProblem | undefined {
  if (!(error instanceof CorruptError)) return undefined;
  const details = error.details as { segment?: unknown; offset?: unknown } | undefined;
  if (typeof details?.segment !== 'string' && typeof details?.segment !== 'number') return undefined;
  return { where: `${details.segment} offset ${String(details.offset)}`, message: error.message };
}
