import * as fs from 'node:fs';
import { Worker } from 'node:worker_threads';

/** Options of the WAL checkpointer. */
export interface WalCheckpointOptions {
  /** Checkpoint (TRUNCATE) once the WAL file is larger than this; 0 turns the checkpointer off. Default 16 MiB. */
  limitBytes?: number;
  /** How long one checkpoint may wait for readers that still use the WAL (default 2 s). */
  waitMs?: number;
  /** Look at the WAL size at most this often (default 250 ms). */
  intervalMs?: number;
}

export const DEFAULT_WAL_LIMIT_BYTES = 16 * 1024 * 1024;

/** Runs in the worker: its own connection, waiting for readers with SQLite's busy handler. */
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('busy_timeout = ' + workerData.waitMs);
parentPort.on('message', () => {
  let result;
  try {
    result = db.pragma('wal_checkpoint(TRUNCATE)')[0];
  } catch (error) {
    result = { error: String(error && error.message) };
  }
  parentPort.postMessage(result);
});
`;

/**
 * SQLite's automatic checkpoint is PASSIVE: it never waits, so while readers keep overlapping (another
 * process polling, long scans) the WAL is never reset and grows without bound (checkpoint starvation).
 * After commits, when the WAL has grown past `limitBytes`, this runs `wal_checkpoint(TRUNCATE)` on a
 * worker thread with its own connection: it waits up to `waitMs` for the readers of older snapshots to
 * finish (new ones read the database file), resets the WAL and truncates it. The writer's event loop
 * never blocks on it; this process's appends wait for it asynchronously (see `idle`).
 */
export class WalCheckpointer {
  private worker: Worker | undefined;
  private running = false;
  private finished: Promise<void> = Promise.resolve();
  private finish: () => void = () => undefined;
  private lastLook = 0;
  private sinceLook = 0;
  private readonly limit: number;
  private readonly waitMs: number;
  private readonly intervalMs: number;
  /** Checkpoints run and those that had to give up waiting for readers (for stats and tests). */
  readonly counts = { runs: 0, busy: 0, errors: 0 };

  constructor(private readonly file: string, options: WalCheckpointOptions = {}) {
    this.limit = options.limitBytes ?? DEFAULT_WAL_LIMIT_BYTES;
    this.waitMs = options.waitMs ?? 2000;
    this.intervalMs = options.intervalMs ?? 250;
  }

  /**
   * Count bytes of event data written (appends call it per event): a fast writer can fill the WAL many
   * times over within one `intervalMs`, so the WAL is also looked at after each quarter of the limit.
   */
  wrote(bytes: number): void {
    this.sinceLook += bytes;
  }

  /** Called after each commit: cheap unless the WAL is over the limit. */
  afterCommit(): void {
    if (this.limit <= 0 || this.running) return;
    const now = Date.now();
    if (now - this.lastLook < this.intervalMs && this.sinceLook < this.limit / 4) return;
    this.lastLook = now;
    this.sinceLook = 0;
    const size = fs.statSync(`${this.file}-wal`, { throwIfNoEntry: false })?.size ?? 0;
    if (size > this.limit) this.run();
  }

  /**
   * Resolves once no checkpoint is running. Writers of this process await it before taking the write
   * lock, so a checkpoint, once due, is not starved of that lock by a stream of appends (backpressure).
   */
  idle(): Promise<void> {
    return this.running ? this.finished : Promise.resolve();
  }

  private run(): void {
    this.running = true;
    this.finished = new Promise((resolve) => (this.finish = resolve));
    if (!this.worker) {
      this.worker = new Worker(WORKER, { eval: true, workerData: { driver: require.resolve('better-sqlite3'), file: this.file, waitMs: this.waitMs } });
      this.worker.unref();
      this.worker.on('error', () => {
        this.counts.errors++;
        this.worker = undefined;
        this.running = false;
        this.finish();
      });
    }
    this.worker.once('message', (result: { busy?: number; error?: string }) => {
      this.counts.runs++;
      if (result.error) this.counts.errors++;
      else if (result.busy) this.counts.busy++;
      this.running = false;
      this.finish();
    });
    this.worker.postMessage('checkpoint');
  }

  /** Stop the worker (waits for a checkpoint in progress to end). */
  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    if (worker) await worker.terminate();
    this.running = false;
    this.finish();
  }
}
