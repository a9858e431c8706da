import { firstValueFrom, take, timeout, toArray, type Observable } from 'rxjs';
import type { EventLog } from '../../src';

/** The first `count` values of `source`, failing after `ms` (a generous bound, not a timing assertion). */
export function firstN<T>(source: Observable<T>, count: number, ms = 15_000): Promise<T[]> {
  return firstValueFrom(source.pipe(take(count), toArray(), timeout({ first: ms })));
}

/** Resolve once `check()` is true, polling every 5 ms; reject after `ms` naming `what`. */
export async function until(check: () => boolean | Promise<boolean>, what: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Counters of what a change feed asked of its log. */
export interface LogSpy {
  reads: number;
  eventsRead: number;
  openWatchers: number;
}

/** Wrap a log to count reads, events read and open watchers; `withWatch: false` hides the capability. */
export function spyLog(inner: EventLog, options: { withWatch?: boolean; failOnRead?: number } = {}): { log: EventLog; spy: LogSpy } {
  const spy: LogSpy = { reads: 0, eventsRead: 0, openWatchers: 0 };
  const log: EventLog = {
    backend: inner.backend,
    append: (events, o) => inner.append(events, o),
    readStream: (type, sid) => inner.readStream(type, sid),
    streamState: (type, sid) => inner.streamState(type, sid),
    head: () => inner.head(),
    close: () => inner.close(),
    readAll: async (from, o) => {
      spy.reads++;
      if (spy.reads === options.failOnRead) throw new Error(`read ${spy.reads} failed`);
      const events = await inner.readAll(from, o);
      spy.eventsRead += events.length;
      return events;
    },
  };
  if (options.withWatch !== false && inner.watch) {
    log.watch = async (onChange, o) => {
      const watcher = await inner.watch!(onChange, o);
      spy.openWatchers++;
      let open = true;
      return {
        close: async () => {
          if (open) spy.openWatchers--;
          open = false;
          await watcher.close();
        },
      };
    };
  }
  return { log, spy };
}
