import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openStore } from '../../src';
import { readSeedFile } from '../../src/api/library/seed';
import { tempDir } from '../helpers/temp';
import { startWorker } from '../helpers/spawn-ts';
import { expectCode } from '../helpers/expect-error';

const SEED_TOML = `
[[user]]
sid = "admin"
name = "Administrator"
email = "admin@example.com"

[[user]]
sid = "ops"
name = "Operations"

[[role]]
sid = "root"
grants = ["all"]
`;

describe('seeding', function () {
  this.timeout(300_000);

  it('creates absent objects once and leaves existing or deleted ones alone', async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'seed.toml'), SEED_TOML);
    const store = await openStore('memory:');
    try {
      const seed = readSeedFile(path.join(dir, 'seed.toml'));
      const users = store.collection('user');
      expect(await users._seed(seed.user)).to.deep.equal({ created: 2, existing: 0 });
      await users._update('admin', { name: 'Changed' });
      await users._delete('ops');
      expect(await users._seed(seed.user)).to.deep.equal({ created: 0, existing: 2 });
      expect(await users._get('admin')).to.include({ name: 'Changed' });
      expect(await users._exists('ops')).to.equal(false);
      expect(await store.log.head()).to.equal(4);
    } finally {
      await store.close();
    }
  });

  it('reads JSON seed files and refuses objects without a sid, writing nothing', async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'seed.json'), JSON.stringify({ user: [{ sid: 'a', n: 1 }] }));
    expect(readSeedFile(path.join(dir, 'seed.json'))).to.deep.equal({ user: [{ sid: 'a', n: 1 }] });
    fs.writeFileSync(path.join(dir, 'bad.toml'), '[[user]]\nname = "no sid"\n');
    expect(() => readSeedFile(path.join(dir, 'bad.toml'))).to.throw(/has no sid/);
    fs.writeFileSync(path.join(dir, 'bad2.toml'), '[[user]\n');
    expect(() => readSeedFile(path.join(dir, 'bad2.toml'))).to.throw(/not valid TOML/);
    const store = await openStore('memory:');
    try {
      await expectCode(store.collection('user')._seed([{ sid: 'ok' }, { sid: '../bad' }]), 'INVALID_INPUT');
      expect(await store.log.head()).to.equal(0);
    } finally {
      await store.close();
    }
  });

  const replicas = 8;
  const runs = Number(process.env.SEED_RACE_RUNS ?? 10);
  it(`leaves exactly one created event per sid when ${replicas} replica processes seed one sqlite store at once (${runs} runs)`, async () => {
    const dir = tempDir();
    const file = path.join(dir, 'seed.json');
    const users = Array.from({ length: 50 }, (_, i) => ({ sid: `u${i}`, email: `u${i}@x`, n: i }));
    fs.writeFileSync(file, JSON.stringify({ user: users, role: [{ sid: 'root' }] }));
    const workers = Array.from({ length: replicas }, () => startWorker('seeder.ts'));
    try {
      for (let run = 0; run < runs; run++) {
        const url = `sqlite:${path.join(dir, `race-${run}.db`)}`;
        const goAt = Date.now() + 300;
        const answers = (await Promise.all(workers.map((w) => w.ask({ url, file, goAt })))).map((line) => JSON.parse(line));
        for (const answer of answers) expect(answer.error, `run ${run}`).to.equal(undefined);
        expect(answers.reduce((sum, a) => sum + a.created, 0), `run ${run}`).to.equal(51);
        const store = await openStore(url, { schema: { types: { user: { unique: ['email'] } } } });
        try {
          const events = await store.log.readAll(1);
          expect(events, `run ${run}`).to.have.length(51);
          expect(new Set(events.map((e) => `${e.type}/${e.sid}`)).size).to.equal(51);
          expect(events.every((e) => e.kind === 'created' && e.version === 1)).to.equal(true);
        } finally {
          await store.close();
        }
      }
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
    }
  });
});
