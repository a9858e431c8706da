import { retryOpening } from '../../log/busy-retry';
import { urlPath, closingOnError, type Backend } from '../../projections/backend';
import * as path from 'node:path';
import { personalSpec, uniqueSpec } from '../../projections/config';
import { finishPersonalOpen, openPersonalLog, revealingHook } from '../../log/personal';

/** The default key store of a `file:` store: beside the segments, never in the (rebuildable) sidecar. */
const KEYS_FILE = 'keys.db';
import { SqliteProjectionStore } from '../../projections/sqlite/sqlite-projection-store';
import { FileEventLog } from './file-log';

/** The log directory a `file:DIR` URL names. */
const logDir = (url: string): string => urlPath(url, 'file:', 'a directory', 'file:./data/log');

/**
 * `file:DIR` — the OTOML segment log is the truth; the sidecar `DIR/projections.db` holds its index and
 * the SQLite projection store, both rebuildable from the segments. The writer applies projections in
 * the sidecar transaction that indexes its appends (after they are durable in the segments); a
 * projection error there leaves the projections behind, to be caught up before the next read. Other
 * processes may append, so reads compare the log head with the projection checkpoint first.
 */
export const fileBackend: Backend = {
  name: 'file',
  schemes: ['file:'],
  example: 'file:./data/log',
  parse: logDir,
  async open(url, options) {
    const dir = logDir(url);
    const { inner, log, shredder } = await openPersonalLog(personalSpec(options.schema), options.keys ?? path.join(dir, KEYS_FILE), false, (personal) =>
      FileEventLog.open(dir, { durability: options.durability, unique: personal.unique(uniqueSpec(options.schema)), secureDelete: personal.secureDelete }),
    );
    return closingOnError(log, async () => {
      const projections = await retryOpening(dir, () => new SqliteProjectionStore(inner.db, options.schema));
      const apply = revealingHook(shredder, (events) => projections.applyInline(events));
      inner.applyAfterIndexing((events) => {
        if (projections.currentState.position() === events[0].position - 1) apply(events);
      });
      if (inner.sidecarRebuilt) await projections.invalidate();
      await projections.openLevel(log);
      await finishPersonalOpen(log, inner.db, (type) => projections.purgeErased(type));
      return {
        ...(shredder ? { keys: shredder.keys, personal: shredder.spec } : {}),
        files: () => [dir, ...(shredder?.keys.files() ?? [])],
        log,
        projections,
        abilities: { projections: 'after-append', appliesProjections: true, sharedLog: true, persistent: true },
        async close() {
          await projections.close();
          await log.close();
        },
      };
    });
  },
  contexts(url) {
    const base = logDir(url);
    const dir = base.replace(/[\\/]+$/, '') || base;
    return { urlOf: (ctx) => `file:${dir}.ctx-${ctx}`, filesOf: (ctx) => [`${dir}.ctx-${ctx}`], registryFile: `${dir}.contexts.json` };
  },
};
