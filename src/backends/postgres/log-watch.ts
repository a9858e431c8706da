import { Client, type Pool } from 'pg';
import { ChangeNotifier, type PollBounds } from '../../log/change-notifier';
import type { LogWatcher, WatchOptions } from '../../log/event-log';
import type { LogTables } from './log-schema';
import { isConnectionLoss, wrapPgError } from './pg-errors';
import { quoteIdent } from './sql';
import type { PostgresTarget } from './url';

/**
 * Poll bounds of the safety-net poll: LISTEN/NOTIFY wakes watchers at once, so the poll (one indexed
 * read of the counter row) only catches what a lost notification or a broken LISTEN connection missed.
 */
const POLL_BOUNDS: PollBounds = { defaultMs: 250, minMs: 50, maxMs: 60_000 };

/**
 * `EventLog.watch` for PostgreSQL. This log object's own commits signal at once (`localCommit`); other
 * processes' and hosts' commits arrive as NOTIFY on the store's channel (a position, never data),
 * received by one dedicated LISTEN connection per log object that is opened by the first watcher and
 * reopened, with a catch-up signal, whenever it breaks. The counter row is polled as the safety net. A
 * poll that cannot reach the server is retried quietly for `outageMs`; only then do watchers end with
 * UNAVAILABLE. Closing ends them with CLOSED. The LISTEN socket and every timer are unref'ed.
 */
export class LogWatch {
  private readonly notifier: ChangeNotifier;
  private listener: Promise<Client> | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private seen = -1;
  private failingSince: number | undefined;
  private closed = false;

  constructor(
    private readonly pool: Pool,
    private readonly target: PostgresTarget,
    private readonly tables: LogTables,
    private readonly outageMs: number,
  ) {
    this.notifier = new ChangeNotifier(() => this.probe(), { bounds: POLL_BOUNDS });
  }

  /** A commit through this log object: signal this process's watchers now. */
  localCommit(): void {
    this.notifier.notify();
  }

  /** Add a watcher; resolves once LISTEN is active and the poll has its baseline. */
  async watch(onChange: () => void, options: WatchOptions = {}): Promise<LogWatcher> {
    await this.listen();
    if (!this.notifier.watching) this.seen = await this.counter();
    const watcher = this.notifier.watch(onChange, options);
    return {
      close: async () => {
        await watcher.close();
        if (!this.notifier.watching) await this.unlisten();
      },
    };
  }

  /** End every watcher with CLOSED and drop the LISTEN connection. */
  async close(): Promise<void> {
    this.closed = true;
    this.notifier.close();
    await this.unlisten();
  }

  private listen(): Promise<Client> {
    this.listener ??= this.connect().catch((error) => {
      this.listener = undefined;
      throw wrapPgError(error, 'cannot watch the log', this.target.display);
    });
    return this.listener;
  }

  private async connect(): Promise<Client> {
    const client = new Client({ connectionString: this.target.connectionString, keepAlive: true });
    client.on('notification', () => this.notifier.notify());
    client.on('error', () => this.broken(client));
    client.on('end', () => this.broken(client));
    try {
      await client.connect();
      await client.query(`LISTEN ${quoteIdent(this.tables.channel)}`);
    } catch (error) {
      client.end().catch(() => undefined);
      throw error;
    }
    (client as unknown as { unref(): void }).unref(); // pg has it; @types/pg does not declare it
    return client;
  }

  /** The LISTEN connection broke: reopen it soon; the poll covers the gap, and a signal follows the reconnect. */
  private broken(client: Client): void {
    const current = this.listener;
    if (this.closed || !current) return;
    void current.then(
      (listening) => {
        if (listening !== client || this.reconnectTimer) return;
        this.listener = undefined;
        this.reconnectTimer = setTimeout(() => {
          this.reconnectTimer = undefined;
          if (this.closed || !this.notifier.watching) return;
          this.listen().then(
            () => this.notifier.notify(),
            () => this.broken(client),
          );
        }, 200);
        this.reconnectTimer.unref();
      },
      () => undefined,
    );
    client.end().catch(() => undefined);
  }

  private async unlisten(): Promise<void> {
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    const listening = this.listener;
    this.listener = undefined;
    if (!listening) return;
    const client = await listening.catch(() => undefined);
    client?.removeAllListeners('end');
    await client?.end().catch(() => undefined);
  }

  private async counter(): Promise<number> {
    const result = await this.pool.query<{ position: number }>(`SELECT position FROM ${this.tables.head} WHERE id = 1`);
    return result.rows[0]?.position ?? 0;
  }

  /** The poll: true when the counter moved since the last look. Outages shorter than `outageMs` pass quietly. */
  private async probe(): Promise<boolean> {
    let position: number;
    try {
      position = await this.counter();
    } catch (error) {
      if (!isConnectionLoss(error)) throw wrapPgError(error, 'cannot watch the log', this.target.display);
      this.failingSince ??= Date.now();
      if (Date.now() - this.failingSince > this.outageMs) throw wrapPgError(error, 'cannot watch the log', this.target.display);
      return false;
    }
    const recovered = this.failingSince !== undefined;
    this.failingSince = undefined;
    if (position === this.seen && !recovered) return false;
    this.seen = position;
    return true;
  }
}
