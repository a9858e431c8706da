import * as fs from 'node:fs';
import type Database from 'better-sqlite3';
import type { StoredEvent } from '../event';
import type { EventLog, UniqueSpec } from '../event-log';
import { MemoryKeyStore, type KeyStore } from './key-store';
import { InvalidInputError } from '../errors';
import { PersonalEventLog, type PurgeHook } from './personal-log';
import { Shredder, type PersonalSpec } from './shredder';
import { SqliteKeyStore, hasKeyTable } from './sqlite-key-store';

export { PersonalEventLog, type PurgeHook } from './personal-log';
export { Shredder, type PersonalSpec } from './shredder';
export { mergePersonal, newDataKeys, type KeyStore, type DataKey, type ErasedValue, type Erasure, type PendingErasure } from './key-store';
export { scanForErased, type ErasedScanReport } from './erased-scan';

/**
 * Open the key store of a store, or nothing when the store has no personal data: no personal field in
 * the schema and no key table at `keysFile` (then nothing is wrapped and nothing costs anything). The
 * fields sealed are the schema's merged with every personal field declared before (see
 * `KeyStore.personalFields`): a field once declared personal stays sealed.
 * `keysFile` undefined keeps keys in memory (the `memory:` backend and `sqlite::memory:`);
 * `inStoreDatabase`: `keysFile` is the store's own SQLite database (see `SqliteKeyStore.open`).
 */
export async function openShredder(spec: PersonalSpec, keysFile: string | undefined, inStoreDatabase = false): Promise<Shredder | undefined> {
  if (keysFile !== undefined && /^postgres(ql)?:\/\//i.test(keysFile)) {
    throw new InvalidInputError('keys: a PostgreSQL key store (postgres://…) serves postgres:// stores only; give this store a SQLite file for its keys');
  }
  let keys: KeyStore;
  if (keysFile === undefined) {
    if (!declaresPersonal(spec)) return undefined;
    keys = new MemoryKeyStore();
  } else {
    if (!declaresPersonal(spec) && !(fs.existsSync(keysFile) && hasKeyTable(keysFile))) return undefined;
    keys = await SqliteKeyStore.open(keysFile, inStoreDatabase);
  }
  return shredderFor(keys, spec);
}

/** True when the spec declares at least one personal field. */
export function declaresPersonal(spec: PersonalSpec): boolean {
  return Object.values(spec).some((fields) => fields.length > 0);
}

/**
 * The shredder over an open key store: the fields sealed are `spec`'s merged with those declared before
 * (saved in the key store), and the erasures are loaded. The key store is closed when that fails.
 */
export async function shredderFor(keys: KeyStore, spec: PersonalSpec): Promise<Shredder> {
  try {
    const shredder = new Shredder(keys, await keys.personalFields(spec));
    await shredder.refresh();
    return shredder;
  } catch (error) {
    await keys.close().catch(() => undefined);
    throw error;
  }
}

/** The unique spec a log should enforce: claims on plaintext when personal fields are sealed. */
export function uniqueFor(unique: UniqueSpec, shredder: Shredder | undefined): UniqueSpec {
  return shredder ? shredder.revealing(unique) : unique;
}

/** The log the store uses: `inner` decorated with sealing and shredding, or `inner` itself. */
export function personalLog<L extends EventLog>(inner: L, shredder: Shredder | undefined): EventLog {
  return shredder ? new PersonalEventLog(inner, shredder) : inner;
}

/** Truncate a WAL-mode database's write-ahead log (its frames may hold deleted plaintext). */
export function truncateWal(db: Database.Database): void {
  if (db.name && db.name !== ':memory:') db.pragma('wal_checkpoint(TRUNCATE)');
}

/** What `openPersonalLog` opened: the backend's own log, the log the store uses, and the shredder if any. */
export interface PersonalOpening<L extends EventLog> {
  inner: L;
  log: EventLog;
  shredder: Shredder | undefined;
}

/**
 * Open a backend's log under crypto-shredding: the key store first (`openShredder`), then the log through
 * `open`, which gets the unique spec to enforce (claims on plaintext) and whether to zero deleted content
 * from the start; the key store is closed again when the log cannot open.
 */
export async function openPersonalLog<L extends EventLog>(
  spec: PersonalSpec,
  keysFile: string | undefined,
  inStoreDatabase: boolean,
  open: (options: { unique: (declared: UniqueSpec) => UniqueSpec; secureDelete: boolean }) => Promise<L>,
): Promise<PersonalOpening<L>> {
  return openPersonalLogWith(await openShredder(spec, keysFile, inStoreDatabase), open);
}

/** `openPersonalLog` with the shredder already open (a backend with its own key store); it is closed when the log cannot open. */
export async function openPersonalLogWith<L extends EventLog>(
  shredder: Shredder | undefined,
  open: (options: { unique: (declared: UniqueSpec) => UniqueSpec; secureDelete: boolean }) => Promise<L>,
): Promise<PersonalOpening<L>> {
  let inner: L;
  try {
    inner = await open({ unique: (declared) => uniqueFor(declared, shredder), secureDelete: shredder !== undefined });
  } catch (error) {
    await shredder?.keys.close().catch(() => undefined);
    throw error;
  }
  return { inner, log: personalLog(inner, shredder), shredder };
}

/** A projection hook that gets opened events (the backend's log hands it sealed ones). */
export function revealingHook(shredder: Shredder | undefined, apply: (events: StoredEvent[]) => void): (events: StoredEvent[]) => void {
  return shredder ? (events) => apply(shredder.revealEvents(events)) : apply;
}

/**
 * Once the projections are level: register the purge of every erasure (the type's full-text merge by
 * `purgeType`, then the WAL of `db` and of the key store truncated) and finish erasures a crash
 * interrupted. Nothing for a log without personal data.
 */
export async function finishPersonalOpen(log: EventLog, db: Database.Database, purgeType: (type: string) => Promise<void>): Promise<void> {
  await finishErasures(log, async (type) => {
    await purgeType(type);
    truncateWal(db);
    if (log instanceof PersonalEventLog) await log.shredder.keys.checkpoint();
  });
}

/**
 * Once the projections are level: register `purge` (run after every erasure) and finish erasures a
 * crash interrupted. Nothing for a log without personal data.
 */
export async function finishErasures(log: EventLog, purge: PurgeHook): Promise<void> {
  if (!(log instanceof PersonalEventLog)) return;
  log.onErased(purge);
  await log.finishPending();
}
