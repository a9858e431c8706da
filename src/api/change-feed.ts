import { Observable } from 'rxjs';
import type { StoredEvent } from '../log/event';
import type { EventLog } from '../log/event-log';

/** Options of `store.changes()`. */
export interface ChangesOptions {
  /** First position to deliver (default 1: the whole log). */
  from?: number;
  /** Only events of these types. */
  types?: readonly string[];
  /** How often to look for new events once caught up, in ms (default 25). */
  pollMs?: number;
  /** Events read per step (default 1000). */
  batchSize?: number;
}

/**
 * The log as an Observable: history from `from`, then live events, with no gap and no duplicate at
 * the seam because both come from the same position cursor. Each batch is delivered before the next
 * is read, so a slow synchronous subscriber never makes the feed buffer without bound.
 */
export function changeFeed(log: EventLog, options: ChangesOptions = {}): Observable<StoredEvent> {
  const pollMs = options.pollMs ?? 25;
  const batchSize = options.batchSize ?? 1000;
  const types = options.types ? new Set(options.types) : undefined;
  return new Observable<StoredEvent>((subscriber) => {
    let next = Math.max(1, options.from ?? 1);
    let stopped = false;
    let timer: NodeJS.Timeout | undefined;
    const step = async (): Promise<void> => {
      if (stopped) return;
      try {
        const events = await log.readAll(next, { limit: batchSize });
        for (const event of events) {
          if (stopped) return;
          next = event.position + 1;
          if (!types || types.has(event.type)) subscriber.next(event);
        }
        if (stopped) return;
        if (events.length === batchSize) setImmediate(step);
        else timer = setTimeout(step, pollMs);
      } catch (error) {
        if (!stopped) subscriber.error(error);
      }
    };
    void step();
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    };
  });
}
