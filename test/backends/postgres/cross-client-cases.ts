import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { PostgresEventLog } from '../../../src/backends/postgres/postgres-log';
import type { ProposedEvent, StoredEvent } from '../../../src';
import { expectCode } from '../../helpers/expect-error';
import type { PgSchemas } from './pg-fixture';

const unique = { user: ['email'] };
const created = (sid: string, data: Record<string, unknown> = {}): ProposedEvent => ({ type: 'user', sid, kind: 'created', data: { sid, ...data } });

/** Two or more log objects (separate pools, as separate hosts would have) on one schema. */
export function crossClientCases(schemas: PgSchemas): void {
  describe('postgres: several log objects on one store', () => {
    const open: PostgresEventLog[] = [];
    const openLog = async (url: string, options = {}) => {
      const log = await PostgresEventLog.open(url, { unique, poolSize: 3, ...options });
      open.push(log);
      return log;
    };
    afterEach(async () => {
      await Promise.all(open.splice(0).map((log) => log.close()));
    });

    it('does not let an unrelated open transaction hold back the tail', async () => {
      const url = schemas.freshUrl();
      const writer = await openLog(url);
      const reader = await openLog(url);
      const schema = new URL(url).searchParams.get('schema')!;
      await writer.append([created('before')]);
      await schemas.sql(`CREATE TABLE "${schema}".unrelated (n int)`);
      const other = await schemas.client();
      try {
        await other.query('BEGIN');
        await other.query(`INSERT INTO "${schema}".unrelated VALUES (1)`);
        await other.query('SELECT txid_current()');
        for (let i = 0; i < 5; i++) {
          const [event] = await writer.append([created(`during${i}`)]);
          const started = Date.now();
          const read = await reader.readAll(event.position);
          expect(read.map((e) => e.sid)).to.deep.equal([`during${i}`]);
          expect(await reader.head()).to.equal(event.position);
          expect(Date.now() - started).to.be.lessThan(1000);
        }
        expect((await reader.readAll(1)).map((e) => e.position)).to.deep.equal([1, 2, 3, 4, 5, 6]);
      } finally {
        await other.query('ROLLBACK');
        await other.end();
      }
    });

    it('enforces unique fields and expected versions across log objects', async () => {
      const url = schemas.freshUrl();
      const a = await openLog(url);
      const b = await openLog(url);
      await a.append([created('ann', { email: 'ann@x' })]);
      const error = await expectCode(b.append([created('impostor', { email: 'ann@x' })]), 'UNIQUE_VIOLATION');
      expect(error.details).to.include({ heldBy: 'ann', field: 'email' });
      await expectCode(b.append([created('ann')]), 'VERSION_CONFLICT');
      await b.append([{ type: 'user', sid: 'ann', kind: 'updated', data: { sid: 'ann', email: 'ann2@x' }, expectedVersion: 1 }]);
      await expectCode(a.append([{ type: 'user', sid: 'ann', kind: 'updated', data: { sid: 'ann' }, expectedVersion: 1 }]), 'VERSION_CONFLICT');
      await a.append([created('bob', { email: 'ann@x' })]); // released by ann's update, through the other object
      const long = `${randomBytes(4000).toString('hex')}@x`; // 8 kB that do not compress: more than a btree entry holds
      await a.append([created('carl', { email: long })]);
      await expectCode(b.append([created('dora', { email: long })]), 'UNIQUE_VIOLATION');
      expect(await a.head()).to.equal(4);
      expect(await b.streamState('user', 'ann')).to.deep.equal({ version: 2, exists: true });
    });

    it('lets exactly one of many concurrent writers win an object and a unique value', async () => {
      const url = schemas.freshUrl();
      const logs = await Promise.all(Array.from({ length: 6 }, () => openLog(url)));
      for (let round = 0; round < 5; round++) {
        const sameSid = await Promise.allSettled(logs.map((log) => log.append([created(`race${round}`)])));
        expect(sameSid.filter((r) => r.status === 'fulfilled')).to.have.length(1);
        for (const r of sameSid) if (r.status === 'rejected') expect((r.reason as { code: string }).code).to.equal('VERSION_CONFLICT');
        const sameEmail = await Promise.allSettled(logs.map((log, i) => log.append([created(`u${round}_${i}`, { email: `e${round}` })])));
        expect(sameEmail.filter((r) => r.status === 'fulfilled')).to.have.length(1);
        for (const r of sameEmail) if (r.status === 'rejected') expect((r.reason as { code: string }).code).to.equal('UNIQUE_VIOLATION');
      }
      const all = await logs[0].readAll(1);
      expect(all.map((e) => e.position)).to.deep.equal(all.map((_, i) => i + 1));
      expect(all).to.have.length(10);
      expect((await logs[0].verify()).problems).to.deep.equal([]);
    });

    it('settles batches that claim the same unique values in opposite orders, one holder per value, no deadlock stall', async function () {
      this.timeout(60_000);
      const url = schemas.freshUrl();
      const [a, b] = [await openLog(url), await openLog(url)];
      const deadlocks = async () => Number((await schemas.sql('SELECT deadlocks::float8 AS n FROM pg_stat_database WHERE datname = current_database()'))[0].n);
      const before = await deadlocks();
      let committed = 0;
      for (let round = 0; round < 5; round++) {
        const [x, y] = [`x${round}@x`, `y${round}@x`];
        const results = await Promise.allSettled([
          a.append([created(`a1_${round}`, { email: x })]),
          a.append([created(`a2_${round}`, { email: y })]),
          b.append([created(`b1_${round}`, { email: y })]),
          b.append([created(`b2_${round}`, { email: x })]),
        ]);
        for (const r of results) if (r.status === 'rejected') expect((r.reason as { code: string }).code).to.equal('UNIQUE_VIOLATION');
        const winners = results.filter((r) => r.status === 'fulfilled');
        expect(winners).to.have.length(2); // one holder for x, one for y
        committed += winners.length;
      }
      const all = await a.readAll(1);
      expect(all.map((e) => e.position)).to.deep.equal(all.map((_, i) => i + 1));
      expect(all).to.have.length(committed);
      console.log(`      ${(await deadlocks()) - before} deadlocks detected by PostgreSQL in the database meanwhile (a deadlock would be retried; each costs deadlock_timeout)`);
    });

    it('returns the first outcome for an idempotency key retried through another log object', async () => {
      const url = schemas.freshUrl();
      const [a, b] = [await openLog(url), await openLog(url)];
      const first = await a.append([created('k1')], { idempotencyKey: 'key-1' });
      const again = await b.append([created('k1')], { idempotencyKey: 'key-1' });
      expect(again).to.deep.equal(first);
      const racing = await Promise.all([a, b, a, b].map((log) => log.append([created('k2')], { idempotencyKey: 'key-2' })));
      for (const outcome of racing) expect(outcome).to.deep.equal(racing[0]);
      expect(await a.head()).to.equal(2);
    });

    it('fails each append of one group commit alone (unique clash, conflict, repeated key in the batch)', async () => {
      const log = await openLog(schemas.freshUrl());
      await log.append([created('taken', { email: 'taken@x' })]);
      const results = await Promise.allSettled([
        log.append([created('g1', { email: 'g1@x' })]),
        log.append([created('g2', { email: 'taken@x' })]),
        log.append([created('g3', { email: 'g3@x' })], { idempotencyKey: 'batch-key' }),
        log.append([created('taken')]),
        log.append([created('g4', { email: 'g1@x' })]),
        log.append([created('g3-again')], { idempotencyKey: 'batch-key' }),
        log.append([created('g5'), { type: 'user', sid: 'g5', kind: 'updated', data: { sid: 'g5', email: 'g5@x' } }]),
      ]);
      const codes = results.map((r) => (r.status === 'fulfilled' ? r.value.map((e) => `${e.sid}@${e.position}`).join(',') : (r.reason as { code: string }).code));
      expect(codes).to.deep.equal(['g1@2', 'UNIQUE_VIOLATION', 'g3@3', 'VERSION_CONFLICT', 'UNIQUE_VIOLATION', 'g3@3', 'g5@4,g5@5']);
      expect((await log.readAll(1)).map((e) => e.position)).to.deep.equal([1, 2, 3, 4, 5]);
      await log.append([created('g6', { email: 'g5@x' })]).then(
        () => expect.fail('g5 holds g5@x'),
        (error) => expect(error.details).to.include({ heldBy: 'g5' }),
      );
      expect((await log.append([created('g2', { email: 'free@x' })]))[0].position).to.equal(6);
    });

    it('opens 6 log objects at once on a new schema (DDL under an advisory lock)', async () => {
      const url = schemas.freshUrl();
      const logs = await Promise.all(Array.from({ length: 6 }, () => openLog(url)));
      await Promise.all(logs.map((log, i) => log.append([created(`o${i}`)])));
      expect(await logs[0].head()).to.equal(6);
      const again = await Promise.all(Array.from({ length: 3 }, () => openLog(url)));
      expect(await again[2].head()).to.equal(6);
    });

    it('round-trips a 1 MiB event exactly, also as encoded text', async () => {
      const url = schemas.freshUrl();
      const [a, b] = [await openLog(url), await openLog(url)];
      const big = 'ü"\\\n\u2028🙂'.repeat(1) + 'x'.repeat(1024 * 1024 - 16);
      const data = { sid: 'big', body: big, n: 12345678901234, f: 0.1 + 0.2, nested: { a: [1, null, true, 'ß'] } };
      const [written] = await a.append([{ type: 'doc', sid: 'big', kind: 'created', data }]);
      const [read] = await b.readAll(written.position);
      expect(read).to.deep.equal(written);
      expect(read.data).to.deep.equal(data);
      const [encoded] = await b.readAllEncoded(written.position);
      expect(encoded.data).to.equal(JSON.stringify(data));
      expect((await b.readStream('doc', 'big'))[0].data.body).to.equal(big);
    });

    it('imports events that continue the log and verifies it, finding damage', async () => {
      const source = await openLog(schemas.freshUrl());
      const meta = { idempotencyKey: 'ik', actor: 'test' };
      await source.append([{ ...created('a', { email: 'a@x' }), meta }, { ...created('b'), meta }], { idempotencyKey: 'ik' });
      await source.append([{ type: 'user', sid: 'a', kind: 'deleted', data: {} }]);
      const events: StoredEvent[] = await source.readAll(1);
      const url = schemas.freshUrl();
      const copy = await openLog(url);
      await expectCode(copy.importEvents(events.slice(1)), 'INVALID_INPUT');
      await copy.importEvents(events.slice(0, 2));
      await copy.importEvents(events.slice(2));
      expect(await copy.readAll(1)).to.deep.equal(events);
      expect(await copy.append([created('a2')], { idempotencyKey: 'ik' })).to.deep.equal(events.slice(0, 2));
      await copy.append([created('c', { email: 'a@x' })]); // a's claim went with its deletion
      expect((await copy.append([created('d')]))[0].position).to.equal(5);
      expect(await copy.verify()).to.deep.equal({ events: 5, problems: [] });
      const schema = new URL(url).searchParams.get('schema')!;
      await schemas.sql(`UPDATE "${schema}".events SET data = '{"broken' WHERE position = 2`);
      await schemas.sql(`DELETE FROM "${schema}".events WHERE position = 3`);
      await schemas.sql(`UPDATE "${schema}".events SET version = 3 WHERE position = 5`);
      const report = await copy.verify();
      expect(report.events).to.equal(4);
      expect(report.problems.map((p) => p.where)).to.have.members(['events position 2', 'events position 3', 'events user/d']);
    });
  });
}
