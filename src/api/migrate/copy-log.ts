import { CorruptError, InvalidInputError } from '../../log/errors';
import type { StoredEvent } from '../../log/event';
import type { Durability } from '../../log/event-log';
import { sortedCopy } from '../../log/otoml-value';
import type { StoreSchema } from '../library/schema';
import type { SchemaInput } from '../library/schema';
import { openStore, type Store } from '../library/store';

/** Options of `copyLog`. */
export interface CopyOptions {
  /** Called as events are copied and then verified: (events done, events to copy). */
  onProgress?: (done: number, total: number, phase: 'copy' | 'verify') => void;
  /** Durability of the destination (default 'full'). */
  durability?: Durability;
  /** Events per atomic import (default 5000). */
  batchSize?: number;
}

/** What `copyLog` did. */
export interface CopyReport {
  events: number;
  head: number;
  destination: string;
  /** The destination's own integrity and projection check passed, and its log equals the source's. */
  verified: true;
}

/**
 * Copy the whole log of `source` into the store at `destUrl` (any backend: file → sqlite and back),
 * keeping positions, event ids, versions, timestamps, data and metadata, with the source's schema.
 * Personal values of live objects are read in plaintext and sealed again under the destination's own
 * keys (no key material leaves the source); erased objects arrive erased, without their personal values.
 * Then verify the destination: its log must equal the source's event for event, and its own `verify`
 * (log integrity, projections equal a fold of the log) must pass; otherwise CORRUPT names the first
 * difference. Copies the log up to the source head at the start.
 *
 * Resumable: each batch is imported atomically, so a copy that stopped (a crash, a full disk, an event
 * the destination refused) leaves a destination whose log is a prefix of the source's; copying again
 * checks that prefix event for event and continues after it. A destination holding anything else is refused.
 */
export async function copyLog(source: Store, destUrl: string, options: CopyOptions = {}): Promise<CopyReport> {
  const batchSize = options.batchSize ?? 5000;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new InvalidInputError('batchSize must be a positive integer');
  const dest = await openStore(destUrl, { schema: schemaInput(source.schema), durability: options.durability ?? 'full' });
  try {
    const existing = await dest.log.head();
    const head = await source.log.head();
    if (existing > 0) {
      const prefix = existing <= head && (await compareLogs(source, dest, existing, batchSize, undefined).then(() => true, () => false));
      if (!prefix) {
        throw new InvalidInputError(
          `copy: the destination ${destUrl} is not empty and its log (to position ${existing}) is not the start of this store's log; copy into an empty store`,
        );
      }
    }
    let copied = existing;
    for (let from = existing + 1; from <= head; ) {
      const batch = await source.log.readAll(from, { limit: Math.min(batchSize, head - from + 1) });
      if (batch.length === 0) break;
      await dest.importEvents(batch);
      copied += batch.length;
      from = batch[batch.length - 1].position + 1;
      options.onProgress?.(copied, head, 'copy');
    }
    await compareLogs(source, dest, head, batchSize, options.onProgress);
    const report = await dest.verify();
    if (!report.ok) {
      const first = report.problems[0];
      throw new CorruptError(`copy: the destination failed verification: ${first.where}: ${first.message}`, { details: { problems: report.problems } });
    }
    return { events: copied, head, destination: destUrl, verified: true };
  } finally {
    await dest.close();
  }
}

/** Compare the two logs up to `head`, which must be where the destination's ends. */
async function compareLogs(
  source: Store,
  dest: Store,
  head: number,
  batchSize: number,
  onProgress: CopyOptions['onProgress'],
): Promise<void> {
  const destHead = await dest.log.head();
  if (destHead !== head) throw new CorruptError(`copy: the destination log ends at ${destHead}, the source at ${head}`);
  for (let from = 1; from <= head; ) {
    const limit = Math.min(batchSize, head - from + 1);
    const [a, b] = await Promise.all([source.log.readAll(from, { limit }), dest.log.readAll(from, { limit })]);
    for (let i = 0; i < a.length; i++) {
      if (!b[i] || canonical(a[i]) !== canonical(b[i])) {
        throw new CorruptError(`copy: the destination differs from the source at position ${a[i].position}`, { details: { position: a[i].position } });
      }
    }
    if (a.length === 0) break;
    from = a[a.length - 1].position + 1;
    onProgress?.(from - 1, head, 'verify');
  }
}

function schemaInput(schema: StoreSchema): SchemaInput {
  const types = Object.entries(schema.types).map(([type, c]) => [type, { index: [...c.index], unique: [...c.unique], ...(c.text ? { text: [...c.text] } : {}), ...(c.personal ? { personal: [...c.personal] } : {}) }]);
  return { types: Object.fromEntries(types) };
}

function canonical(event: StoredEvent): string {
  return JSON.stringify([event.position, event.id, event.type, event.sid, event.kind, event.version, event.ts, sortedCopy(event.data), sortedCopy(event.meta ?? null)]);
}
