import * as fs from 'node:fs';
import { ChangeNotifier } from '../../log/change-notifier';
import type { LogWatcher, WatchOptions } from '../../log/event-log';
import { fsError, parseSegmentFileName, type SegmentFiles } from './segment-files';

/**
 * `EventLog.watch` for a log directory: this process's appends signal at once (`notify`); other
 * processes' appends are seen by `fs.watch` on the directory (segment files only) and, as the fallback
 * that also covers file systems without change events (NFS, SMB), by polling the newest segment's
 * name and size every `intervalMs`.
 */
export class LogDirWatch {
  private readonly notifier: ChangeNotifier;
  private seen = '';
  private watcher: fs.FSWatcher | undefined;

  constructor(private readonly files: SegmentFiles) {
    this.notifier = new ChangeNotifier(() => {
      const now = this.fingerprint();
      if (now === this.seen) return false;
      this.seen = now;
      return true;
    });
  }

  watch(onChange: () => void, options: WatchOptions = {}): LogWatcher {
    if (!this.notifier.watching) {
      this.seen = this.fingerprint();
      this.startFsWatch();
    }
    const watcher = this.notifier.watch(onChange, options);
    return {
      close: async () => {
        await watcher.close();
        if (!this.notifier.watching) this.stopFsWatch();
      },
    };
  }

  /** Signal this process's own append. */
  notify(): void {
    this.notifier.notify();
  }

  /** End every watcher with `ClosedError`. */
  close(): void {
    this.stopFsWatch();
    this.notifier.close();
  }

  /** The newest segment and its size: it changes whenever anyone appends or rolls over. */
  private fingerprint(): string {
    try {
      const segments = this.files.list();
      const last = segments[segments.length - 1];
      return last === undefined ? '' : `${last}:${fs.statSync(this.files.path(last)).size}`;
    } catch (error) {
      throw fsError(error, `cannot watch the log in ${this.files.dir}`);
    }
  }

  private startFsWatch(): void {
    try {
      this.watcher = fs.watch(this.files.dir, { persistent: false }, (_event, name) => {
        if (name === null || parseSegmentFileName(String(name)) !== undefined) this.notifier.notify();
      });
      this.watcher.on('error', () => this.stopFsWatch());
    } catch {
      this.watcher = undefined;
    }
  }

  private stopFsWatch(): void {
    this.watcher?.close();
    this.watcher = undefined;
  }
}
