import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openStore } from '../../../src';
import { startWorker, type FixtureWorker } from '../../helpers/spawn-ts';
import { tempDir } from '../../helpers/temp';
import { PgSchemas, pgUrl } from './pg-fixture';

const HOSTS = 4;
const OBJECTS = 200;
const ROUNDS = 20;
const base = pgUrl();

/**
 * Four processes acting as four hosts on one `postgres://` store (processes, not network namespaces:
 * every host reaches the server through the same TCP endpoint either way, and the store keeps no
 * per-host state but its pool). They open a new schema at once, seed the same objects at once, and race
 * for one unique value per round.
 */
if (base) {
  describe(`postgres: ${HOSTS} processes as ${HOSTS} hosts on one store`, function () {
    this.timeout(120_000);
    const schemas = new PgSchemas(base);
    let hosts: FixtureWorker[] = [];
    after(async () => {
      await Promise.all(hosts.map((h) => h.stop()));
      await schemas.dropAll();
    });

    it(`seed the same ${OBJECTS} objects at once: ${OBJECTS} created events, no duplicate`, async () => {
      const dir = tempDir();
      const users = Array.from({ length: OBJECTS }, (_, i) => ({ sid: `u${i}`, email: `u${i}@x`, n: i }));
      const file = path.join(dir, 'seed.json');
      fs.writeFileSync(file, JSON.stringify({ user: users }));
      const empty = path.join(dir, 'empty.json');
      fs.writeFileSync(empty, JSON.stringify({ user: [] }));
      hosts = Array.from({ length: HOSTS }, () => startWorker('seeder.ts'));
      // Load every process first (a first answer), so the race below starts at goAt in all of them.
      const warm = await Promise.all(hosts.map((h) => h.ask({ url: schemas.freshUrl(), file: empty, goAt: 0 })));
      for (const line of warm) expect(JSON.parse(line)).to.deep.equal({ created: 0, existing: 0 });

      const url = schemas.freshUrl(); // opened for the first time by the four at once
      const goAt = Date.now() + 2000;
      const answers = (await Promise.all(hosts.map((h) => h.ask({ url, file, goAt })))).map((line) => JSON.parse(line));
      for (const answer of answers) expect(answer.error, 'a host failed').to.equal(undefined);
      expect(answers.reduce((n, a) => n + a.created, 0), 'created, summed over the hosts').to.equal(OBJECTS);
      expect(answers.reduce((n, a) => n + a.existing, 0), 'left alone, summed over the hosts').to.equal(OBJECTS * (HOSTS - 1));

      const schema = new URL(url).searchParams.get('schema')!;
      const [counts] = await schemas.sql(
        `SELECT count(*)::int AS events, count(*) FILTER (WHERE kind = 'created')::int AS created, count(DISTINCT sid)::int AS sids,
                (SELECT count(*)::int FROM "${schema}".unique_keys) AS claims
         FROM "${schema}".events`,
      );
      expect(counts).to.deep.equal({ events: OBJECTS, created: OBJECTS, sids: OBJECTS, claims: OBJECTS });
      const store = await openStore(url, { schema: { types: { user: { unique: ['email'] } } } });
      try {
        expect(await store.collection('user')._get('u123')).to.deep.equal({ sid: 'u123', email: 'u123@x', n: 123 });
        expect(await store.verify()).to.include({ ok: true, events: OBJECTS, objects: OBJECTS });
      } finally {
        await store.close();
      }
      console.log(`      ${HOSTS} hosts seeded ${OBJECTS} objects at once: created ${answers.map((a) => a.created).join(' + ')}`);
    });

    it(`race for one unique email per round: exactly 1 winner of ${HOSTS}, ${ROUNDS} rounds`, async () => {
      const url = schemas.freshUrl();
      const racers = Array.from({ length: HOSTS }, () => startWorker('racer.ts'));
      hosts.push(...racers);
      let winners = '';
      for (let round = 0; round < ROUNDS; round++) {
        const goAt = Date.now() + (round === 0 ? 3000 : 50);
        const answers = (await Promise.all(racers.map((r, i) => r.ask({ url, sid: `r${round}h${i}`, email: `e${round}@x`, goAt })))).map((l) => JSON.parse(l));
        expect(answers.filter((a) => a.ok), `round ${round}: ${JSON.stringify(answers)}`).to.have.length(1);
        expect(answers.filter((a) => a.code === 'UNIQUE_VIOLATION'), `round ${round}: ${JSON.stringify(answers)}`).to.have.length(HOSTS - 1);
        winners += answers.findIndex((a) => a.ok);
      }
      const schema = new URL(url).searchParams.get('schema')!;
      const [counts] = await schemas.sql(`SELECT count(*)::int AS events, count(DISTINCT data)::int AS distinct FROM "${schema}".events`);
      expect(counts).to.deep.equal({ events: ROUNDS, distinct: ROUNDS });
      console.log(`      winners by round (host index): ${winners}`);
    });
  });
}
