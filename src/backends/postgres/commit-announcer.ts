import type { Pool } from 'pg';

/**
 * The one place a log object sends NOTIFY: after a group commit, outside the append transaction, with
 * the newest position as payload (a wake-up hint, never data). At most one NOTIFY is in flight; commits
 * that land meanwhile are folded into the next one, which carries the newest position. So the
 * notification queue's global lock is taken at most once per group commit and never while the log's
 * counter row is held, and a NOTIFY that fails (the server is away) costs nothing but a later wake-up:
 * listeners also poll.
 *
 * The NOTIFY runs in its own transaction with `synchronous_commit` off: it must not wait for a WAL flush.
 */
export class CommitAnnouncer {
  private latest = 0;
  private sent = 0;
  private running: Promise<void> | undefined;
  /** NOTIFYs sent (for measurements). */
  count = 0;

  /** `channel` must be a validated identifier (it is embedded as a literal). `enabled: false` sends nothing (for measurements). */
  constructor(private readonly pool: Pool, private readonly channel: string, private readonly enabled = true) {
    if (!/^[a-z0-9_]+$/.test(channel)) throw new Error(`bad channel name ${channel}`);
  }

  /** A group commit ended at `position`: tell the other processes, soon. */
  announce(position: number): void {
    if (!this.enabled || position <= this.latest) return;
    this.latest = position;
    this.running ??= this.flush().finally(() => {
      this.running = undefined;
    });
  }

  /** Resolves when no NOTIFY is in flight (before the pool is closed). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async flush(): Promise<void> {
    while (this.latest > this.sent) {
      const position = this.latest;
      try {
        await this.pool.query(`BEGIN; SET LOCAL synchronous_commit TO off; SELECT pg_notify('${this.channel}', '${position}'); COMMIT`);
        this.count++;
      } catch {
        // A hint only: watchers of other processes poll and catch up.
      }
      this.sent = position;
    }
  }
}
