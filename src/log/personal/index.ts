import * as fs from 'node:fs';
import type Database from 'better-sqlite3';
import type { StoredEvent } from '../event';
import type { EventLog, UniqueSpec } from '../event-log';
import { MemoryKeyStore, type KeyStore } from './key-store';
import { PersonalEventLog } from './personal-log';
import { Shredder, type PersonalSpec } from './shredder';
import { SqliteKeyStore, hasKeyTable } from './sqlite-key-store';

export { PersonalEventLog, type PurgeHook } from './personal-log';
export { Shredder, type PersonalSpec } from './shredder';
export type { KeyStore } from './key-store';
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
  const declared = Object.values(spec).some((fields) => fields.length > 0);
  let keys: KeyStore;
  if (keysFile === undefined) {
    if (!declared) return undefined;
    keys = new MemoryKeyStore();
  } else {
    if (!declared && !(fs.existsSync(keysFile) && hasKeyTable(keysFile))) return undefined;
    keys = await SqliteKeyStore.open(keysFile, inStoreDatabase);
  }
  return new Shredder(keys, keys.personalFields(spec));
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
  const shredder = await openShredder(spec, keysFile, inStoreDatabase);
  let inner: L;
  try {
    inner = await open({ unique: (declared) => uniqueFor(declared, shredder), secureDelete: shredder !== undefined });
  } catch (error) {
    shredder?.keys.close();
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
  if (!(log instanceof PersonalEventLog)) return;
  log.onErased(async (type) => {
    await purgeType(type);
    truncateWal(db);
    log.shredder.keys.checkpoint();
  });
  await log.finishPending();
}
