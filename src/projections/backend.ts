import { InvalidInputError } from '../log/errors';
import type { Durability, EventLog } from '../log/event-log';
import type { KeyStore } from '../log/personal';
import type { StoreSchema } from './config';
import type { ProjectionStore } from './projection-store';

/** What a backend can do, declared as data: the api picks its behaviour from these, never from a name. */
export interface BackendAbilities {
  /**
   * When appended events reach the projection store:
   * - `'in-append'`: inside the log's append transaction; a projection error rejects the append, and
   *   a reader in any process sees the event and its projection together (sqlite).
   * - `'after-append'`: after the append commits; a projection error never un-acknowledges the append,
   *   the projections stay behind and are caught up before the next read (memory: the api applies them
   *   with `catchUp`; file: the log's indexer applies them in the sidecar transaction that indexes the
   *   append, so the store must not).
   */
  projections: 'in-append' | 'after-append';
  /** With `'after-append'`: the backend applies projections itself (the api must not call `catchUp`). */
  appliesProjections: boolean;
  /**
   * Other processes or hosts may append without this process's projection store seeing it in the same
   * transaction: before a read the api compares the log head with the projection checkpoint.
   */
  sharedLog: boolean;
  /** Data survives closing and reopening the URL. */
  persistent: boolean;
}

/** A backend's log and projection store, opened and wired together for one store URL. */
export interface OpenedBackend {
  log: EventLog;
  projections: ProjectionStore;
  abilities: BackendAbilities;
  /** Close the projection store, then the log. */
  close(): Promise<void>;
  /** The key store, when the store holds personal data (see `src/log/personal/`). */
  keys?: KeyStore;
  /** The personal fields the log seals, per type (the schema's and those declared before); absent without personal data. */
  personal?: Readonly<Record<string, readonly string[]>>;
  /** Every file and directory that holds the store's bytes (log, projections, keys); none in memory. */
  files(): string[];
  /** Where the store's bytes are that `files()` cannot name (a database server), as a sentence for `verify --erased`. */
  unscanned?: string;
}

/** Options every backend's `open` takes. */
export interface BackendOpenOptions {
  schema: StoreSchema;
  durability: Durability;
  /**
   * Where the data keys live instead of the store's default place (the `keys` option, `--keys`): a SQLite
   * file path, or on a `postgres://` store a `postgres://` URL.
   */
  keys?: string;
}

/**
 * Where the service keeps a context (a tenant) of a store: each context is a store of its own, named by
 * URL, and (for backends that keep files) removed with its files.
 */
export interface ContextLayout {
  /** The store URL of context `name`. */
  urlOf(name: string): string;
  /** The files and directories that hold context `name` (removed with it). */
  filesOf(name: string): string[];
  /** Where the registry of context names lives; absent when contexts are not persistent. */
  registryFile?: string;
}

/**
 * One backend, as its folder exports it (in the style of kysely's `DialectAdapter`): the api looks a
 * backend up by the scheme of a store URL, so a new backend is one new folder and one registry line.
 */
export interface Backend {
  /** 'memory', 'sqlite', 'file', 'postgres'. */
  readonly name: string;
  /** URL prefixes it answers, e.g. `['sqlite:']`. */
  readonly schemes: readonly string[];
  /** An example URL, for messages. */
  readonly example: string;
  /** Check a URL of this backend and return the location it names; INVALID_INPUT when malformed. */
  parse(url: string): string;
  /** Open (creating when absent) the store at `url`, with its projections level with the log. */
  open(url: string, options: BackendOpenOptions): Promise<OpenedBackend>;
  /** How contexts of the store at `url` are laid out. */
  contexts(url: string): ContextLayout;
}

/**
 * The path a `scheme:PATH` store URL names (`scheme:///abs` and `scheme:/abs` are both absolute);
 * INVALID_INPUT when the URL has another scheme, no path, or a NUL byte. `needs` and `example` word the error.
 */
export function urlPath(url: string, scheme: string, needs: string, example: string): string {
  if (!url.startsWith(scheme)) throw new InvalidInputError(`store URL ${JSON.stringify(url)} is not a ${scheme} URL`);
  const location = url.slice(scheme.length).replace(/^\/\/(?=\/)/, '');
  if (!location) throw new InvalidInputError(`store URL ${url}: ${scheme} needs ${needs}, as in ${example}`);
  if (location.includes('\0')) throw new InvalidInputError('store URL contains a NUL byte');
  return location;
}

/**
 * Finish opening a backend around its open `log`: when `wire` (opening and wiring the projection store)
 * fails, the log is closed before the error goes on, so a failed open leaves nothing open.
 */
export async function closingOnError<L extends { close(): Promise<void> }>(log: L, wire: () => Promise<OpenedBackend>): Promise<OpenedBackend> {
  try {
    return await wire();
  } catch (error) {
    await log.close();
    throw error;
  }
}
