import type { IntegrityProblem } from '../../log/event-log';
import type { EventLog } from '../../log/event-log';
import { foldEvents, type FoldedObject } from '../../projections/fold';
import type { ProgressFn, ProjectionStore } from '../../projections/projection-store';

/** What `osis verify` reports. */
export interface VerifyReport {
  ok: boolean;
  events: number;
  objects: number;
  problems: IntegrityProblem[];
}

/** Events read per batch; progress is reported and the event loop gets a turn after each. */
const BATCH = 5_000;

/**
 * Check the log's integrity (when the backend can) and that the current-state projection equals a
 * fresh fold of the whole log.
 */
export async function verifyStore(log: EventLog, projections: ProjectionStore, onProgress?: ProgressFn): Promise<VerifyReport> {
  onProgress?.(0, await log.head());
  const integrity = log.verify ? await log.verify() : { events: 0, problems: [] };
  const problems: IntegrityProblem[] = [...integrity.problems];
  // A damaged log cannot be folded: report where it is damaged rather than fail on the first bad read.
  if (problems.length > 0) return { ok: false, events: integrity.events, objects: 0, problems };
  const head = await log.head();
  const folded = new Map<string, FoldedObject>();
  let events = 0;
  let last = 0;
  for (let from = 1; ; ) {
    const batch = await log.readAll(from, { limit: BATCH });
    if (batch.length === 0) break;
    for (const event of batch) {
      if (event.position <= last) problems.push({ where: `position ${event.position}`, message: `not after ${last}` });
      last = event.position;
    }
    foldEvents(folded, batch);
    events += batch.length;
    from = last + 1;
    onProgress?.(last, Math.max(head, last));
    if (batch.length < BATCH) break;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  problems.push(...(await projections.checkParity({ objects: folded, events, position: last })));
  let objects = 0;
  for (const object of folded.values()) if (object.data !== null) objects++;
  return { ok: problems.length === 0, events, objects, problems };
}
