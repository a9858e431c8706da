import * as fs from 'node:fs';
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

/** Files whose changes (seen through `fs.watch` on their directory) signal at once, between polls. */
export interface WatchedFiles {
  dir: string;
  /** True for the names (within `dir`) whose changes mean the log may have grown. */
  accept: (name: string) => boolean;
}

/** Options of a `ChangeNotifier`. */
export interface ChangeNotifierOptions {
  bounds?: PollBounds;
  files?: WatchedFiles;
}

const DEFAULT_BOUNDS: PollBounds = { defaultMs: 20, minMs: 5, maxMs: 60_000 };

/**
 * The building block of `EventLog.watch` for any backend: a set of watchers, a `notify()` for the
 * log's own commits (coalesced into one signal per microtask), and an optional shared poll of a cheap
 * probe (SQLite `PRAGMA data_version`, a file's size) that runs only while someone watches, at the
 * shortest interval any watcher asked for. With `files`, `fs.watch` on their directory signals other
 * processes' writes at once too; the poll stays as the fallback (network file systems send no events).
 * Timers and fs watchers are unref'ed: watching never keeps a process alive.
 */
export class ChangeNotifier {
  private readonly watches = new Set<Watch>();
  private timer: NodeJS.Timeout | undefined;
  private timerMs = Number.POSITIVE_INFINITY;
  private probing = false;
  private pending = false;
  private closed = false;

  private fsWatcher: fs.FSWatcher | undefined;
  private readonly bounds: PollBounds;

  constructor(private readonly probe?: ChangeProbe, private readonly options: ChangeNotifierOptions = {}) {
    this.bounds = options.bounds ?? DEFAULT_BOUNDS;
  }

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
    if (this.watches.size === 0) this.startFsWatch();
    this.watches.add(entry);
    if (!this.timer || intervalMs < this.timerMs) this.reschedule();
    return {
      close: async () => {
        this.watches.delete(entry);
        if (this.watches.size === 0) this.idle();
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
    this.idle();
    for (const entry of [...this.watches]) this.end(entry, new ClosedError());
  }

  private end(entry: Watch, error: unknown): void {
    if (!this.watches.delete(entry)) return;
    if (this.watches.size === 0) this.idle();
    entry.onError?.(error);
  }

  /** Nobody watches: stop polling and fs watching. */
  private idle(): void {
    this.stopTimer();
    this.fsWatcher?.close();
    this.fsWatcher = undefined;
  }

  private startFsWatch(): void {
    const files = this.options.files;
    if (!files || this.fsWatcher) return;
    try {
      const watcher = fs.watch(files.dir, { persistent: false }, (_event, name) => {
        if (name === null || files.accept(String(name))) this.notify();
      });
      watcher.on('error', () => {
        watcher.close();
        if (this.fsWatcher === watcher) this.fsWatcher = undefined;
      });
      this.fsWatcher = watcher;
    } catch {
      // No change events here (or no such directory yet): the poll alone signals.
    }
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
