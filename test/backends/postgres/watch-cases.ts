import { expect } from 'chai';
import { PostgresEventLog } from '../../../src/backends/postgres/postgres-log';
import { runFixture } from '../../helpers/spawn-ts';
import type { PgSchemas } from './pg-fixture';

/** Resolves when `count()` reaches `n`, or fails after `ms`. */
async function until(what: string, check: () => boolean, ms: number): Promise<number> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
  return Date.now() - started;
}

/** `watch` across log objects: NOTIFY as the wake-up, the poll as the safety net, CLOSED on close. */
export function watchCases(schemas: PgSchemas): void {
  describe('postgres: watch', () => {
    const note = (sid: string) => [{ type: 'note', sid, kind: 'created' as const, data: { sid } }];

    it('signals another log object through NOTIFY (the poll set to a minute), and its own commits at once', async () => {
      const url = schemas.freshUrl();
      const [a, b] = [await PostgresEventLog.open(url), await PostgresEventLog.open(url)];
      let signalsB = 0;
      let signalsA = 0;
      const watchB = await b.watch(() => signalsB++, { intervalMs: 60_000 });
      const watchA = await a.watch(() => signalsA++, { intervalMs: 60_000 });
      for (let i = 0; i < 3; i++) {
        const before = signalsB;
        await a.append(note(`n${i}`));
        expect(await until('a NOTIFY', () => signalsB > before, 2000)).to.be.lessThan(2000);
      }
      const ownBefore = signalsA;
      await a.append(note('own'));
      await until('a local signal', () => signalsA > ownBefore, 100);
      expect(a.notifications).to.be.within(1, 4);
      await watchB.close();
      await watchA.close();
      const after = signalsB;
      await a.append(note('unwatched'));
      await new Promise((r) => setTimeout(r, 200));
      expect(signalsB).to.equal(after);
      await Promise.all([a.close(), b.close()]);
    });

    it('still signals by polling when no NOTIFY is sent, and after the LISTEN connection is killed', async () => {
      const url = schemas.freshUrl();
      const quiet = await PostgresEventLog.open(url, { notify: false });
      const loud = await PostgresEventLog.open(url);
      const watcher = await PostgresEventLog.open(url);
      let signals = 0;
      const w = await watcher.watch(() => signals++, { intervalMs: 50 });
      let before = signals;
      await quiet.append(note('q1'));
      expect(quiet.notifications).to.equal(0);
      await until('a poll signal', () => signals > before, 2000);
      await w.close();

      let slowSignals = 0;
      const slow = await watcher.watch(() => slowSignals++, { intervalMs: 60_000 });
      const channel = `LISTEN "osis_log_${new URL(url).searchParams.get('schema')}"`;
      const killed = await schemas.sql('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = $1', [channel]);
      expect(killed.length).to.be.greaterThan(0);
      await new Promise((r) => setTimeout(r, 600)); // the listener reconnects (and signals once to catch up)
      before = slowSignals;
      await loud.append(note('after-kill'));
      await until('a NOTIFY after the LISTEN connection came back', () => slowSignals > before, 3000);
      await slow.close();
      await Promise.all([quiet.close(), loud.close(), watcher.close()]);
    });

    it('does not keep a process alive: a watching, unclosed log lets it exit', async function () {
      this.timeout(40_000);
      const run = runFixture('pg-watch-exits.ts', [schemas.freshUrl()]);
      let timer: NodeJS.Timeout | undefined;
      const stuck = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('the process did not exit within 30 s')), 30_000);
      });
      const result = await Promise.race([run, stuck]).finally(() => clearTimeout(timer));
      expect(result.stderr).to.equal('');
      expect(result.code).to.equal(0);
      expect(result.stdout.trim()).to.match(/^signals [1-9]/);
    });

    it('ends watchers with CLOSED when the log closes', async () => {
      const log = await PostgresEventLog.open(schemas.freshUrl());
      const errors: unknown[] = [];
      await log.watch(() => undefined, { onError: (error) => errors.push(error) });
      await log.close();
      expect(errors.map((e) => (e as { code?: string }).code)).to.deep.equal(['CLOSED']);
    });
  });
}
