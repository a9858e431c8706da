import * as fs from 'node:fs';
import * as path from 'node:path';
import * as lockfile from 'proper-lockfile';
import { LockedError } from '../../log/errors';

/** Options of the writer lock. */
export interface WriterLockOptions {
  /** How long to wait for another process to release the lock (default 30 s: longer than `staleMs`). */
  timeoutMs?: number;
  /** Keep the lock this long after the last commit, so a busy writer does not pay for it each time (default 25 ms). */
  lingerMs?: number;
  /** Release at least this often while busy, so other processes get their turn (default 1 s). */
  maxHoldMs?: number;
  /** A lock whose holder has not refreshed it for this long is taken over (proper-lockfile `stale`, default 10 s). */
  staleMs?: number;
}

/**
 * The cross-process writer lock of a log directory: a proper-lockfile lock (`DIR/writer.lock`, an
 * atomic mkdir refreshed while held, which also works on network filesystems). Taking and dropping it
 * costs directory operations, so it is held as a lease: kept for `lingerMs` after the last commit, and
 * given up at least every `maxHoldMs` while busy.
 */
export class WriterLock {
  private release: (() => void) | undefined;
  private heldSince = 0;
  private verifiedAt = 0;
  private lingerTimer: NodeJS.Timeout | undefined;
  private compromised = false;
  private yieldUntil = 0;
  private lastUsed = 0;
  readonly file: string;
  private readonly timeoutMs: number;
  private readonly lingerMs: number;
  private readonly maxHoldMs: number;
  private readonly staleMs: number;

  constructor(readonly dir: string, options: WriterLockOptions = {}) {
    this.file = path.join(dir, 'writer.lock');
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.lingerMs = options.lingerMs ?? 25;
    this.maxHoldMs = options.maxHoldMs ?? 1000;
    this.staleMs = options.staleMs ?? 10_000;
  }

  /** Whether this process holds the lock now. */
  get held(): boolean {
    return this.release !== undefined && !this.compromised;
  }

  /**
   * Take the lock (or keep the lease). Resolves `fresh: true` when it was newly taken, so the caller knows
   * others may have written since. Fails with LOCKED after `timeoutMs`.
   */
  async acquire(): Promise<{ fresh: boolean }> {
    if (this.release && !this.compromised && this.stillOurs()) {
      this.lastUsed = Date.now() + this.timeoutMs;
      return { fresh: false };
    }
    this.drop();
    const deadline = Date.now() + this.timeoutMs;
    let wait = 1;
    if (this.yieldUntil > Date.now()) await sleep(this.yieldUntil - Date.now());
    for (;;) {
      try {
        this.release = lockfile.lockSync(this.dir, {
          lockfilePath: this.file,
          realpath: false,
          stale: this.staleMs,
          onCompromised: () => {
            this.compromised = true;
          },
        });
        this.compromised = false;
        this.heldSince = this.verifiedAt = Date.now();
        this.lastUsed = this.heldSince + this.timeoutMs;
        return { fresh: true };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') {
          throw new LockedError(`cannot take the writer lock ${this.file}: ${(error as Error).message}`, error);
        }
        if (Date.now() >= deadline) {
          throw new LockedError(`the log ${this.dir} is locked by another writer (${this.file}) for more than ${this.timeoutMs} ms`, error);
        }
        await sleep(wait);
        wait = Math.min(wait * 2, MAX_POLL_MS);
      }
    }
  }

  /** Try once, without waiting; true when the lock is now held. */
  tryAcquire(): boolean {
    if (this.held) return true;
    try {
      this.release = lockfile.lockSync(this.dir, {
        lockfilePath: this.file,
        realpath: false,
        stale: this.staleMs,
        onCompromised: () => {
          this.compromised = true;
        },
      });
      this.compromised = false;
      this.heldSince = this.verifiedAt = Date.now();
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ELOCKED') return false;
      throw new LockedError(`cannot take the writer lock ${this.file}: ${(error as Error).message}`, error);
    }
  }

  /** A commit is done: keep the lease for a while, or give it up when held for long. */
  done(): void {
    if (!this.release) return;
    const now = Date.now();
    if (now - this.heldSince >= this.maxHoldMs) {
      this.drop();
      this.yieldUntil = now + YIELD_MS;
      return;
    }
    this.lastUsed = now;
    if (!this.lingerTimer) this.armLinger(this.lingerMs);
  }

  /** One timer for the lease: when it fires early (the lock was used since), it waits out the rest. */
  private armLinger(ms: number): void {
    this.lingerTimer = setTimeout(() => {
      this.lingerTimer = undefined;
      const idle = Date.now() - this.lastUsed;
      if (idle < this.lingerMs) this.armLinger(this.lingerMs - idle);
      else this.drop();
    }, ms);
    this.lingerTimer.unref();
  }

  /** Release now. */
  drop(): void {
    if (this.lingerTimer) clearTimeout(this.lingerTimer);
    this.lingerTimer = undefined;
    const release = this.release;
    this.release = undefined;
    if (!release || this.compromised) return;
    try {
      release();
    } catch {
      // Already released or taken over: either way it is not ours any more.
    }
  }

  /** After a long pause the lease may have been taken over as stale: check the lock still carries our mtime. */
  private stillOurs(): boolean {
    const now = Date.now();
    if (now - this.verifiedAt < 1000) return true;
    const ours = heldLocks()?.[path.resolve(this.dir)];
    const stat = fs.statSync(this.file, { throwIfNoEntry: false });
    if (!stat || (ours && stat.mtime.getTime() !== ours.mtime.getTime())) {
      this.compromised = true;
      return false;
    }
    this.verifiedAt = now;
    return true;
  }
}

/** proper-lockfile's registry of the locks this process holds (internal to the package, so optional). */
function heldLocks(): Record<string, { mtime: Date }> | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (require('proper-lockfile/lib/lockfile') as { getLocks(): Record<string, { mtime: Date }> }).getLocks();
  } catch {
    return undefined;
  }
}

/** Longest pause between two tries of a waiting writer. */
const MAX_POLL_MS = 10;
/** After giving the lock up for fairness, wait this long (more than a waiter's pause) before taking it again. */
const YIELD_MS = 15;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
