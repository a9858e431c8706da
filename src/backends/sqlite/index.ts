import * as path from 'node:path';
import { retryOpening } from '../../log/busy-retry';
import { urlPath, type Backend } from '../../projections/backend';
import { uniqueSpec } from '../../projections/config';
import { SqliteProjectionStore } from '../../projections/sqlite/sqlite-projection-store';
import { SqliteEventLog } from './sqlite-log';

/** The database file a `sqlite:PATH` URL names. */
const filePath = (url: string): string => urlPath(url, 'sqlite:', 'a file path', 'sqlite:./data/osis.db');

/**
 * `sqlite:PATH` — the log and its projections in one SQLite database. Projections commit inside the
 * append's transaction (a projection error rejects the append), so every process reads its own and
 * everyone else's writes with no catch-up.
 */
export const sqliteBackend: Backend = {
  name: 'sqlite',
  schemes: ['sqlite:'],
  example: 'sqlite:./data/osis.db',
  parse: filePath,
  async open(url, options) {
    const file = filePath(url);
    const log = await SqliteEventLog.open(file, { durability: options.durability, unique: uniqueSpec(options.schema) });
    try {
      const projections = await retryOpening(file, () => new SqliteProjectionStore(log.db, options.schema));
      log.applyInAppend((events) => projections.applyInline(events));
      await projections.catchUp(log);
      void projections.promoteFrequentTerms();
      return {
        log,
        projections,
        abilities: { projections: 'in-append', appliesProjections: true, sharedLog: false, persistent: file !== ':memory:' },
        async close() {
          await projections.close();
          await log.close();
        },
      };
    } catch (error) {
      await log.close();
      throw error;
    }
  },
  contexts(url) {
    const file = filePath(url);
    if (file === ':memory:') return { urlOf: () => 'sqlite::memory:', filesOf: () => [] };
    const { dir, name, ext } = path.parse(file);
    const fileOf = (ctx: string) => path.join(dir, `${name}.ctx-${ctx}${ext}`);
    return {
      urlOf: (ctx) => `sqlite:${fileOf(ctx)}`,
      filesOf: (ctx) => ['', '-wal', '-shm', '-journal'].map((suffix) => `${fileOf(ctx)}${suffix}`),
      registryFile: path.join(dir, `${name}.contexts.json`),
    };
  },
};
