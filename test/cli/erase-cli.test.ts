import { expect } from 'chai';
import Database from 'better-sqlite3';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tempDir } from '../helpers/temp';
import { osis } from './run-osis';
import { assertDistIsCurrent } from '../reliability/helpers/dist';
import { PgSchemas, pgUrl } from '../backends/postgres/pg-fixture';

const SCHEMA = `[types.user]
unique = ["email"]
text = ["name"]
personal = ["name", "email"]
`;

describe('osis erase, verify --erased and --keys (built CLI)', function () {
  this.timeout(60_000);
  before(assertDistIsCurrent);

  it('erases, answers NOT_FOUND after, keeps history without personal values, and verify --erased finds a planted copy', () => {
    const cwd = tempDir('osis-erase-cli-');
    fs.writeFileSync(path.join(cwd, 'osis.toml'), SCHEMA);
    const store = ['--store', `file:${path.join(cwd, 'log')}`];
    expect(osis([...store, 'new', 'user', '{"name":"Quintus Vellamy","email":"quintus@vellamy.example"}', '--sid', 'q1'], { cwd }).code).to.equal(0);
    const erased = osis([...store, 'erase', 'user', 'q1', '--reason', 'request 7', '--actor', 'dpo'], { cwd });
    expect(erased.code, erased.stderr).to.equal(0);
    expect(JSON.parse(erased.lines[0])).to.deep.equal({ erased: { type: 'user', sid: 'q1' } });
    const get = osis([...store, 'get', 'user', 'q1'], { cwd });
    expect(get.code).to.equal(3);
    expect(get.stderr).to.match(/^osis: NOT_FOUND: /);
    const again = osis([...store, 'erase', 'user', 'q1'], { cwd });
    expect(again.code).to.equal(3);
    expect(again.stderr).to.include('already erased');
    expect(osis([...store, 'erase', 'user', 'nobody'], { cwd }).code).to.equal(3);
    const plain = osis([...store, 'erase', 'note', 'n1'], { cwd });
    expect(plain.code).to.equal(2);
    expect(plain.stderr).to.include('declares no personal fields');
    const history = osis([...store, 'history', 'user', 'q1'], { cwd }).lines.map((l) => JSON.parse(l));
    expect(history.map((e) => e.kind)).to.deep.equal(['created', 'erased']);
    expect(history[1].meta).to.deep.equal({ actor: 'dpo', reason: 'request 7' });
    expect(JSON.stringify(history)).to.not.include('Vellamy');

    const verify = osis([...store, 'verify', '--erased'], { cwd });
    expect(verify.code, verify.stderr).to.equal(0);
    const report = JSON.parse(verify.lines[0]);
    expect(report).to.deep.include({ ok: true });
    expect(report.erased).to.deep.include({ objects: 1, hits: [] });
    fs.writeFileSync(path.join(cwd, 'backup.txt'), 'name: Quintus Vellamy\n');
    const found = osis([...store, 'verify', '--erased', '--scan', path.join(cwd, 'backup.txt')], { cwd });
    expect(found.code).to.equal(5);
    expect(found.stderr).to.match(/backup\.txt: offset 6: a personal value of erased user\/q1/);
  });

  it('--keys keeps the data keys in a separate file, which the store needs to read personal values', () => {
    const cwd = tempDir('osis-keys-cli-');
    fs.writeFileSync(path.join(cwd, 'osis.toml'), SCHEMA);
    const db = path.join(cwd, 'store.db');
    const keys = path.join(cwd, 'secret', 'keys.db');
    const args = ['--store', `sqlite:${db}`, '--keys', `sqlite:${keys}`];
    expect(osis([...args, 'new', 'user', '{"name":"Kara Keyed","email":"kara@example.org"}', '--sid', 'k1'], { cwd }).code).to.equal(0);
    expect(fs.existsSync(keys)).to.equal(true);
    const store = new Database(db, { readonly: true });
    try {
      expect(store.prepare("SELECT name FROM sqlite_master WHERE name = 'osis_keys'").get()).to.equal(undefined);
      expect(store.prepare('SELECT data FROM events').pluck().get()).to.include('$enc').and.not.include('Kara');
    } finally {
      store.close();
    }
    expect(JSON.parse(osis([...args, 'get', 'user', 'k1'], { cwd }).lines[0])).to.deep.equal({ sid: 'k1', name: 'Kara Keyed', email: 'kara@example.org' });
    const serve = osis([...args, 'serve', '--port', '0'], { cwd });
    expect(serve.code).to.equal(2);
    expect(serve.stderr).to.include('--keys');
  });

  it('lists erase and verify --erased in the help', () => {
    const help = osis(['--help']);
    expect(help.stdout).to.match(/erase \[options\] <type> <sid>/);
    expect(help.stdout).to.include('--keys <url>');
    expect(osis(['verify', '--help']).stdout).to.include('--erased');
  });

  const pg = pgUrl();
  if (pg) {
    const schemas = new PgSchemas(pg);
    after(() => schemas.dropAll());

    it('on postgres: erase works, verify --erased says no file of the store was scanned, and --keys must be a postgres:// URL', () => {
      const cwd = tempDir('osis-erase-pg-');
      fs.writeFileSync(path.join(cwd, 'osis.toml'), SCHEMA);
      const store = ['--store', schemas.freshUrl()];
      expect(osis([...store, 'new', 'user', '{"name":"Quintus Vellamy","email":"quintus@vellamy.example"}', '--sid', 'q1'], { cwd }).code).to.equal(0);
      const erased = osis([...store, 'erase', 'user', 'q1', '--reason', 'request 7'], { cwd });
      expect(erased.code, erased.stderr).to.equal(0);
      expect(osis([...store, 'get', 'user', 'q1'], { cwd }).code).to.equal(3);
      const history = osis([...store, 'history', 'user', 'q1'], { cwd }).lines.map((l) => JSON.parse(l));
      expect(history.map((e) => e.kind)).to.deep.equal(['created', 'erased']);
      expect(JSON.stringify(history)).to.not.include('Vellamy');
      const verify = osis([...store, 'verify', '--erased'], { cwd });
      expect(verify.code, verify.stderr).to.equal(0);
      const report = JSON.parse(verify.lines[0]);
      expect(report.erased).to.deep.include({ objects: 1, files: 0, hits: [] });
      expect(report.erased.unscanned).to.include('no file of the store was scanned');
      expect(verify.stderr).to.include('osis: note: ').and.include('no file of the store was scanned');
      const sqliteKeys = osis([...store, '--keys', path.join(cwd, 'keys.db'), 'get', 'user', 'q1'], { cwd });
      expect(sqliteKeys.code).to.equal(2);
      expect(sqliteKeys.stderr).to.include('INVALID_INPUT').and.include('not shared between hosts');
      expect(fs.existsSync(path.join(cwd, 'keys.db'))).to.equal(false);
    });
  }
});
