import * as fs from 'node:fs';
import * as path from 'node:path';
import { UnavailableError } from './errors';

/**
 * Create `dir` and its missing parents, one level at a time, and fail at once with UNAVAILABLE when the
 * filesystem refuses a level. (`fs.mkdirSync(…, { recursive: true })` loops forever under `/proc`, which
 * answers ENOENT to every mkdir, and a synchronous loop also keeps signal handlers from running.)
 */
export function makeDirs(dir: string, what = 'the store'): void {
  const missing: string[] = [];
  for (let current = path.resolve(dir); ; ) {
    const stat = statOrUndefined(current, what);
    if (stat) {
      if (!stat.isDirectory()) throw new UnavailableError(`cannot create ${what} in ${dir}: ${current} is not a directory`);
      break;
    }
    missing.push(current);
    const parent = path.dirname(current);
    if (parent === current) break;
    current = parent;
  }
  for (const level of missing.reverse()) {
    try {
      fs.mkdirSync(level);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST' && fs.statSync(level, { throwIfNoEntry: false })?.isDirectory()) continue;
      throw new UnavailableError(`cannot create ${what} in ${dir}: mkdir ${level}: ${describeFsError(error)}`, error);
    }
  }
}

function statOrUndefined(file: string, what: string): fs.Stats | undefined {
  try {
    return fs.statSync(file, { throwIfNoEntry: false });
  } catch (error) {
    throw new UnavailableError(`cannot reach ${what} at ${file}: ${describeFsError(error)}`, error);
  }
}

/** `EACCES (permission denied)`-style text for an fs error. */
export function describeFsError(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  const reasons: Record<string, string> = {
    ENOENT: 'no such file or directory',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    EROFS: 'read-only filesystem',
    ENOTDIR: 'a path component is not a directory',
    ENOSPC: 'no space left on the device',
    EEXIST: 'exists and is not a directory',
  };
  return e?.code ? `${e.code} (${reasons[e.code] ?? e.message})` : String((error as Error)?.message ?? error);
}
