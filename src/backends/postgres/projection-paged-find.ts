import type { FindQuery, ObjectRecord, Page, ReadBudget } from '../../projections/projection-store';
import type { PgProjectionQueries } from './projection-queries';

/** Objects a scan examines per slice; between slices the read checks its budget and signal. */
const SCAN_SLICE = 2000;
/** Most records one statement returns when whole objects are read (objects reach 1 MiB). */
const FULL_SLICE = 64;
/** Most sids one statement returns. */
const SID_SLICE = 2048;

type Item = string | ObjectRecord;

/** The JSON size of an item as it will be sent (as the SQLite store charges it). */
function sizeOf(item: Item): number {
  return typeof item === 'string' ? item.length + 3 : JSON.stringify(item.object).length + 1;
}

function sidOf(item: Item): string {
  return typeof item === 'string' ? item : (item.object.sid as string);
}

/**
 * One page of `find` within a `ReadBudget`, with the SQLite store's paging rules: sid order in slices
 * (a scan looks at SCAN_SLICE objects at a time and charges them to `scanRows`; whole objects come
 * FULL_SLICE at a time), stopping early with `nextAfterSid` when bytes or scan rows run out or the
 * signal aborts; ranked text pages by offset, cut short with `nextOffset` when the bytes run out.
 * At least one item is returned while any byte is left.
 */
export async function pagedFind(queries: PgProjectionQueries, type: string, query: FindQuery, full: boolean, budget?: ReadBudget): Promise<Page<Item>> {
  if (budget && budget.bytes <= 0) throw budget.refuse('bytes');
  if (query.text !== undefined) return rankedPage(queries, type, query, full, budget);
  const scan = queries.isScan(type, query.filter);
  if (scan && budget && budget.scanRows <= 0) throw budget.refuse('scanRows');
  const items: Item[] = [];
  let after = query.afterSid;
  for (let slice = 0; ; slice++) {
    if (slice > 0) {
      if (budget?.signal?.aborted) throw budget.signal.reason;
      if (budget && (budget.bytes <= 0 || (scan && budget.scanRows <= 0))) return after === undefined ? { items } : { items, nextAfterSid: after };
    }
    const upto = scan ? await queries.sliceEnd(type, after, SCAN_SLICE) : undefined;
    if (scan && budget) budget.scanRows -= SCAN_SLICE;
    const take = Math.min(query.limit + 1 - items.length, full ? FULL_SLICE : SID_SLICE);
    const rows = await queries.range(type, query.filter, after, upto, take, full);
    for (const row of rows) {
      const size = sizeOf(row);
      if (items.length === query.limit || (budget && items.length > 0 && size > budget.bytes)) return { items, nextAfterSid: sidOf(items[items.length - 1]) };
      if (budget) budget.bytes -= size;
      items.push(row);
    }
    if (rows.length === take) after = sidOf(rows[rows.length - 1]);
    else if (upto === undefined) return { items };
    else after = upto;
  }
}

/** A ranked page (one statement), its items charged to the budget in rank order. */
async function rankedPage(queries: PgProjectionQueries, type: string, query: FindQuery, full: boolean, budget?: ReadBudget): Promise<Page<Item>> {
  const rows = await queries.ranked(type, query, full);
  const offset = query.offset ?? 0;
  const items: Item[] = [];
  for (const row of rows.slice(0, query.limit)) {
    const size = sizeOf(row);
    if (budget && items.length > 0 && size > budget.bytes) return { items, nextOffset: offset + items.length };
    if (budget) budget.bytes -= size;
    items.push(row);
  }
  return rows.length > query.limit ? { items, nextOffset: offset + query.limit } : { items };
}
