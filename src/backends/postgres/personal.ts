import type { Pool } from 'pg';
import { InvalidInputError } from '../../log/errors';
import { declaresPersonal, shredderFor, type PersonalSpec, type Shredder } from '../../log/personal';
import { PgKeyStore } from './key-store';
import { logTables } from './log-schema';
import { projectionTables } from './projection-schema';
import { parsePostgresUrl } from './url';
import { vacuumFull } from './vacuum';

/**
 * Where a `postgres://` store keeps its data keys: the store's own URL (its schema) by default, or the
 * `keys` option when it is a `postgres://` URL (another database or schema: `?schema=NAME`, default
 * `public`). A SQLite key file is refused: every host of the store must reach the same keys, and a
 * local file is not shared between hosts.
 */
export function pgKeysUrl(storeUrl: string, keys: string | undefined): string {
  if (keys === undefined) return storeUrl;
  if (!/^postgres(ql)?:\/\//i.test(keys)) {
    throw new InvalidInputError(
      `keys ${JSON.stringify(keys)}: a postgres:// store keeps its data keys in PostgreSQL, where every host of the store reaches them; ` +
        'give keys as a postgres://USER@HOST:PORT/DB?schema=NAME URL, or leave it out to keep them in the store\'s own schema (a local SQLite key file is not shared between hosts)',
    );
  }
  parsePostgresUrl(keys);
  return keys;
}

/**
 * The shredder of a `postgres://` store, or undefined when it has no personal data: no personal field in
 * the schema and no key table where the keys would be.
 */
export async function openPgShredder(spec: PersonalSpec, keysUrl: string): Promise<Shredder | undefined> {
  const keys = await PgKeyStore.open(keysUrl, declaresPersonal(spec));
  return keys && shredderFor(keys, spec);
}

/**
 * After an erasure: rewrite (VACUUM FULL, see `vacuumFull`) every table of the store where the erased
 * object's plaintext lived and that the `erased` event deleted it from — current state and full text
 * (`objects`), field index (`object_index`), value counts (`object_facets`), unique claims
 * (`unique_keys`) — then the key table, so neither plaintext nor destroyed keys stay in table files as
 * dead tuples. Runs after the erasure committed; a failure leaves the erasure pending at stage purge
 * (finished at the next open).
 */
export async function purgeErased(pool: Pool, schema: string, display: string, shredder: Shredder): Promise<void> {
  const p = projectionTables(schema);
  await vacuumFull(pool, [p.objects, p.index, p.facets, logTables(schema).uniqueKeys], display);
  await shredder.keys.checkpoint();
}
