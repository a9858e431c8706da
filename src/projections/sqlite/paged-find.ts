import type { FindQuery, ObjectRecord, Page, ProjectionQueries } from './queries';
import type { ReadBudget } from '../projection-store';
export type { ReadBudget } from '../projection-store';

/** Objects a scan examines per slice, between which it yields to the event loop and checks its signal. */
export const SCAN_SLICE = 2000;
/** Most records a slice returns when whole objects are read (objects reach 1 MiB). */
const FULL_SLICE = 64;
/** Most sids a slice returns. */
const SID_SLICE = 2048;

const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** The JSON size of an item as it will be sent. */
function sizeOf(item: string | ObjectRecord): number {
  return typeof item === 'string' ? item.length + 3 : JSON.stringify(item.object).length + 1;
}

/**
 * `queries.find` in slices: a scan examines SCAN_SLICE objects at a time and yields to the event loop
 * between slices, whole objects are read FULL_SLICE at a time, and the page stops early (with a cursor
 * where the next page starts) when `budget` runs out of bytes or scan rows or its signal aborts. So no
 * read holds the event loop for long or holds more than a slice beyond its byte budget. Ranked text
 * queries run as one statement (FTS5 drives them, O(matches)); their whole objects are loaded one by one.
 */
export async function pagedFind(queries: ProjectionQueries, type: string, query: FindQuery, full: boolean, budget?: ReadBudget): Promise<Page<string | ObjectRecord>> {
  if (budget && budget.bytes <= 0) throw budget.refuse('bytes');
  if (query.text !== undefined) return rankedPage(queries, type, query, full, budget);
  const scan = queries.isScan(type, query.filter);
  if (scan && budget && budget.scanRows <= 0) throw budget.refuse('scanRows');
  const items: Array<string | ObjectRecord> = [];
  let after = query.afterSid;
  for (let slice = 0; ; slice++) {
    if (slice > 0) {
      await yieldToLoop();
      if (budget?.signal?.aborted) throw budget.signal.reason;
      if (budget && (budget.bytes <= 0 || (scan && budget.scanRows <= 0))) return cutShort(items, after);
    }
    const upto = scan ? queries.sliceEnd(type, after, SCAN_SLICE) : undefined;
    if (scan && budget) budget.scanRows -= SCAN_SLICE;
    const want = query.limit + 1 - items.length;
    const take = Math.min(want, full ? FULL_SLICE : SID_SLICE);
    const rows = queries.range(type, query.filter, after, upto, take, full);
    for (const row of rows) {
      if (items.length === query.limit) return { items, nextAfterSid: sidOf(items[items.length - 1]) };
      const size = sizeOf(row);
      if (budget && items.length > 0 && size > budget.bytes) return { items, nextAfterSid: sidOf(items[items.length - 1]) };
      if (budget) budget.bytes -= size;
      items.push(row);
    }
    if (rows.length === take) after = sidOf(rows[rows.length - 1]);
    else if (upto === undefined) return { items };
    else after = upto;
  }
}

/** A page cut short by its budget: the next page starts after the last object looked at. */
function cutShort(items: Array<string | ObjectRecord>, after: string | undefined): Page<string | ObjectRecord> {
  return after === undefined ? { items } : { items, nextAfterSid: after };
}

async function rankedPage(queries: ProjectionQueries, type: string, query: FindQuery, full: boolean, budget?: ReadBudget): Promise<Page<string | ObjectRecord>> {
  const page = queries.find(type, query, false) as Page<string>;
  const items: Array<string | ObjectRecord> = [];
  const offset = query.offset ?? 0;
  for (let i = 0; i < page.items.length; i++) {
    const item = full ? queries.get(type, page.items[i]) : page.items[i];
    if (item === undefined) continue;
    const size = sizeOf(item);
    if (budget && items.length > 0 && size > budget.bytes) return { items, nextOffset: offset + i };
    if (budget) budget.bytes -= size;
    items.push(item);
  }
  return page.nextOffset !== undefined ? { items, nextOffset: page.nextOffset } : { items };
}

function sidOf(item: string | ObjectRecord): string {
  return typeof item === 'string' ? item : (item.object.sid as string);
}
