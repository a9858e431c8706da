import * as fs from 'node:fs';
import * as path from 'node:path';
import { InvalidInputError, NotFoundError, OsisError } from '../../log/errors';
import { sortedCopy } from '../../log/otoml-value';
import type { ObjectRecord } from '../library/collection';
import type { Store } from '../library/store';
import { readInputFile } from '../library/input-file';
import { MAX_OBJECT_BYTES, assertSid, assertTypeName } from '../library/validate';
import { OBJECT_FILE_SUFFIX, parseObjectFile } from './legacy-file';

/** A file (or folder) that was not imported, and why. */
export interface BadFile {
  path: string;
  /** The error code: INVALID_INPUT for a file that cannot be read as an object, else the store's code. */
  code: string;
  message: string;
}

/** What `importTree` did. */
export interface ImportReport {
  /** Object files found. */
  files: number;
  created: number;
  updated: number;
  unchanged: number;
  bad: BadFile[];
}

/** Options of `importTree`. */
export interface ImportOptions {
  /** Called as files are processed: (files done, files found). */
  onProgress?: (done: number, total: number) => void;
  /** Writes in flight at once; they share commits through group commit (default 256). */
  concurrency?: number;
}

interface Candidate {
  file: string;
  type: string;
  sid: string;
  data: Record<string, unknown>;
}

/**
 * Import a legacy OSIS file-per-object tree: `DIR/TYPE/…/SID.otoml`, where TYPE is the folder directly
 * under DIR and the sid is the object's `sid` field, else the file stem. An object that does not exist is
 * created, one that differs is replaced (`_set`), an equal one is left alone, so a second run writes
 * nothing. Bad files (not UTF-8, no `O:` line, not TOML, an unsafe type or sid, invalid field names, a
 * duplicate sid, a unique-key clash) are reported with their path and the rest is imported. Hidden
 * entries are skipped, symbolic links are reported and not followed.
 */
export async function importTree(store: Store, dir: string, options: ImportOptions = {}): Promise<ImportReport> {
  const root = path.resolve(dir);
  const stat = fs.statSync(root, { throwIfNoEntry: false });
  if (!stat?.isDirectory()) throw new InvalidInputError(`import: ${dir} is not a directory`);
  const report: ImportReport = { files: 0, created: 0, updated: 0, unchanged: 0, bad: [] };
  const files = listObjectFiles(root, report.bad);
  report.files = files.length;
  const seen = new Map<string, string>();
  const concurrency = options.concurrency ?? 256;
  let done = 0;
  for (let i = 0; i < files.length; i += concurrency) {
    const window: Candidate[] = [];
    for (const { file, type } of files.slice(i, i + concurrency)) {
      const candidate = readCandidate(file, type, report.bad);
      if (!candidate) continue;
      const key = `${candidate.type}\0${candidate.sid}`;
      const earlier = seen.get(key);
      if (earlier !== undefined) {
        report.bad.push({ path: file, code: 'INVALID_INPUT', message: `duplicate: ${candidate.type}/${candidate.sid} is also in ${earlier}` });
        continue;
      }
      seen.set(key, file);
      window.push(candidate);
    }
    await Promise.all(window.map((candidate) => importOne(store, candidate, report)));
    done = Math.min(files.length, i + concurrency);
    options.onProgress?.(done, files.length);
  }
  options.onProgress?.(files.length, files.length);
  report.bad.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return report;
}

/** Every `*.otoml` under a type folder, sorted; problems with folders and links go to `bad`. */
function listObjectFiles(root: string, bad: BadFile[]): { file: string; type: string }[] {
  const out: { file: string; type: string }[] = [];
  for (const entry of sortedEntries(root)) {
    if (entry.name.startsWith('.')) continue;
    const full = path.join(root, entry.name);
    if (entry.isSymbolicLink()) {
      bad.push({ path: full, code: 'INVALID_INPUT', message: 'symbolic link: not followed' });
    } else if (entry.isDirectory()) {
      try {
        assertTypeName(entry.name);
      } catch (error) {
        bad.push({ path: full, code: 'INVALID_INPUT', message: (error as Error).message });
        continue;
      }
      walk(full, entry.name, out, bad);
    } else if (entry.name.endsWith(OBJECT_FILE_SUFFIX)) {
      bad.push({ path: full, code: 'INVALID_INPUT', message: 'object file outside a TYPE folder' });
    }
  }
  return out;
}

function walk(dir: string, type: string, out: { file: string; type: string }[], bad: BadFile[]): void {
  for (const entry of sortedEntries(dir)) {
    if (entry.name.startsWith('.')) continue;
    const full = path.join(dir, entry.name);
    if (entry.isSymbolicLink()) bad.push({ path: full, code: 'INVALID_INPUT', message: 'symbolic link: not followed' });
    else if (entry.isDirectory()) walk(full, type, out, bad);
    else if (entry.isFile() && entry.name.endsWith(OBJECT_FILE_SUFFIX)) out.push({ file: full, type });
  }
}

function sortedEntries(dir: string): fs.Dirent[] {
  return fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Largest object file read: an object is at most MAX_OBJECT_BYTES as JSON, and its TOML is about as long. */
export const MAX_OBJECT_FILE_BYTES = 4 * MAX_OBJECT_BYTES;

function readCandidate(file: string, type: string, bad: BadFile[]): Candidate | undefined {
  try {
    // The size is checked before the file is read, and the bytes must be UTF-8.
    const data = parseObjectFile(readInputFile(file, 'object file', MAX_OBJECT_FILE_BYTES));
    const stem = path.basename(file, OBJECT_FILE_SUFFIX);
    const sid = data.sid ?? stem;
    assertSid(sid);
    return { file, type, sid, data };
  } catch (error) {
    const message = error instanceof TypeError ? 'not valid UTF-8' : (error as Error).message;
    bad.push({ path: file, code: error instanceof OsisError ? error.code : 'INVALID_INPUT', message });
    return undefined;
  }
}

async function importOne(store: Store, candidate: Candidate, report: ImportReport): Promise<void> {
  const collection = store.collection(candidate.type);
  try {
    let current: ObjectRecord | undefined;
    try {
      current = (await collection._get(candidate.sid, { withMeta: true })) as ObjectRecord;
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
    }
    if (!current) {
      await collection._new(candidate.data, { sid: candidate.sid });
      report.created++;
      return;
    }
    const wanted = { ...candidate.data, sid: candidate.sid };
    if (JSON.stringify(sortedCopy(current.object)) === JSON.stringify(sortedCopy(wanted))) {
      report.unchanged++;
      return;
    }
    await collection._set(wanted, { expectedVersion: current.version });
    report.updated++;
  } catch (error) {
    if (!(error instanceof OsisError)) throw error;
    report.bad.push({ path: candidate.file, code: error.code, message: error.message });
  }
}
