import * as path from 'node:path';
import { tempDir } from '../helpers/temp';

/** What a backend can do, declared as data; the suite picks cases from these, never from the name. */
export interface BackendCaps {
  /** Data survives close() and a new openStore() on the same URL. */
  persistent: boolean;
  /** Several log objects (other stores in this process, other processes) may write one store at once. */
  multiProcess: boolean;
  /** The log implements the optional `EventLog.watch` capability (change signals instead of polling). */
  watch: boolean;
  /** The log implements the optional `EventLog.readAllEncoded` (events with their data as stored text). */
  encodedReads: boolean;
}

/** How the conformance suite gets a fresh store URL for each test. */
export interface BackendFixture {
  name: string;
  caps: BackendCaps;
  /** A URL for a new, empty store. */
  freshUrl(): string;
}

export const memoryFixture: BackendFixture = {
  name: 'memory',
  caps: { persistent: false, multiProcess: false, watch: true, encodedReads: false },
  freshUrl: () => 'memory:',
};

export const sqliteFixture: BackendFixture = {
  name: 'sqlite',
  caps: { persistent: true, multiProcess: true, watch: true, encodedReads: true },
  freshUrl: () => `sqlite:${path.join(tempDir(), 'osis.db')}`,
};

export const fileFixture: BackendFixture = {
  name: 'file',
  caps: { persistent: true, multiProcess: true, watch: true, encodedReads: true },
  freshUrl: () => `file:${path.join(tempDir(), 'log')}`,
};
