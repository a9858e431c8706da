import { CorruptError } from '../../log/errors';
import { finishErasures, openPersonalLogWith } from '../../log/personal';
import { closingOnError, type Backend } from '../../projections/backend';
import { personalSpec, uniqueSpec } from '../../projections/config';
import { Coalescer } from './coalesce';
import { openPgShredder, pgKeysUrl, purgeErased } from './personal';
import { PostgresEventLog } from './postgres-log';
import { PostgresProjectionStore } from './projection-store';
import { parsePostgresUrl } from './url';

/** The URL of the same server and database with the store in schema `schema`. */
function withSchema(url: string, schema: string): string {
  const [base, query = ''] = url.split('?', 2);
  const params = query.split('&').filter((p) => p !== '' && !p.startsWith('schema='));
  params.push(`schema=${schema}`);
  return `${base}?${params.join('&')}`;
}

/**
 * `postgres://USER@HOST:PORT/DB[?schema=NAME]` — the log and its projections in one PostgreSQL schema,
 * shared by every process on every host. Current state, field index, counts and full text commit inside
 * the append's transaction (in-append), so a host reads its own writes and every other host sees a write
 * once it commits; the subscriber checkpoints and user projections' tables live there too, so each runs
 * once per store. A new host opens a store of any size with no replay.
 */
export const postgresBackend: Backend = {
  name: 'postgres',
  schemes: ['postgres://', 'postgresql://'],
  example: 'postgres://USER@HOST:PORT/DB',
  parse(url) {
    return parsePostgresUrl(url).display;
  },
  async open(url, options) {
    const display = parsePostgresUrl(url).display;
    const shredder = await openPgShredder(personalSpec(options.schema), pgKeysUrl(url, options.keys));
    const { inner, log } = await openPersonalLogWith(shredder, (personal) =>
      PostgresEventLog.open(url, {
        durability: options.durability,
        unique: personal.unique(uniqueSpec(options.schema)),
        ...(shredder ? { openStored: (data) => shredder.loadKeys(data.map((d) => ({ data: d }))) } : {}),
      }),
    );
    return closingOnError(log, async () => {
      const projections = await PostgresProjectionStore.open(inner.pool, inner.schema, options.schema);
      // The log hands this hook sealed events: projections get them opened (the keys are this process's
      // own, or loaded once per batch). A store found behind its log (a rebuild's swap, a writer of another
      // version) is brought level in the same transaction, reading the gap through the opening log.
      inner.applyInAppend(async (client, events) => {
        if (shredder) await shredder.loadKeys(events);
        const opened = shredder ? shredder.revealEvents(events) : events;
        if (!(await projections.applyInAppend(client, opened, log))) throw new CorruptError(`the projections of ${inner.schema} could not be brought level with its log`);
      });
      await projections.openLevel(log);
      // Erasures at the same moment share rewrites (see `Coalescer`): each waits for one that starts after it.
      const purge = shredder && new Coalescer(() => purgeErased(inner.pool, inner.schema, display, shredder));
      if (purge) await finishErasures(log, () => purge.run());
      return {
        log,
        projections,
        // Every append, by any host, commits its projections: reads need no catch-up (sharedLog false).
        abilities: { projections: 'in-append', appliesProjections: true, sharedLog: false, persistent: true },
        ...(shredder ? { keys: shredder.keys, personal: shredder.spec } : {}),
        // Its bytes live on the server: no local file to scan.
        files: () => [],
        unscanned: `the store's bytes live on the PostgreSQL server (${display}), not in local files: no file of the store was scanned`,
        async close() {
          await projections.close();
          await log.close();
        },
      };
    });
  },
  contexts(url) {
    const base = parsePostgresUrl(url).schema;
    return { urlOf: (ctx) => withSchema(url, `${base}__${ctx}`), filesOf: () => [] };
  },
};
