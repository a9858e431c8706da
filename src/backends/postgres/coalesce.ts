/**
 * Runs an expensive idempotent job (a purge) so that calls arriving while it runs share one next run:
 * every call resolves after a run that started after the call, and at most one run waits behind the
 * current one. N erasures at once cost two rewrites, not N.
 */
export class Coalescer {
  private running: Promise<void> | undefined;
  private next: Promise<void> | undefined;

  constructor(private readonly work: () => Promise<void>) {}

  /** A run that starts after this call (the current one if none is running; else the shared next one). */
  run(): Promise<void> {
    if (!this.running) {
      const run = this.work().finally(() => {
        if (this.running === run) this.running = undefined;
      });
      this.running = run;
      return run;
    }
    this.next ??= this.running
      .catch(() => undefined)
      .then(() => {
        this.next = undefined;
        return this.run();
      });
    return this.next;
  }
}
