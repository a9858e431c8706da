import * as fs from 'node:fs';
import * as path from 'node:path';
import type { KeyStore } from './key-store';
import { hashKey, scanBytes, type ValueHit } from './value-hashes';

/** Bytes read per chunk of a scanned file. */
const CHUNK_BYTES = 8 * 1024 * 1024;

/** What `osis verify --erased` found. */
export interface ErasedScanReport {
  /** Erased objects whose values were looked for. */
  objects: number;
  /** Distinct hashed values looked for. */
  values: number;
  /** Files scanned, with their sizes. */
  files: { file: string; bytes: number }[];
  /** Places where an erased object's personal value was found. */
  hits: ValueHit[];
  /**
   * Where the store keeps bytes that no file scan reached (a PostgreSQL server): an empty `hits` then
   * says nothing about them.
   */
  unscanned?: string;
  /** Erasures begun whose purge has not finished (held off, or interrupted): finished at the next open. */
  pending: number;
}

/** Every regular file under `paths` (files, or directories walked recursively), each once. */
export function filesUnder(paths: readonly string[]): string[] {
  const found = new Set<string>();
  const visit = (p: string) => {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(p);
    } catch {
      return;
    }
    if (stat.isDirectory()) for (const name of fs.readdirSync(p).sort()) visit(path.join(p, name));
    else if (stat.isFile()) found.add(path.resolve(p));
  };
  for (const p of paths) visit(p);
  return [...found];
}

/**
 * Scan files for the plaintext of erased objects' personal values, without holding that plaintext:
 * the key store keeps each value's byte length and keyed hashes (`value-hashes.ts`).
 */
export async function scanForErased(keys: KeyStore, paths: readonly string[]): Promise<ErasedScanReport> {
  const values = await keys.erasedValues();
  const key = hashKey(await keys.verificationKey());
  const report: ErasedScanReport = {
    objects: new Set(values.map((v) => `${v.type}\0${v.sid}`)).size,
    values: values.length,
    files: [],
    hits: [],
    pending: (await keys.pendingErasures()).length,
  };
  const overlap = Math.max(0, ...values.map((v) => v.len)) - 1;
  for (const file of filesUnder(paths)) {
    let fd: number;
    try {
      fd = fs.openSync(file, 'r');
    } catch {
      continue;
    }
    try {
      const size = fs.fstatSync(fd).size;
      report.files.push({ file, bytes: size });
      if (values.length === 0) continue;
      const buffer = Buffer.alloc(Math.min(size, CHUNK_BYTES + overlap));
      for (let offset = 0; offset < size; offset += CHUNK_BYTES) {
        const read = fs.readSync(fd, buffer, 0, Math.min(buffer.length, size - offset), offset);
        // Windows starting in the overlap were seen by the previous chunk only if they fit in it.
        const hits = scanBytes(key, values, buffer.subarray(0, read), file, offset);
        for (const hit of hits) if (hit.offset < offset + CHUNK_BYTES || offset + CHUNK_BYTES >= size) report.hits.push(hit);
      }
    } finally {
      fs.closeSync(fd);
    }
  }
  const seen = new Set<string>();
  report.hits = report.hits.filter((h) => {
    const k = `${h.file}\0${h.offset}\0${h.sid}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  return report;
}
