import * as fs from 'node:fs';
import * as path from 'node:path';
import * as lockfile from 'proper-lockfile';
import { openTimeoutMs } from '../../log/busy-retry';
import { ClosedError, CorruptError, InvalidInputError, LockedError } from '../../log/errors';
import { makeDirs } from '../../log/make-dirs';
import { writeFileAtomically } from '../../log/atomic-file';
import { openStore, type OpenStoreOptions, type Store } from '../library/store';
import { contextLayoutOf, type ContextLayout } from '../library/store-url';
import { ServiceError } from './errors';

/** The context used when a request names none. */
export const DEFAULT_CONTEXT = 'default';

const CONTEXT_NAME = /^[a-z][a-z0-9_]{0,62}$/;

/**
 * Derive the layout of contexts from the base store URL (the backend's own `contexts`). Each context is
 * a store of its own next to the base one, so objects, positions, projections and change feeds never mix:
 * `sqlite:./data/osis.db` → `sqlite:./data/osis.ctx-NAME.db` (names in `./data/osis.contexts.json`),
 * `file:DIR` → `file:DIR.ctx-NAME` (names in `DIR.contexts.json`), `memory:` → another memory store.
 */
export function contextLayout(baseUrl: string): ContextLayout {
  return contextLayoutOf(baseUrl);
}

/** Validate a context name (same rule as type names). */
export function assertContextName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !CONTEXT_NAME.test(name)) {
    throw new InvalidInputError(`invalid context name ${JSON.stringify(name)}: must match ${CONTEXT_NAME.source}`, { param: 'name' });
  }
}

/** Limits of a context registry. */
export interface ContextLimits {
  /** Most contexts that may exist, `default` included (default 1,000); context_create past it is refused. */
  maxContexts: number;
  /** Most context stores open at once (default 64): the least recently used idle one is closed past it. */
  maxOpen: number;
}

export const DEFAULT_CONTEXT_LIMITS: ContextLimits = { maxContexts: 1000, maxOpen: 64 };

interface OpenEntry {
  pending: Promise<Store>;
  /** Calls and event streams using the store now: it is not closed while any is. */
  pins: number;
}

/**
 * The set of contexts and their open stores. Names are data: kept in a small JSON file written by
 * temp file + fsync + rename under a lock, so a crash never leaves a torn list and two servers on the
 * same store never lose each other's contexts. Stores open on first use; past `maxOpen`, the least
 * recently used one that nothing is using is closed (it opens again on its next use).
 */
export class ContextRegistry {
  /** Open stores, least recently used first. */
  private readonly stores = new Map<string, OpenEntry>();
  private names = new Set<string>();
  private closed = false;

  private constructor(
    private readonly baseUrl: string,
    private readonly options: OpenStoreOptions,
    private readonly layout: ContextLayout,
    private readonly limits: ContextLimits,
  ) {}

  /** Open the default context's store (failing fast on a bad URL or a locked store) and read the context list. */
  static async open(baseUrl: string, options: OpenStoreOptions, limits: ContextLimits = DEFAULT_CONTEXT_LIMITS): Promise<ContextRegistry> {
    for (const key of ['maxContexts', 'maxOpen'] as const) {
      if (!Number.isInteger(limits[key]) || limits[key] < 1) throw new InvalidInputError(`${key} must be a positive integer`);
    }
    const registry = new ContextRegistry(baseUrl, options, contextLayout(baseUrl), limits);
    registry.names = new Set(registry.readFile());
    const store = await openStore(baseUrl, options);
    registry.stores.set(DEFAULT_CONTEXT, { pending: Promise.resolve(store), pins: 0 });
    return registry;
  }

  /** Every known context name, `default` first, then in name order. */
  list(): string[] {
    return [DEFAULT_CONTEXT, ...[...this.names].filter((n) => n !== DEFAULT_CONTEXT).sort()];
  }

  /** How many context stores are open now (for tests and metrics). */
  get openCount(): number {
    return this.stores.size;
  }

  /**
   * The open store of a context; an unknown name is INVALID_INPUT naming the known ones. The store may
   * be closed later to make room: hold it with `using` for as long as it is used.
   */
  async store(name: string): Promise<Store> {
    const entry = this.entry(name) ?? (await this.openKnown(name));
    return entry.pending;
  }

  /** Run `fn` with a context's store, which is not closed to make room until `fn` settles. */
  async using<T>(name: string, fn: (store: Store) => Promise<T>): Promise<T> {
    const release = await this.pin(name);
    try {
      return await fn(await this.store(name));
    } finally {
      release();
    }
  }

