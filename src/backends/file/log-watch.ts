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

  constructor(private readonly files: SegmentFiles) {
    const probe = () => {
      const now = this.fingerprint();
      if (now === this.seen) return false;
      this.seen = now;
      return true;
    };
    this.notifier = new ChangeNotifier(probe, { files: { dir: files.dir, accept: (name) => parseSegmentFileName(name) !== undefined } });
  }

  watch(onChange: () => void, options: WatchOptions = {}): LogWatcher {
    if (!this.notifier.watching) this.seen = this.fingerprint();
    return this.notifier.watch(onChange, options);
  }

  /** Signal this process's own append. */
  notify(): void {
    this.notifier.notify();
  }

  /** End every watcher with `ClosedError`. */
  close(): void {
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
}
