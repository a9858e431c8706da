import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { retryOpening } from '../busy-retry';
import { UnavailableError } from '../errors';
import { makeDirs } from '../make-dirs';
import { mergePersonal, newDataKeys, type DataKey, type ErasedValue, type Erasure, type KeyStore, type PendingErasure } from './key-store';

const KEY_SCHEMA = `
CREATE TABLE IF NOT EXISTS osis_keys (id TEXT PRIMARY KEY, key BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS osis_key_meta (name TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS osis_erasing (
  type TEXT NOT NULL, sid TEXT NOT NULL, stage TEXT NOT NULL CHECK (stage IN ('keys', 'purge')), PRIMARY KEY (type, sid)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS osis_erased (
  type TEXT NOT NULL, sid TEXT NOT NULL, position INTEGER NOT NULL, PRIMARY KEY (type, sid, position)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS osis_erased_values (
  type TEXT NOT NULL, sid TEXT NOT NULL, len INTEGER NOT NULL, rolling INTEGER NOT NULL, mac TEXT NOT NULL,
  PRIMARY KEY (type, sid, len, mac)
) WITHOUT ROWID;
`;

/** Busy timeout of the key connection: key writes are rare (a batch of keys, an erasure). */
const BUSY_TIMEOUT_MS = 10_000;

/** True when `file` is a SQLite database that already holds a key table (opened read-only, then closed). */
export function hasKeyTable(file: string): boolean {
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'osis_keys'").get() !== undefined;
  } catch {
    return false;
  } finally {
    db?.close();
  }
}

/**
 * Keys in a SQLite database: the store's own database (`sqlite:` backend), `DIR/keys.db` (`file:`), or
 * a separate file named by `--keys` / the `keys` option, so log backups need not carry keys. Its own
 * connection, WAL with `synchronous=FULL` (a key is fsynced before an event sealed with it is appended)
 * and `secure_delete=ON` (a destroyed key's bytes are zeroed in the database pages).
 */
export class SqliteKeyStore implements KeyStore {
  readonly preloads = false;
  private readonly s;
  private readonly cache = new Map<string, Buffer>();
  private cachedEpoch = -1;

  private constructor(private readonly db: Database.Database, readonly location: string) {
    this.s = {
      key: db.prepare('SELECT key FROM osis_keys WHERE id = ?').pluck(),
      insertKey: db.prepare('INSERT INTO osis_keys (id, key) VALUES (?, ?)'),
      deleteKey: db.prepare('DELETE FROM osis_keys WHERE id = ?'),
      meta: db.prepare('SELECT value FROM osis_key_meta WHERE name = ?').pluck(),
      setMeta: db.prepare('INSERT INTO osis_key_meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value'),
      addMeta: db.prepare('INSERT OR IGNORE INTO osis_key_meta (name, value) VALUES (?, ?)'),
      begin: db.prepare("INSERT OR IGNORE INTO osis_erasing (type, sid, stage) VALUES (?, ?, 'keys')"),
      cancel: db.prepare("DELETE FROM osis_erasing WHERE type = ? AND sid = ? AND stage = 'keys'"),
      toPurge: db.prepare("INSERT INTO osis_erasing (type, sid, stage) VALUES (?, ?, 'purge') ON CONFLICT (type, sid) DO UPDATE SET stage = 'purge'"),
      purged: db.prepare('DELETE FROM osis_erasing WHERE type = ? AND sid = ?'),
      pending: db.prepare('SELECT type, sid, stage FROM osis_erasing'),
      erased: db.prepare('INSERT OR IGNORE INTO osis_erased (type, sid, position) VALUES (?, ?, ?)'),
      erasures: db.prepare('SELECT type, sid, max(position) AS position FROM osis_erased GROUP BY type, sid'),
      value: db.prepare('INSERT OR IGNORE INTO osis_erased_values (type, sid, len, rolling, mac) VALUES (?, ?, ?, ?, ?)'),
      values: db.prepare('SELECT type, sid, len, rolling, mac FROM osis_erased_values'),
    };
  }

