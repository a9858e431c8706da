import * as path from 'node:path';
import { FileEventLog } from '../../src/backends/file/file-log';
import { MemoryEventLog } from '../../src/backends/memory/memory-log';
import { SqliteEventLog } from '../../src/backends/sqlite/sqlite-log';
import { tempDir } from '../helpers/temp';
import type { LogFixture } from './event-log';
import type { ProjectionCaps } from './projection-store';
import type { SqliteProjectionTransaction } from '../../src';

/** A user table in the SQLite projection store's transaction (sqlite, file and memory stores). */
const sqliteProjections = (persistent: boolean): ProjectionCaps => ({
  transaction: 'sqlite',
  persistent,
  asyncHandlers: false,
  userTable: {
    create: (tx, table) => void (tx as SqliteProjectionTransaction).db.exec(`CREATE TABLE IF NOT EXISTS ${table} (position INTEGER)`),
    insert: (tx, table, position) => void (tx as SqliteProjectionTransaction).db.prepare(`INSERT INTO ${table} VALUES (?)`).run(position),
    count: (tx, table) => (tx as SqliteProjectionTransaction).db.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number,
    positions: (tx, table) => (tx as SqliteProjectionTransaction).db.prepare(`SELECT position FROM ${table} ORDER BY position, rowid`).pluck().all() as number[],
  },
});

/** What a backend can do, declared as data; the suite picks cases from these, never from the name. */
export interface BackendCaps {
  /** Data survives close() and a new openStore() on the same URL. */
  persistent: boolean;
  /** Several log objects (other stores in this process, other processes) may write one store at once. */
  multiProcess: boolean;
  /** The log implements the optional `EventLog.watch` capability (change signals instead of polling). */
  watch: boolean;
  /** The backend keeps data keys: personal fields and crypto-shredding erasure (otherwise it refuses them). */
  erasure: boolean;
  /** The log implements the optional `EventLog.readAllEncoded` (events with their data as stored text). */
  encodedReads: boolean;
}

/** How the conformance suite gets a fresh store URL for each test. */
export interface BackendFixture {
  name: string;
  caps: BackendCaps;
  /** A URL for a new, empty store. */
  freshUrl(): string;
  /** The backend's `EventLog` alone, for the log suite. */
  log: LogFixture;
  /** What its projection store can do, for the projection suite. */
  projections: ProjectionCaps;
}

export const memoryFixture: BackendFixture = {
  name: 'memory',
  caps: { persistent: false, multiProcess: false, watch: true, encodedReads: false, erasure: true },
  freshUrl: () => 'memory:',
  projections: sqliteProjections(false),
  log: { name: 'memory', caps: { encodedReads: false }, openLog: async (unique) => new MemoryEventLog(unique) },
};

export const sqliteFixture: BackendFixture = {
  name: 'sqlite',
  caps: { persistent: true, multiProcess: true, watch: true, encodedReads: true, erasure: true },
  freshUrl: () => `sqlite:${path.join(tempDir(), 'osis.db')}`,
  projections: sqliteProjections(true),
  log: {
    name: 'sqlite',
    caps: { encodedReads: true },
    openLog: (unique) => SqliteEventLog.open(path.join(tempDir(), 'log.db'), { durability: 'normal', unique }),
  },
};

export const fileFixture: BackendFixture = {
  name: 'file',
  caps: { persistent: true, multiProcess: true, watch: true, encodedReads: true, erasure: true },
  freshUrl: () => `file:${path.join(tempDir(), 'log')}`,
  projections: sqliteProjections(true),
  log: {
    name: 'file',
    caps: { encodedReads: true },
    openLog: (unique) => FileEventLog.open(path.join(tempDir(), 'log'), { durability: 'normal', unique }),
  },
};
