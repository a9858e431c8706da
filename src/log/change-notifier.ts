import { ClosedError } from './errors';
import type { LogWatcher, WatchOptions } from './event-log';

/** Looks for commits made elsewhere: resolves true when the log may have grown since the last call. */
export type ChangeProbe = () => boolean | Promise<boolean>;

/** Bounds and default of the poll interval, in ms. */
export interface PollBounds {
  defaultMs: number;
  minMs: number;
  maxMs: number;
}

interface Watch {
  onChange: () => void;
  onError?: (error: unknown) => void;
  intervalMs: number;
}

const DEFAULT_BOUNDS: PollBounds = { defaultMs: 20, minMs: 5, maxMs: 60_000 };

/**
 * The building block of `EventLog.watch` for any backend: a set of watchers, a `notify()` for the
 * log's own commits (coalesced into one signal per microtask), and an optional shared poll of a cheap
 * probe (SQLite `PRAGMA data_version`, a file's size) that runs only while someone watches, at the
 * shortest interval any watcher asked for. Timers are unref'ed: watching never keeps a process alive.
 */
export class ChangeNotifier {
  private readonly watches = new Set<Watch>();
  private timer: NodeJS.Timeout | undefined;
  private timerMs = Number.POSITIVE_INFINITY;
  private probing = false;
  private pending = false;
  private closed = false;

  constructor(private readonly probe?: ChangeProbe, private readonly bounds: PollBounds = DEFAULT_BOUNDS) {}

  /** True while at least one watcher is registered (the probe's baseline is being kept). */
  get watching(): boolean {
    return this.watches.size > 0;
  }

  /** Add a watcher. Throws `ClosedError` once the notifier is closed. */
  watch(onChange: () => void, options: WatchOptions = {}): LogWatcher {
    if (this.closed) throw new ClosedError();
    const requested = options.intervalMs ?? this.bounds.defaultMs;
    const intervalMs = Math.min(this.bounds.maxMs, Math.max(this.bounds.minMs, Number.isFinite(requested) ? requested : this.bounds.defaultMs));
    const entry: Watch = { onChange, onError: options.onError, intervalMs };
    this.watches.add(entry);
    if (!this.timer || intervalMs < this.timerMs) this.reschedule();
    return {
      close: async () => {
        this.watches.delete(entry);
        if (this.watches.size === 0) this.stopTimer();
      },
    };
  }

  /** Signal every watcher that the log may have grown (after a commit through this process's log). */
  notify(): void {
    if (this.pending || this.watches.size === 0) return;
    this.pending = true;
    queueMicrotask(() => {
      this.pending = false;
      for (const entry of [...this.watches]) {
        try {
          entry.onChange();
        } catch (error) {
          this.end(entry, error);
        }
      }
    });
  }

  /** End every watcher with `ClosedError` and stop polling. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopTimer();
    for (const entry of [...this.watches]) this.end(entry, new ClosedError());
  }

  private end(entry: Watch, error: unknown): void {
    if (!this.watches.delete(entry)) return;
    if (this.watches.size === 0) this.stopTimer();
    entry.onError?.(error);
  }

  private currentInterval(): number {
    let ms = Number.POSITIVE_INFINITY;
    for (const entry of this.watches) ms = Math.min(ms, entry.intervalMs);
    return ms;
  }

  private reschedule(): void {
    if (!this.probe || this.closed || this.watches.size === 0) return;
    this.stopTimer();
    this.timerMs = this.currentInterval();
    this.timer = setTimeout(() => void this.poll(), this.timerMs);
    this.timer.unref();
  }

  private stopTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerMs = Number.POSITIVE_INFINITY;
  }

  private async poll(): Promise<void> {
    this.timer = undefined;
    this.timerMs = Number.POSITIVE_INFINITY;
    if (this.probing || this.closed || this.watches.size === 0) return;
    this.probing = true;
    try {
      if (await this.probe!()) this.notify();
    } catch (error) {
      for (const entry of [...this.watches]) this.end(entry, error);
    } finally {
      this.probing = false;
    }
    this.reschedule();
  }
}
