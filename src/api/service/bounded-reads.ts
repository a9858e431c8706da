import type { StoredEvent } from '../../log/event';
import type { ReadBudget } from '../library/collection';
import type { Store } from '../library/store';
import { STORE_METHOD_SPECS, TYPE_METHOD } from './catalog';

/** Events `log_read` reads at a time, between which it yields to the event loop and checks its signal. */
const LOG_SLICE = 256;
/** Default limits, as the methods apply them. */
const DEFAULT_PAGE = 100;
const DEFAULT_LOG_READ = 1000;
const PAGED_OPS = new Set(['list', 'list_full', 'find', 'find_full']);

/**
 * The rows a call of `method` may return given its params (its `limit`, or the default), which the
 * request's row budget adds up before anything runs; undefined for methods that return one thing.
 */
export function declaredRows(method: string): ((params: unknown) => number) | undefined {
  const paged = method === 'log_read' || (!Object.prototype.hasOwnProperty.call(STORE_METHOD_SPECS, method) && PAGED_OPS.has(TYPE_METHOD.exec(method)?.[2] ?? ''));
  if (!paged) return undefined;
  const fallback = method === 'log_read' ? DEFAULT_LOG_READ : DEFAULT_PAGE;
  return (params) => {
    const limit = (params as { limit?: unknown } | null)?.limit;
    if (limit === undefined) return fallback;
    // An invalid limit is refused by the call itself; count it as one row here.
    return typeof limit === 'number' && Number.isInteger(limit) && limit > 0 ? limit : 1;
  };
}

/**
 * `log_read`: up to `limit` events from `from`, read LOG_SLICE at a time, stopping early (with
 * `next_from`) when the request's byte budget runs out; at least one event when any is left.
 */
export async function boundedLogRead(
  store: Store,
  from: number,
  limit: number,
  types: string[] | undefined,
  budget: ReadBudget | undefined,
): Promise<{ items: StoredEvent[]; next_from?: number }> {
  if (budget && budget.bytes <= 0) throw budget.refuse('bytes');
  const items: StoredEvent[] = [];
  let next = from;
  for (let slice = 0; items.length < limit; slice++) {
    if (slice > 0) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (budget?.signal?.aborted) throw budget.signal.reason;
    }
    const want = Math.min(LOG_SLICE, limit - items.length);
    const events = await store.log.readAll(next, { limit: want, ...(types ? { types } : {}) });
    for (const event of events) {
      const size = JSON.stringify(event).length + 1;
      if (budget && items.length > 0 && size > budget.bytes) return { items, next_from: event.position };
      if (budget) budget.bytes -= size;
      items.push(event);
    }
    if (events.length < want) return { items };
    next = events[events.length - 1].position + 1;
  }
  return { items, next_from: items[items.length - 1].position + 1 };
}
