import { expect } from 'chai';
import { parseSchema } from '../../../src/api/library/schema';
import { PostgresEventLog } from '../../../src/backends/postgres/postgres-log';
import { PostgresProjectionStore } from '../../../src/backends/postgres/projection-store';
import { uniqueSpec } from '../../../src/projections/config';
import { expectCode } from '../../helpers/expect-error';
import type { PgSchemas } from './pg-fixture';

const schema = parseSchema({ types: { user: { index: ['country'], unique: ['email'], text: ['name'] } } }, 'test');
const user = (sid: string, data: Record<string, unknown> = {}) => ({ type: 'user', sid, kind: 'created' as const, data: { sid, ...data } });

/** `applyInAppend`: the projection store's writes commit, or roll back, with the append that carries them. */
export function inAppendCases(schemas: PgSchemas): void {
  describe('postgres: projections inside the append transaction', () => {
    it('commits the PostgreSQL projection store with each group commit (read your writes, from another pool too)', async () => {
      const url = schemas.freshUrl();
      const log = await PostgresEventLog.open(url, { unique: uniqueSpec(schema) });
      const other = await PostgresEventLog.open(url);
      try {
        const projections = await PostgresProjectionStore.open(log.pool, log.schema, schema);
        await projections.openLevel(log);
        log.applyInAppend(async (client, events) => {
          if (!(await projections.applyInAppend(client, events))) throw new Error('projection store behind the log');
        });
        const written = await Promise.all(['a', 'b', 'c'].map((sid) => log.append([user(sid, { country: 'be', email: `${sid}@x` })])));
        expect(written.map(([e]) => e.position).sort()).to.deep.equal([1, 2, 3]);
        expect((await projections.get('user', 'b'))?.object).to.deep.equal({ sid: 'b', country: 'be', email: 'b@x' });
        expect(await projections.position()).to.equal(3);
        const seenElsewhere = await PostgresProjectionStore.open(other.pool, other.schema, schema);
        expect(await seenElsewhere.exists('user', 'c')).to.equal(true);

        log.applyInAppend(async () => {
          throw new Error('projection failed');
        });
        await log.append([user('d')]).then(
          () => expect.fail('the append went through although its projection failed'),
          (error) => expect((error as Error).message).to.equal('projection failed'),
        );
        expect(await log.head()).to.equal(3);
        expect(await log.readStream('user', 'd')).to.deep.equal([]);
        expect(await projections.exists('user', 'd')).to.equal(false);
        log.applyInAppend(async (client, events) => projections.applyInAppend(client, events));
        await expectCode(log.append([user('e', { email: 'a@x' })]), 'UNIQUE_VIOLATION');
        const [d] = await log.append([user('d')]);
        expect(d.position).to.equal(4);
        expect(await projections.position()).to.equal(4);
      } finally {
        await Promise.all([log.close(), other.close()]);
      }
    });
  });
}
