import * as path from 'node:path';
import { retryOpening } from '../../log/busy-retry';
import { InvalidInputError } from '../../log/errors';
import type { Backend } from '../../projections/backend';
import { uniqueSpec } from '../../projections/config';
import { SqliteProjectionStore } from '../../projections/sqlite/sqlite-projection-store';
import { SqliteEventLog } from './sqlite-log';

/** The database file a `sqlite:PATH` URL names (`sqlite:///abs` and `sqlite:/abs` are both absolute). */
function filePath(url: string): string {
  if (!url.startsWith('sqlite:')) throw new InvalidInputError(`store URL ${JSON.stringify(url)} is not a sqlite: URL`);
  const file = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
  if (!file) throw new InvalidInputError(`store URL ${url}: sqlite: needs a file path, as in sqlite:./data/osis.db`);
  if (file.includes('\0')) throw new InvalidInputError('store URL contains a NUL byte');
  return file;
}

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
