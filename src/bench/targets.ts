import * as fs from 'node:fs';
import * as path from 'node:path';
import { openStore, type Store } from '../index';
import type { Durability } from '../index';
import { BENCH_SCHEMA } from './data';

/**
 * The stores the benchmark measures, as data: a backend name, its URL inside a scratch directory and
 * the SQLite file holding its projections (so raw readers can query the same index). Adding a backend
 * to the benchmark is adding a row here.
 */
export interface StoreTarget {
  backend: string;
  url(dir: string): string;
  projectionsFile(dir: string): string;
  /** Whether the bulk loader may insert events straight into `projectionsFile` (the log shares it). */
  sqliteLog: boolean;
}

export const STORE_TARGETS: readonly StoreTarget[] = [
  {
    backend: 'sqlite',
    url: (dir) => `sqlite:${path.join(dir, 'store.db')}`,
    projectionsFile: (dir) => path.join(dir, 'store.db'),
    sqliteLog: true,
  },
  {
    backend: 'file',
    url: (dir) => `file:${path.join(dir, 'log')}`,
    projectionsFile: (dir) => path.join(dir, 'log', 'projections.db'),
    sqliteLog: false,
  },
];

/** The subject name of a store row. */
export function storeSubject(target: StoreTarget): string {
  return `store ${target.backend}:`;
}

/** Open the benchmark's store for `target` in `dir`. */
export function openBenchStore(target: StoreTarget, dir: string, durability: Durability): Promise<Store> {
  fs.mkdirSync(dir, { recursive: true });
  return openStore(target.url(dir), { schema: BENCH_SCHEMA, durability });
}

/**
 * The targets this build can open, and the ones it cannot with the reason (a backend not built yet).
 * Each is probed by opening, writing, reading and closing a store in a scratch directory.
 */
export async function availableTargets(scratch: string): Promise<{ targets: StoreTarget[]; skipped: { subject: string; reason: string }[] }> {
  const targets: StoreTarget[] = [];
  const skipped: { subject: string; reason: string }[] = [];
  for (const target of STORE_TARGETS) {
    const dir = path.join(scratch, `probe-${target.backend}`);
    try {
      const store = await openBenchStore(target, dir, 'normal');
      try {
        const doc = await store.collection('doc')._new({ title: 'probe' });
        await store.collection('doc')._get(doc.sid as string);
      } finally {
        await store.close();
      }
      targets.push(target);
    } catch (error) {
      skipped.push({ subject: storeSubject(target), reason: (error as Error).message });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  return { targets, skipped };
}
