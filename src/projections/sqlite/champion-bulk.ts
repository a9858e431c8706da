import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { ChampionBuilder, TRACKED_DF, type TermLists } from './champion-builder';

/** From this many objects a rebuild collects its champion lists on a worker thread, beside its table writes. */
export const WORKER_FROM_OBJECTS = 20_000;
/** Postings handed to the worker per message. */
const BATCH = 2_000;

/** Every type's lists of the terms in at least TRACKED_DF of its objects. */
export type BulkLists = Map<string, TermLists>;

/**
 * Champion lists collected while a rebuild indexes its objects in id order (see `ChampionBuilder`): each
 * indexed body is added, and `finish` gives the lists to write once every object is in.
 */
export interface BulkChampions {
  add(type: string, id: number, body: string): void;
  /** The lists of everything added. */
  finish(): Promise<BulkLists>;
  /** Stop collecting and free what was collected (a rebuild that failed); idempotent. */
  dispose(): void;
}

/**
 * A collector for a rebuild of `objects` objects. Tokenising every body and keeping the best postings
 * per term costs about a quarter of a rebuild's CPU, so a big rebuild does it on a worker thread while
 * the main thread writes the tables; a small one (an `at` read's snapshot) does it in line.
 */
export function bulkChampions(objects: number): BulkChampions {
  return objects >= WORKER_FROM_OBJECTS ? new WorkerChampions() : new InlineChampions();
}

class InlineChampions implements BulkChampions {
  private builder = new ChampionBuilder();

  add(type: string, id: number, body: string): void {
    this.builder.add(type, id, body);
  }

  async finish(): Promise<BulkLists> {
    return listsOf(this.builder);
  }

  dispose(): void {
    this.builder = new ChampionBuilder();
  }
}

/** The lists a builder collected, per type. */
export function listsOf(builder: ChampionBuilder): BulkLists {
  return new Map(builder.types().map((type) => [type, builder.termLists(type, TRACKED_DF)]));
}

/** Messages to the worker: postings (type, id, body per index), or the request for the lists. */
export type ToWorker = { types: string[]; ids: number[]; bodies: string[] } | { finish: true };

class WorkerChampions implements BulkChampions {
  private readonly worker = spawnWorker();
  private readonly result: Promise<BulkLists>;
  private batch: { types: string[]; ids: number[]; bodies: string[] } = { types: [], ids: [], bodies: [] };
  private done = false;

  constructor() {
    // The worker never keeps the process alive: a rebuild that is abandoned must not hang its exit.
    this.worker.unref();
    this.result = new Promise<BulkLists>((resolve, reject) => {
      this.worker.once('message', (lists: BulkLists) => resolve(lists));
      this.worker.once('error', reject);
      this.worker.once('exit', (code) => reject(new Error(`the champion list worker exited (code ${code}) before it answered`)));
    });
    this.result.catch(() => undefined);
  }

  add(type: string, id: number, body: string): void {
    this.batch.types.push(type);
    this.batch.ids.push(id);
    this.batch.bodies.push(body);
    if (this.batch.ids.length >= BATCH) this.flush();
  }

  private flush(): void {
    if (this.batch.ids.length === 0) return;
    this.worker.postMessage(this.batch satisfies ToWorker);
    this.batch = { types: [], ids: [], bodies: [] };
  }

  async finish(): Promise<BulkLists> {
    this.flush();
    this.worker.postMessage({ finish: true } satisfies ToWorker);
    try {
      return await this.result;
    } finally {
      this.dispose();
    }
  }

  dispose(): void {
    if (this.done) return;
    this.done = true;
    void this.worker.terminate();
  }
}

/** The worker runs the compiled module, or, under ts-node (tests), the TypeScript source through ts-node. */
function spawnWorker(): Worker {
  const file = path.join(__dirname, `champion-build-worker${path.extname(__filename)}`);
  if (file.endsWith('.ts')) {
    return new Worker(`require('ts-node').register({ transpileOnly: true }); require(${JSON.stringify(file)});`, { eval: true });
  }
  return new Worker(file);
}
