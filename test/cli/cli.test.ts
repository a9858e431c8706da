import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tempDir } from '../helpers/temp';
import { osis } from './run-osis';

describe('osis CLI', function () {
  this.timeout(60_000);
  let dir: string;
  let store: string;
  beforeEach(() => {
    dir = tempDir();
    store = `sqlite:${path.join(dir, 'osis.db')}`;
  });

  it('creates, reads, updates, finds and deletes through the commands, with --store before or after', () => {
    expect(osis(['--store', store, 'new', 'user', '{"name":"Ann Lee","country":"be"}', '--sid', 'u1']).lines).to.deep.equal([
      '{"sid":"u1","name":"Ann Lee","country":"be"}',
    ]);
    const meta = JSON.parse(osis(['get', 'user', 'u1', '--meta', '--store', store]).stdout);
    expect(meta).to.include({ version: 1, position: 1 });
    expect(JSON.parse(osis(['update', 'user', 'u1', '{"age":30}', '--store', store]).stdout)).to.include({ age: 30 });
    expect(osis(['find', 'user', '--where', 'age>=30', '--where', 'country=be', '--store', store]).lines).to.deep.equal(['u1']);
    expect(osis(['find', 'user', '--text', 'lee', '--store', store]).lines).to.deep.equal(['u1']);
    expect(JSON.parse(osis(['list', 'user', '--full', '--store', store]).lines[0])).to.include({ sid: 'u1', age: 30 });
    expect(osis(['exists', 'user', 'u1', '--store', store]).lines).to.deep.equal(['true']);
    expect(osis(['delete', 'user', 'u1', '--store', store]).code).to.equal(0);
    expect(osis(['exists', 'user', 'u1', '--store', store]).lines).to.deep.equal(['false']);
    const history = osis(['history', 'user', 'u1', '--store', store]).lines.map((l) => JSON.parse(l));
    expect(history.map((e) => e.kind)).to.deep.equal(['created', 'updated', 'deleted']);
    expect(osis(['log', '--from', '2', '--store', store]).lines.map((l) => JSON.parse(l).position)).to.deep.equal([2, 3]);
  });

  it('reads the store from OSIS_STORE and the schema from ./osis.toml', () => {
    fs.writeFileSync(path.join(dir, 'osis.toml'), '[types.user]\nunique = ["email"]\n');
    const env = { OSIS_STORE: store };
    expect(osis(['new', 'user', '{"email":"a@x"}'], { cwd: dir, env }).code).to.equal(0);
    const clash = osis(['new', 'user', '{"email":"a@x"}'], { cwd: dir, env });
    expect(clash.code).to.equal(4);
    expect(clash.stderr).to.match(/^osis: UNIQUE_VIOLATION: user\.email/);
  });

  it('uses the contract exit codes and osis: CODE: message on stderr', () => {
    osis(['new', 'user', '{"n":1}', '--sid', 'u1', '--store', store]);
    const cases: [string[], number, RegExp][] = [
      [['get', 'user', 'missing'], 3, /^osis: NOT_FOUND: /],
      [['set', 'user', '{"sid":"u1"}', '--expect-version', '7'], 4, /^osis: VERSION_CONFLICT: /],
      [['new', 'user', '{bad json'], 2, /^osis: INVALID_INPUT: JSON is not valid JSON/],
      [['new', 'user', '{"__proto__":{"x":1}}'], 2, /__proto__/],
      [['new', '../etc', '{}'], 2, /invalid type name/],
      [['list', 'user', '--limit', '0'], 2, /--limit/],
      [['find', 'user', '--where', 'x;drop=1'], 2, /--where/],
      [['get', 'user', 'u1', '--at', 'yesterday'], 2, /at: expected a log position/],
      [['no-such-command'], 2, /unknown command/],
    ];
    for (const [args, code, stderr] of cases) {
      const run = osis([...args, '--store', store]);
      expect(run.code, args.join(' ')).to.equal(code);
      expect(run.stderr, args.join(' ')).to.match(stderr);
      expect(run.stdout, args.join(' ')).to.equal('');
    }
    expect(osis(['log', '--store', store]).lines).to.have.length(1);
  });

  it('reads JSON from stdin with -, prints page cursors on stderr, and answers --help', () => {
    expect(osis(['new', 'note', '-', '--sid', 'n1', '--store', store], { input: '{"body":"from stdin"}' }).code).to.equal(0);
    osis(['new', 'note', '{}', '--sid', 'n2', '--store', store]);
    const page = osis(['list', 'note', '--limit', '1', '--store', store]);
    expect(page.lines).to.deep.equal(['n1']);
    const cursor = /next_cursor: (\S+)/.exec(page.stderr)![1];
    expect(osis(['list', 'note', '--limit', '1', '--cursor', cursor, '--store', store]).lines).to.deep.equal(['n2']);
    const help = osis(['--help']);
    expect(help.code).to.equal(0);
    for (const command of ['new', 'get', 'set', 'update', 'delete', 'exists', 'list', 'find', 'history', 'log', 'stats', 'verify']) {
      expect(help.stdout).to.match(new RegExp(`\\n  ${command} `));
    }
  });

  it('reports stats, rebuilds and verifies (exit 5 when the projection disagrees with the log)', () => {
    osis(['new', 'user', '{"n":1}', '--sid', 'u1', '--store', store]);
    osis(['new', 'user', '{"n":2}', '--sid', 'u2', '--store', store]);
    expect(JSON.parse(osis(['stats', '--store', store]).stdout)).to.deep.include({ head: 2, objects: { user: 2 } });
    expect(JSON.parse(osis(['rebuild', '--store', store]).stdout)).to.include({ events: 2, objects: 2 });
    expect(osis(['verify', '--store', store]).code).to.equal(0);
    const Database = require('better-sqlite3');
    const db = new Database(path.join(dir, 'osis.db'));
    db.prepare("UPDATE objects SET data = '{\"sid\":\"u1\",\"n\":99}' WHERE sid = 'u1'").run();
    db.close();
    const broken = osis(['verify', '--store', store]);
    expect(broken.code).to.equal(5);
    expect(broken.stderr).to.match(/osis: CORRUPT: projection user\/u1/);
  });

  it('refuses to serve on a non-loopback address without a token (exit 2)', () => {
    const run = osis(['serve', '--host', '0.0.0.0', '--port', '0', '--store', store], { env: { OSIS_TOKEN: '' } });
    expect(run.code).to.equal(2);
    expect(run.stderr).to.match(/osis: INVALID_INPUT: .*token/);
  });
});
