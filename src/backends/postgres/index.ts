import { CorruptError, InvalidInputError } from '../../log/errors';
import { closingOnError, type Backend } from '../../projections/backend';
import { personalSpec, uniqueSpec } from '../../projections/config';
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
    const personal = Object.entries(personalSpec(options.schema)).filter(([, fields]) => fields.length > 0);
    if (personal.length > 0 || options.keys !== undefined) {
      throw new InvalidInputError(
        `${parsePostgresUrl(url).display}: personal fields (crypto-shredding erasure) need a key store, which the postgres backend does not have yet ` +
          `(type ${personal[0]?.[0] ?? '?'} declares personal = [${personal[0]?.[1].join(', ') ?? ''}]); use sqlite:, file: or memory: for such types`,
      );
    }
    const log = await PostgresEventLog.open(url, { durability: options.durability, unique: uniqueSpec(options.schema) });
    return closingOnError(log, async () => {
      const projections = await PostgresProjectionStore.open(log.pool, log.schema, options.schema);
      // A store found behind its log (a rebuild's swap, a writer of another version) is brought level in the same transaction.
      log.applyInAppend(async (client, events) => {
        if (!(await projections.applyInAppend(client, events, log))) throw new CorruptError(`the projections of ${log.schema} could not be brought level with its log`);
      });
      await projections.openLevel(log);
      return {
        log,
        projections,
        // Every append, by any host, commits its projections: reads need no catch-up (sharedLog false).
        abilities: { projections: 'in-append', appliesProjections: true, sharedLog: false, persistent: true },
        // Its bytes live on the server: no local file to scan (`verify --erased` has nothing to do here).
        files: () => [],
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
