import type { Subscription } from 'rxjs';
import type { Store } from '../library/store';

/** Options of `osis log --follow`. */
export interface FollowOptions {
  from: number;
  types?: readonly string[];
}

/**
 * Stream the log as NDJSON to `out` until SIGINT or SIGTERM (or the reader goes away: EPIPE), then
 * resolve so the store closes cleanly. Each batch is written in one piece and the next batch is read
 * only once `out` has drained, so a slow reader slows the feed instead of growing memory.
 */
export async function followLog(store: Store, options: FollowOptions, out: NodeJS.WritableStream = process.stdout): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    let finished = false;
    let wakeDrain: (() => void) | undefined;
    let subscription: Subscription | undefined;
    const finish = (error?: unknown) => {
      if (finished) return;
      finished = true;
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      out.off('error', onOutError);
      subscription?.unsubscribe();
      wakeDrain?.();
      if (error) reject(error);
      else resolve();
    };
    const onSignal = () => finish();
    const onOutError = (error: NodeJS.ErrnoException) => finish(error.code === 'EPIPE' ? undefined : error);
    subscription = store
      .processChanges(
        async (events) => {
          let text = '';
          for (const event of events) text += `${JSON.stringify(event)}\n`;
          if (out.write(text) || finished) return;
          await new Promise<void>((drained) => {
            wakeDrain = drained;
            out.once('drain', drained);
          });
          wakeDrain = undefined;
        },
        { from: options.from, ...(options.types ? { types: options.types } : {}) },
      )
      .subscribe({ error: (error) => finish(error), complete: () => finish() });
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    out.on('error', onOutError);
  });
}
