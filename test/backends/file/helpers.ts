import * as fs from 'node:fs';
import * as path from 'node:path';
import { FileEventLog, type FileLogOptions } from '../../../src/backends/file/file-log';
import type { ProposedEvent } from '../../../src';
import { tempDir } from '../../helpers/temp';

export const FIRST_SEGMENT = '00000000000000000001.otoml';

/** Open a file log in `dir`, collecting warnings instead of printing them. */
export async function openLog(dir: string, options: FileLogOptions = {}): Promise<{ log: FileEventLog; warnings: string[] }> {
  const warnings: string[] = [];
  const log = await FileEventLog.open(dir, { durability: 'normal', onWarning: (m) => warnings.push(m), ...options });
  return { log, warnings };
}

export function created(sid: string, data: Record<string, unknown> = {}): ProposedEvent {
  return { type: 'user', sid, kind: 'created', data: { sid, ...data } };
}

/** A fresh log directory path (not created). */
export function freshDir(): string {
  return path.join(tempDir(), 'log');
}

/** Offsets of every frame line (`#@ …`) in a segment file. */
export function frameOffsets(file: string): number[] {
  const bytes = fs.readFileSync(file);
  const out: number[] = [];
  for (let i = bytes.indexOf('#@ pos='); i >= 0; i = bytes.indexOf('#@ pos=', i + 1)) {
    if (i === 0 || bytes[i - 1] === 0x0a) out.push(i);
  }
  return out;
}

/** Copy a directory tree (files only), replacing `to`. */
export function copyDir(from: string, to: string): void {
  fs.rmSync(to, { recursive: true, force: true });
  fs.cpSync(from, to, { recursive: true });
}
