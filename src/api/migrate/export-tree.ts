import * as fs from 'node:fs';
import * as path from 'node:path';
import { InvalidInputError } from '../../log/errors';
import type { Store } from '../store';
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
 * not exist or be empty; nothing is written otherwise. Each file is written to a temp name and renamed,
 * and the directories are fsynced at the end.
 */
export async function exportTree(store: Store, dir: string, options: ExportOptions = {}): Promise<ExportReport> {
  const root = path.resolve(dir);
  const existing = fs.statSync(root, { throwIfNoEntry: false });
  if (existing && !existing.isDirectory()) throw new InvalidInputError(`export: ${dir} exists and is not a directory`);
  if (existing && fs.readdirSync(root).length > 0) throw new InvalidInputError(`export: ${dir} is not empty; export into a new or empty directory`);
  const counts = (await store.stats()).objects;
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  fs.mkdirSync(root, { recursive: true });
  const report: ExportReport = { files: 0, types: {} };
  for (const type of Object.keys(counts).sort()) {
    const folder = path.join(root, type);
    fs.mkdirSync(folder, { recursive: true });
    report.types[type] = 0;
    const collection = store.collection(type);
    let cursor: string | undefined;
    do {
      const page = await collection._list_full({ limit: PAGE, ...(cursor ? { cursor } : {}) });
      for (const object of page.items) {
        const file = path.join(folder, `${object.sid as string}${OBJECT_FILE_SUFFIX}`);
        const temp = path.join(folder, `.${object.sid as string}${OBJECT_FILE_SUFFIX}.tmp`);
        fs.writeFileSync(temp, formatObjectFile(object), { flag: 'wx' });
        fs.renameSync(temp, file);
        report.files++;
        report.types[type]++;
      }
      options.onProgress?.(report.files, total);
      cursor = page.next_cursor;
    } while (cursor);
    syncDir(folder);
  }
  syncDir(root);
  return report;
}

function syncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