  /** Keep a context's store open until the returned function is called (an event stream's lifetime). */
  async pin(name: string): Promise<() => void> {
    const entry = this.entry(name) ?? (await this.openKnown(name));
    entry.pins++;
    await entry.pending.catch(() => undefined);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      entry.pins--;
      this.evict();
    };
  }

  /**
   * Create a context (idempotent): its store is opened, then its name is recorded. Past `maxContexts`
   * it is refused; when creation fails, the files it made are removed and the name is not recorded.
   */
  async create(name: unknown): Promise<{ name: string; created: boolean }> {
    assertContextName(name);
    if (name === DEFAULT_CONTEXT || this.names.has(name)) return { name, created: false };
    this.names = new Set(this.readFile());
    if (this.names.has(name)) return { name, created: false };
    this.checkRoom(this.names);
    const fresh = this.layout.filesOf(name).filter((f) => !fs.existsSync(f));
    try {
      await this.openContext(name).pending;
      return await this.record(name);
    } catch (error) {
      await this.drop(name);
      for (const file of fresh) fs.rmSync(file, { recursive: true, force: true });
      throw error;
    }
  }

  /** The contexts whose stores are open, for metrics. */
  async openStores(): Promise<Array<[string, Store]>> {
    const result: Array<[string, Store]> = [];
    for (const [name, entry] of this.stores) {
      try {
        result.push([name, await entry.pending]);
      } catch {
        // a store that failed to open is reported by the request that opened it
      }
    }
    return result;
  }

  /** Close every open store. */
  async close(): Promise<void> {
    this.closed = true;
    const stores = await this.openStores();
    this.stores.clear();
    await Promise.all(stores.map(([, store]) => store.close()));
  }

  /** The entry of an open store, moved to the most recently used end. */
  private entry(name: string): OpenEntry | undefined {
    const entry = this.stores.get(name);
    if (entry && name !== DEFAULT_CONTEXT) {
      this.stores.delete(name);
      this.stores.set(name, entry);
    }
    return entry;
  }

  private async openKnown(name: string): Promise<OpenEntry> {
    assertContextName(name);
    if (!this.names.has(name)) {
      this.names = new Set(this.readFile());
      if (!this.names.has(name)) {
        throw new InvalidInputError(`unknown context ${JSON.stringify(name)}: create it with context_create`, {
          field: 'X-Hero-Context',
          context: name,
          known: this.list(),
        });
      }
    }
    return this.openContext(name);
  }

  private openContext(name: string): OpenEntry {
    const existing = this.stores.get(name);
    if (existing) return existing;
    if (this.closed) throw new ClosedError();
    const url = this.layout.urlOf(name);
    if (url === this.baseUrl && url !== 'memory:' && url !== 'sqlite::memory:') {
      throw new InvalidInputError(`context ${name} would share the base store`);
    }
    const entry: OpenEntry = { pending: openStore(url, this.options), pins: 0 };
    this.stores.set(name, entry);
    entry.pending.then(
      () => this.evict(),
      () => {
        if (this.stores.get(name) === entry) this.stores.delete(name);
      },
    );
    return entry;
  }

  /** Close least recently used stores that nothing uses until at most `maxOpen` are open. */
  private evict(): void {
    if (this.stores.size <= this.limits.maxOpen) return;
    for (const [name, entry] of this.stores) {
      if (this.stores.size <= this.limits.maxOpen) return;
      if (name === DEFAULT_CONTEXT || entry.pins > 0) continue;
      this.stores.delete(name);
      entry.pending.then((store) => store.close()).catch(() => undefined);
    }
  }

  /** Forget and close a context's store (a failed creation). */
  private async drop(name: string): Promise<void> {
    const entry = this.stores.get(name);
    if (!entry) return;
    this.stores.delete(name);
    await entry.pending.then((store) => store.close()).catch(() => undefined);
  }

  private checkRoom(names: Set<string>): void {
    const count = 1 + [...names].filter((n) => n !== DEFAULT_CONTEXT).length;
    if (count >= this.limits.maxContexts) {
      throw new ServiceError('TOO_LARGE', `at most ${this.limits.maxContexts} contexts may exist (default included); this server has ${count}`, {
        limit: 'contexts',
        max: this.limits.maxContexts,
      });
    }
  }

  /** Record a new context's name in the registry file (under its lock). */
  private async record(name: string): Promise<{ name: string; created: boolean }> {
    const file = this.layout.registryFile;
    if (!file) {
      const created = !this.names.has(name);
      this.names.add(name);
      return { name, created };
    }
    makeDirs(path.dirname(file), 'the context registry');
    const release = await lockRegistry(file);
    try {
      const current = new Set(this.readFile());
      const created = !current.has(name);
      if (created) {
        this.checkRoom(current);
        current.add(name);
        writeFileAtomically(file, JSON.stringify({ version: 1, contexts: [...current].sort() }, null, 2) + '\n');
      }
      this.names = current;
      return { name, created };
    } finally {
      await release();
    }
  }

  private readFile(): string[] {
    const file = this.layout.registryFile;
    if (!file) return [...this.names];
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new CorruptError(`context registry ${file} is not valid JSON`, { details: { file } });
    }
    const contexts = (parsed as { contexts?: unknown } | null)?.contexts;
    if (!Array.isArray(contexts) || !contexts.every((n) => typeof n === 'string' && CONTEXT_NAME.test(n))) {
      throw new CorruptError(`context registry ${file} must hold {"contexts": [names…]}`, { details: { file } });
    }
    return contexts as string[];
  }
}

/** Take the registry's lock, waiting as long as a store open waits for other processes (`openTimeoutMs`). */
async function lockRegistry(file: string): Promise<() => Promise<void>> {
  const waitMs = openTimeoutMs();
  try {
    return await lockfile.lock(file, { realpath: false, retries: { retries: Math.ceil(waitMs / 50), minTimeout: 5, maxTimeout: 50, factor: 1.5 }, stale: 10_000 });
  } catch (error) {
    if ((error as { code?: string }).code === 'ELOCKED') {
      throw new LockedError(`context registry ${file} is locked by another process: still busy after ${waitMs / 1000} s`, error);
    }
    throw error;
  }
}
