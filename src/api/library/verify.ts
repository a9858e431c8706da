import type { IntegrityProblem } from '../../log/event-log';
import type { EventLog } from '../../log/event-log';
import { foldEvents, type FoldedObject } from '../../projections/fold';
import type { ProjectionEngine } from '../../projections/sqlite/engine';
import type { ProgressFn } from '../../projections/sqlite/engine';

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
export async function verifyStore(log: EventLog, projections: ProjectionEngine, onProgress?: ProgressFn): Promise<VerifyReport> {
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
  const checkpoint = projections.currentState.position();
  if (checkpoint !== last) problems.push({ where: 'projection objects', message: `checkpoint ${checkpoint} but log head ${last}` });
  let objects = 0;
  const live = new Set<string>();
  for (const object of folded.values()) {
    if (object.data === null) continue;
    objects++;
    live.add(`${object.type}\0${object.sid}`);
    const record = projections.queries.get(object.type, object.sid);
    if (!record) problems.push({ where: `projection ${object.type}/${object.sid}`, message: 'missing from the current state' });
    else if (record.version !== object.version || JSON.stringify(record.object) !== JSON.stringify(object.data)) {
      problems.push({ where: `projection ${object.type}/${object.sid}`, message: `differs from the log (version ${record.version} vs ${object.version})` });
    }
  }
  const counts = projections.queries.counts();
  const projected = Object.values(counts).reduce((a, b) => a + b, 0);
  if (projected !== objects) problems.push({ where: 'projection objects', message: `${projected} objects but the log folds to ${objects}` });
  const maintained = projections.counts.types();
  for (const type of new Set([...Object.keys(counts), ...Object.keys(maintained)])) {
    if ((counts[type] ?? 0) !== (maintained[type] ?? 0)) {
      problems.push({ where: `projection object_counts ${type}`, message: `${maintained[type] ?? 0} counted but ${counts[type] ?? 0} objects` });
    }
  }
  for (const row of projections.counts.facetMismatches()) {
    problems.push({ where: `projection object_facets ${row.type}.${row.field}`, message: `count of value ${JSON.stringify(row.value)} differs from the index` });
  }
  return { ok: problems.length === 0, events, objects, problems };
}