  /**
   * Open (creating when absent) the key tables in `file`. `inStoreDatabase`: the file is the store's own
   * WAL database, whose log commits after (and fsyncs with) any key it uses: keys then commit with
   * `synchronous=NORMAL`, because WAL frames reach the disk in order, so no crash can keep an event and
   * lose its key. A separate key file is `synchronous=FULL`: each key batch is fsynced before use.
   */
  static async open(file: string, inStoreDatabase = false): Promise<SqliteKeyStore> {
    makeDirs(path.dirname(path.resolve(file)), `the key store ${file}`);
    let db: Database.Database;
    try {
      db = new Database(file);
    } catch (error) {
      throw new UnavailableError(`cannot open the key store ${file}: ${(error as Error).message}`, error);
    }
    try {
      db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
      await retryOpening(file, () => db.pragma('journal_mode = WAL'));
      db.pragma(`synchronous = ${inStoreDatabase ? 'NORMAL' : 'FULL'}`);
      db.pragma('secure_delete = ON');
      await retryOpening(file, () => db.transaction(() => db.exec(KEY_SCHEMA)).immediate());
      return new SqliteKeyStore(db, file);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  key(id: string): Buffer | undefined {
    const cached = this.cache.get(id);
    if (cached) return cached;
    const key = this.s.key.get(id) as Buffer | undefined;
    if (key) this.cache.set(id, key);
    return key;
  }

  async createKeys(count: number): Promise<DataKey[]> {
    const created = newDataKeys(count);
    this.db.transaction(() => {
      for (const k of created) this.s.insertKey.run(k.id, k.key);
    }).immediate();
    for (const k of created) this.cache.set(k.id, k.key);
    return created;
  }

  /** Changes when any connection destroys keys; the key cache is dropped then. */
  async epoch(): Promise<number> {
    const value = this.s.meta.get('epoch') as Buffer | undefined;
    const epoch = value ? value.readUInt32BE(0) : 0;
    if (epoch !== this.cachedEpoch) {
      this.cache.clear();
      this.cachedEpoch = epoch;
    }
    return epoch;
  }

  async beginErasure(type: string, sid: string): Promise<void> {
    this.s.begin.run(type, sid);
  }

  async cancelErasure(type: string, sid: string): Promise<void> {
    this.s.cancel.run(type, sid);
  }

  async pendingErasures(): Promise<PendingErasure[]> {
    return this.s.pending.all() as PendingErasure[];
  }

  async purged(type: string, sid: string): Promise<void> {
    this.s.purged.run(type, sid);
  }

  async finishErasure(erasure: Erasure): Promise<void> {
    this.db.transaction(() => {
      for (const id of erasure.keyIds) this.s.deleteKey.run(id);
      for (const v of erasure.values) this.s.value.run(v.type, v.sid, v.len, v.rolling, v.mac);
      this.s.erased.run(erasure.type, erasure.sid, erasure.position);
      this.s.toPurge.run(erasure.type, erasure.sid);
      const before = this.s.meta.get('epoch') as Buffer | undefined;
      const next = Buffer.alloc(4);
      next.writeUInt32BE(((before ? before.readUInt32BE(0) : 0) + 1) >>> 0);
      this.s.setMeta.run('epoch', next);
    }).immediate();
    for (const id of erasure.keyIds) this.cache.delete(id);
  }

  async erasures(): Promise<Map<string, number>> {
    const rows = this.s.erasures.all() as { type: string; sid: string; position: number }[];
    return new Map(rows.map((r) => [`${r.type}\0${r.sid}`, r.position]));
  }

  async personalFields(declared: Readonly<Record<string, readonly string[]>>): Promise<Record<string, readonly string[]>> {
    return this.db
      .transaction(() => {
        const saved = this.s.meta.get('personal') as Buffer | undefined;
        const before = saved ? (JSON.parse(saved.toString('utf8')) as Record<string, string[]>) : {};
        const merged = mergePersonal(before, declared);
        const text = JSON.stringify(merged);
        if (!saved || saved.toString('utf8') !== text) this.s.setMeta.run('personal', Buffer.from(text, 'utf8'));
        return merged;
      })
      .immediate();
  }

  async verificationKey(): Promise<Buffer> {
    let key = this.s.meta.get('verification') as Buffer | undefined;
    if (!key) {
      this.s.addMeta.run('verification', randomBytes(32));
      key = this.s.meta.get('verification') as Buffer;
    }
    return key;
  }

  async erasedValues(): Promise<ErasedValue[]> {
    return this.s.values.all() as ErasedValue[];
  }

  files(): string[] {
    return [this.location, `${this.location}-wal`];
  }

  /** Nothing to load: `key` reads the database on a miss. */
  async load(): Promise<void> {}

  async checkpoint(): Promise<void> {
    this.db.pragma('wal_checkpoint(TRUNCATE)');
  }

  async close(): Promise<void> {
    this.cache.clear();
    if (this.db.open) this.db.close();
  }
}
