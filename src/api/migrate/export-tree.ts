import * as fs from 'node:fs';
import * as path from 'node:path';
import { InvalidInputError } from '../../log/errors';
import type { Store } from '../library/store';
import { formatObjectFile, OBJECT_FILE_SUFFIX } from './legacy-file';

/** What `exportTree` wrote. */
export interface ExportReport {
  /** Object files written. */
  files: number;
  /** Objects per type. */
  types: Record<string, number>;
}

/** Options of `exportTree`. */
export interface ExportOptions {
  /** Called as files are written: (files done, objects to write). */
  onProgress?: (done: number, total: number) => void;
}

const PAGE = 1000;

/**
 * Write every live object as a legacy OSIS object file, `DIR/TYPE/SID.otoml` (`O:` line, then TOML with
 * sorted keys and inline tables), so `importTree` of the result gives the same objects back. DIR must
 * not exist or be empty; nothing is written otherwise. The tree is written into a temporary folder
 * beside DIR, fsynced, and renamed to DIR at the end, so a failed export leaves no partial tree.
 */
export async function exportTree(store: Store, dir: string, options: ExportOptions = {}): Promise<ExportReport> {
  const root = path.resolve(dir);
  const existing = fs.statSync(root, { throwIfNoEntry: false });
  if (existing && !existing.isDirectory()) throw new InvalidInputError(`export: ${dir} exists and is not a directory`);
  if (existing && fs.readdirSync(root).length > 0) throw new InvalidInputError(`export: ${dir} is not empty; export into a new or empty directory`);
  const counts = (await store.stats()).objects;
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  fs.mkdirSync(path.dirname(root), { recursive: true });
  const temp = fs.mkdtempSync(path.join(path.dirname(root), `.${path.basename(root)}.export-`));
  try {
    const report = await writeTree(store, temp, counts, total, options);
    syncDir(temp);
    // rename(2) replaces an empty directory.
    fs.renameSync(temp, root);
    syncDir(path.dirname(root));
    return report;
  } catch (error) {
    fs.rmSync(temp, { recursive: true, force: true });
    throw error;
  }
}

async function writeTree(store: Store, root: string, counts: Record<string, number>, total: number, options: ExportOptions): Promise<ExportReport> {
  const report: ExportReport = { files: 0, types: {} };
  for (const type of Object.keys(counts).sort()) {
    const folder = path.join(root, type);
    fs.mkdirSync(folder, { recursive: true });
    report.types[type] = 0;
    const collection = store.collection(type);
    let cursor: string | undefined;
    do {
      const page = await collection._list_full({ limit: PAGE, ...(cursor ? { cursor } : {}) });
      const written: string[] = [];
      for (const object of page.items) {
        const file = path.join(folder, `${object.sid as string}${OBJECT_FILE_SUFFIX}`);
        const fd = fs.openSync(file, 'wx');
        try {
          fs.writeSync(fd, formatObjectFile(object));
        } finally {
          fs.closeSync(fd);
        }
        written.push(file);
        report.files++;
        report.types[type]++;
      }
      // Synced a page at a time, in parallel, so the file system commits them together.
      await Promise.all(written.map((file) => syncFile(file)));
      options.onProgress?.(report.files, total);
      cursor = page.next_cursor;
    } while (cursor);
    syncDir(folder);
  }
  return report;
}

async function syncFile(file: string): Promise<void> {
  const handle = await fs.promises.open(file, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function syncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
