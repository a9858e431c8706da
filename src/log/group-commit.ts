/** One queued request and the callbacks that settle it. */
interface Pending<Req, Res> {
  request: Req;
  resolve: (value: Res) => void;
  reject: (error: unknown) => void;
}

/** Each request's outcome in a batch: a value, or the error that rejected it alone. */
export type Outcome<Res> = { ok: true; value: Res } | { ok: false; error: unknown };

/**
 * Group commit: requests submitted in the same turn of the event loop are handed to `commit` together,
 * so one physical commit (one fsync) acknowledges all of them. `commit` settles each request on its own:
 * one failing request must not fail the others. If `commit` itself throws, every request in the batch
 * is rejected with that error.
 */
export class GroupCommitter<Req, Res> {
  private queue: Pending<Req, Res>[] = [];
  private scheduled = false;
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly commit: (requests: Req[]) => Promise<Outcome<Res>[]> | Outcome<Res>[],
    private readonly maxBatch = 10_000,
  ) {}

  submit(request: Req): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      this.queue.push({ request, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.drain());
      }
    });
  }

  /** Resolves once everything submitted so far has been settled. */
  async idle(): Promise<void> {
    while (this.scheduled || this.queue.length > 0) {
      await new Promise((r) => setImmediate(r));
      await this.running;
    }
    await this.running;
  }

  private drain(): void {
    this.running = this.running.then(async () => {
      this.scheduled = false;
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.maxBatch);
        let outcomes: Outcome<Res>[];
        try {
          outcomes = await this.commit(batch.map((p) => p.request));
        } catch (error) {
          for (const p of batch) p.reject(error);
          continue;
        }
        batch.forEach((p, i) => {
          const outcome = outcomes[i];
          if (outcome.ok) p.resolve(outcome.value);
          else p.reject(outcome.error);
        });
      }
    });
  }
}
