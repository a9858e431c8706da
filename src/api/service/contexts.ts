import * as fs from 'node:fs';
import * as path from 'node:path';
import * as lockfile from 'proper-lockfile';
import { openTimeoutMs } from '../../log/busy-retry';
import { ClosedError, CorruptError, InvalidInputError, LockedError } from '../../log/errors';
import { makeDirs } from '../../log/make-dirs';
import { openStore, type OpenStoreOptions, type Store } from '../store';
import { parseStoreUrl } from '../store-url';

/** The context used when a request names none. */
export const DEFAULT_CONTEXT = 'default';

const CONTEXT_NAME = /^[a-z][a-z0-9_]{0,62}$/;

/** Where a context's store lives and where the list of contexts is kept, derived from the base URL. */
interface Layout {
  /** The store URL of a (non-default) context. */
  urlOf(name: string): string;
  /** The JSON file holding the context names, or undefined when they live in memory only. */
  registryFile?: string;
}

/**
 * Derive the layout of contexts from the base store URL. Each context is a store of its own next to the
 * base one, so objects, positions, projections and change feeds never mix:
 * `sqlite:./data/osis.db` → `sqlite:./data/osis.ctx-NAME.db` (names in `./data/osis.contexts.json`),
 * `file:DIR` → `file:DIR.ctx-NAME` (names in `DIR.contexts.json`), `memory:` → another memory store.
 */
export function contextLayout(baseUrl: string): Layout {
  const parsed = parseStoreUrl(baseUrl);
  switch (parsed.backend) {
    case 'memory':
      return { urlOf: () => 'memory:' };
    case 'sqlite': {
      if (parsed.path === ':memory:') return { urlOf: () => 'sqlite::memory:' };
      const { dir, name, ext } = path.parse(parsed.path);
      return {
        urlOf: (ctx) => `sqlite:${path.join(dir, `${name}.ctx-${ctx}${ext}`)}`,
        registryFile: path.join(dir, `${name}.contexts.json`),
      };
    }
    case 'file': {
      const dir = parsed.dir.replace(/[\\/]+$/, '') || parsed.dir;
      return { urlOf: (ctx) => `file:${dir}.ctx-${ctx}`, registryFile: `${dir}.contexts.json` };
    }
    default:
      return {
        urlOf: () => {
          throw new InvalidInputError(`contexts other than "${DEFAULT_CONTEXT}" are not available on the ${parsed.backend} backend yet`);
        },
      };
  }
}

/** Validate a context name (same rule as type names). */
export function assertContextName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !CONTEXT_NAME.test(name)) {
    throw new InvalidInputError(`invalid context name ${JSON.stringify(name)}: must match ${CONTEXT_NAME.source}`, { param: 'name' });
  }
}

/**
 * The set of contexts and their open stores. Names are data: kept in a small JSON file written by
 * temp file + fsync + rename under a lock, so a crash never leaves a torn list and two servers on the
 * same store never lose each other's contexts. Stores open on first use and stay open until `close()`.
 */
export class ContextRegistry {
  private readonly stores = new Map<string, Promise<Store>>();
  private names = new Set<string>();
  private closed = false;

  private constructor(
    private readonly baseUrl: string,
    private readonly options: OpenStoreOptions,
    private readonly layout: Layout,
  ) {}

  /** Open the default context's store (failing fast on a bad URL or a locked store) and read the context list. */
  static async open(baseUrl: string, options: OpenStoreOptions): Promise<ContextRegistry> {
    const registry = new ContextRegistry(baseUrl, options, contextLayout(baseUrl));
    registry.names = new Set(registry.readFile());
    const store = await openStore(baseUrl, options);
    registry.stores.set(DEFAULT_CONTEXT, Promise.resolve(store));
    return registry;
  }

  /** Every known context name, `default` first, then in name order. */
  list(): string[] {
    return [DEFAULT_CONTEXT, ...[...this.names].filter((n) => n !== DEFAULT_CONTEXT).sort()];
  }

  /** The open store of a context; an unknown name is INVALID_INPUT naming the known ones. */
  async store(name: string): Promise<Store> {
    const opened = this.stores.get(name);
    if (opened) return opened;
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

  /** Create a context (idempotent): its store is opened, then its name is recorded. */
  async create(name: unknown): Promise<{ name: string; created: boolean }> {
    assertContextName(name);
    if (name === DEFAULT_CONTEXT || this.names.has(name)) return { name, created: false };
    await this.openContext(name);
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
        current.add(name);
        writeAtomically(file, JSON.stringify({ version: 1, contexts: [...current].sort() }, null, 2) + '\n');
      }
      this.names = current;
      return { name, created };
    } finally {
      await release();
    }
  }

  /** The contexts whose stores are open, for metrics. */
  async openStores(): Promise<Array<[string, Store]>> {
    const result: Array<[string, Store]> = [];
    for (const [name, pending] of this.stores) {
      try {
        result.push([name, await pending]);
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

  private openContext(name: string): Promise<Store> {
    const existing = this.stores.get(name);
    if (existing) return existing;
    if (this.closed) throw new ClosedError();
    const url = this.layout.urlOf(name);
    if (url === this.baseUrl && url !== 'memory:' && url !== 'sqlite::memory:') {
      throw new InvalidInputError(`context ${name} would share the base store`);
    }
    const pending = openStore(url, this.options);
    this.stores.set(name, pending);
    pending.catch(() => this.stores.delete(name));
    return pending;
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

/** Write a file so that readers see the old or the new content, never a torn one, and it survives power loss. */
function writeAtomically(file: string, content: string): void {
  const temp = `${file}.tmp-${process.pid}-${Date.now()}`;
  const fd = fs.openSync(temp, 'w', 0o644);
  try {
    fs.writeSync(fd, content);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    fs.renameSync(temp, file);
  } catch (error) {
    fs.rmSync(temp, { force: true });
    throw error;
  }
  const dirFd = fs.openSync(path.dirname(file), 'r');
  try {
    fs.fsyncSync(dirFd);
  } finally {
    fs.closeSync(dirFd);
  }
}
