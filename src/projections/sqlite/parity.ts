import type { IntegrityProblem } from '../../log/event-log';
import type { FoldedLog } from '../fold';
import type { CountQueries } from './counts';
import type { ProjectionQueries } from './queries';

/** The parts of the SQLite projection store a parity check reads. */
interface LiveTables {
  currentState: { position(): number };
  queries: ProjectionQueries;
  countQueries: CountQueries;
}

/**
 * Compare the live projection tables with an independent fold of the log: the checkpoint, every
 * object's version and data, the number of objects, and the maintained counts against a recount.
 */
export function checkParity(store: LiveTables, folded: FoldedLog): IntegrityProblem[] {
  const problems: IntegrityProblem[] = [];
  const checkpoint = store.currentState.position();
  if (checkpoint !== folded.position) problems.push({ where: 'projection objects', message: `checkpoint ${checkpoint} but log head ${folded.position}` });
  let objects = 0;
  for (const object of folded.objects.values()) {
    if (object.data === null) continue;
    objects++;
    const record = store.queries.get(object.type, object.sid);
    if (!record) problems.push({ where: `projection ${object.type}/${object.sid}`, message: 'missing from the current state' });
    else if (record.version !== object.version || JSON.stringify(record.object) !== JSON.stringify(object.data)) {
      problems.push({ where: `projection ${object.type}/${object.sid}`, message: `differs from the log (version ${record.version} vs ${object.version})` });
    }
  }
  const counts = store.queries.counts();
  const projected = Object.values(counts).reduce((a, b) => a + b, 0);
  if (projected !== objects) problems.push({ where: 'projection objects', message: `${projected} objects but the log folds to ${objects}` });
  const maintained = store.countQueries.types();
  for (const type of new Set([...Object.keys(counts), ...Object.keys(maintained)])) {
    if ((counts[type] ?? 0) !== (maintained[type] ?? 0)) {
      problems.push({ where: `projection object_counts ${type}`, message: `${maintained[type] ?? 0} counted but ${counts[type] ?? 0} objects` });
    }
  }
  for (const row of store.countQueries.facetMismatches()) {
    problems.push({ where: `projection object_facets ${row.type}.${row.field}`, message: `count of value ${JSON.stringify(row.value)} differs from the index` });
  }
  return problems;
}
