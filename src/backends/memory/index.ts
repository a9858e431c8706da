import Database from 'better-sqlite3';
import { InvalidInputError } from '../../log/errors';
import type { Backend } from '../../projections/backend';
import { SqliteProjectionStore } from '../../projections/sqlite/sqlite-projection-store';
import { MemoryEventLog } from './memory-log';
import { personalSpec, uniqueSpec } from '../../projections/config';
import { PersonalEventLog, openShredder, personalLog, uniqueFor } from '../../log/personal';

/**
 * `memory:` — the reference log in this process's memory, with the SQLite projection store in an
 * in-memory database: one implementation of queries, full text and counts for every embedded backend,
 * so memory answers exactly as sqlite and file do. Projections are applied after each append.
 */
export const memoryBackend: Backend = {
  name: 'memory',
  schemes: ['memory:'],
  example: 'memory:',
  parse(url) {
    if (url !== 'memory:' && url !== 'memory://') throw new InvalidInputError(`store URL ${JSON.stringify(url)}: a memory store is just memory:`);
    return '';
  },
  async open(url, options) {
    this.parse(url);
    const shredder = await openShredder(personalSpec(options.schema), options.keys);
    const log = personalLog(new MemoryEventLog(uniqueFor(uniqueSpec(options.schema), shredder)), shredder);
    const db = new Database(':memory:');
    const projections = new SqliteProjectionStore(db, options.schema);
    if (log instanceof PersonalEventLog) log.onErased((type) => projections.purgeErased(type));
    return {
      log,
      projections,
      ...(shredder ? { keys: shredder.keys, personal: shredder.spec } : {}),
      files: () => shredder?.keys.files() ?? [],
      abilities: { projections: 'after-append', appliesProjections: false, sharedLog: false, persistent: false },
      async close() {
        await projections.close();
        await log.close();
        db.close();
      },
    };
  },
  contexts: () => ({ urlOf: () => 'memory:', filesOf: () => [] }),
};
