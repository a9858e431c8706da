import * as path from 'node:path';
import { retryOpening } from '../../log/busy-retry';
import { urlPath, closingOnError, type Backend } from '../../projections/backend';
import { personalSpec, uniqueSpec } from '../../projections/config';
import { finishPersonalOpen, openPersonalLog, revealingHook } from '../../log/personal';
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
    const memory = file === ':memory:';
    const keys = options.keys ?? (memory ? undefined : file);
    const { inner, log, shredder } = await openPersonalLog(personalSpec(options.schema), keys, options.keys === undefined, (personal) =>
      SqliteEventLog.open(file, { durability: options.durability, unique: personal.unique(uniqueSpec(options.schema)), secureDelete: personal.secureDelete }),
    );
    return closingOnError(log, async () => {
      const projections = await retryOpening(file, () => new SqliteProjectionStore(inner.db, options.schema));
      inner.applyInAppend(revealingHook(shredder, (events) => projections.applyInline(events)));
      await projections.catchUp(log);
      await finishPersonalOpen(log, inner.db, (type) => projections.purgeErased(type));
      void projections.promoteFrequentTerms();
      return {
        log,
        projections,
        abilities: { projections: 'in-append', appliesProjections: true, sharedLog: false, persistent: !memory },
        ...(shredder ? { keys: shredder.keys, personal: shredder.spec } : {}),
        files: () => (memory ? [] : [...new Set([file, `${file}-wal`, ...(shredder?.keys.files() ?? [])])]),
        async close() {
          await projections.close();
          await log.close();
        },
      };
    });
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
