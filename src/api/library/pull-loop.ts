import { EMPTY, Observable, Subscription, concatMap, defer, from, take, type ObservableInput } from 'rxjs';
import type { StoredEvent } from '../../log/event';

/** What one read of the log returned. */
export interface FeedBatch {
  /** The events read, in position order (possibly none, when only other types were scanned). */
  events: StoredEvent[];
  /** The position to read from next: every position below it has been scanned. */
  next: number;
  /** True when the read stopped at its limit, so more events are ready now. */
  more: boolean;
}

/** The parts of a pull loop. */
export interface PullLoopParts<R> {
  /** First position to read. */
  from: number;
  /** Read one batch from a position (a Promise or an Observable whose first value counts). */
  read: (next: number) => ObservableInput<FeedBatch>;
  /** Emits when the log may have grown; the first emission starts the first read. */
  wake: Observable<unknown>;
  /**
   * Hand a batch that advanced the position to the consumer. The next read starts only after the
   * returned input completes: this is the backpressure.
   */
  deliver: (batch: FeedBatch) => ObservableInput<R>;
  /**
   * Runs between one batch and the next read (its first value lets the loop go on), so a long
   * catch-up leaves room for timers and I/O; production passes a `setImmediate`. Default: go on at once.
   */
  pause?: () => Observable<unknown>;
}

/**
 * The change feed's engine, free of timers and I/O so marble tests can drive it. One position cursor
 * serves history and live events alike, so the hand-over has no gap and no duplicate. It reads when
 * woken, keeps reading while batches come back full, delivers each batch before reading the next,
 * and remembers a wake that arrives during a read or a delivery so no commit is missed. Between a
 * batch and the next read it yields through `pause`, so a catch-up never starves the event loop.
 * At most one batch is ever held, however slow the consumer. Unsubscribing stops all further reads.
 */
export function pullLoop<R>(parts: PullLoopParts<R>): Observable<R> {
  return new Observable<R>((subscriber) => {
    let next = parts.from;
    let busy = false;
    let woken = false;
    let inStep = false;
    let again = false;
    let current: Subscription | undefined;

    const step = (): void => {
      busy = true;
      woken = false;
      let more = false;
      inStep = true;
      const reading = defer(() => parts.read(next))
        .pipe(
          take(1),
          concatMap((batch) => {
            more = batch.more;
            if (batch.next <= next) return EMPTY;
            next = batch.next;
            return from(parts.deliver(batch));
          }),
        )
        .subscribe({
          next: (value) => subscriber.next(value),
          error: (error) => subscriber.error(error),
          complete: () => {
            busy = false;
            if (!(more || woken) || subscriber.closed) return;
            if (parts.pause) {
              busy = true;
              const pausing = parts.pause().pipe(take(1)).subscribe(() => {
                busy = false;
                run();
              });
              if (!pausing.closed) current = pausing;
            } else if (inStep) again = true;
            else run();
          },
        });
      if (!reading.closed) current = reading;
      inStep = false;
    };

    const run = (): void => {
      do {
        again = false;
        step();
      } while (again && !subscriber.closed);
    };

    const wake = parts.wake.subscribe({
      next: () => {
        if (busy) woken = true;
        else run();
      },
      error: (error) => subscriber.error(error),
    });
    return () => {
      wake.unsubscribe();
      current?.unsubscribe();
    };
  });
}
