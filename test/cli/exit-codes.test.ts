import { expect } from 'chai';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { tempDir } from '../helpers/temp';
import { OSIS_BIN, osis } from './run-osis';

/** Exit codes and messages as the contract says (issue: "Real clients and real files"). */
describe('CLI: exit codes and messages', function () {
  this.timeout(60_000);

  it('osis with no command is a usage error: help on stderr, exit 2; osis --help and osis help exit 0', () => {
    const bare = osis([]);
    expect(bare.code).to.equal(2);
    expect(bare.stdout).to.equal('');
    expect(bare.stderr).to.match(/^Usage: osis \[options\] \[command\]/);
    expect(osis(['--store', 'memory:']).code).to.equal(2);
    for (const args of [['--help'], ['help'], ['help', 'get'], ['get', '--help']]) {
      const run = osis(args);
      expect(run.code, args.join(' ')).to.equal(0);
      expect(run.stdout, args.join(' ')).to.match(/^Usage: osis/);
    }
  });

  it('every command\'s --help shows the global options', () => {
    for (const command of ['get', 'new', 'import', 'serve', 'verify']) {
      const help = osis([command, '--help']).stdout;
      expect(help, command).to.match(/Global Options:[\s\S]*--store <url>[\s\S]*--schema <file>[\s\S]*--durability <mode>/);
    }
  });

  it('import names each bad file with its code once (not "INVALID_INPUT: …: INVALID_INPUT: …")', () => {
    const dir = tempDir();
    const tree = path.join(dir, 'tree', 'user');
    fs.mkdirSync(tree, { recursive: true });
    fs.writeFileSync(path.join(tree, 'u1.otoml'), 'O:\nemail = "a@x"\n');
    fs.writeFileSync(path.join(tree, 'u2.otoml'), 'O:\nemail = "a@x"\n');
    fs.writeFileSync(path.join(tree, 'u3.otoml'), 'O:\nBad-Name = 1\n');
    fs.writeFileSync(path.join(dir, 'osis.toml'), '[types.user]\nunique = ["email"]\n');
    const run = osis(['import', path.join(dir, 'tree'), '--store', `sqlite:${path.join(dir, 'osis.db')}`, '--schema', path.join(dir, 'osis.toml')]);
    expect(run.code).to.equal(1);
    const lines = run.stderr.trim().split('\n');
    expect(lines).to.have.length(2);
    expect(lines[0]).to.match(new RegExp(`^osis: UNIQUE_VIOLATION: ${path.join(tree, 'u2.otoml')}: user\\.email = "a@x" is already used by user/u1$`));
    expect(lines[1]).to.match(new RegExp(`^osis: INVALID_INPUT: ${path.join(tree, 'u3.otoml')}: invalid field name "Bad-Name"`));
    for (const line of lines) expect(line.match(/(INVALID_INPUT|UNIQUE_VIOLATION)/g), line).to.have.length(1);
  });

  it('serve on a port in use fails before it creates anything', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    try {
      const port = (blocker.address() as net.AddressInfo).port;
      const dir = tempDir();
      const run = osis(['serve', '--port', String(port), '--store', `sqlite:${path.join(dir, 'data', 'osis.db')}`], { cwd: dir });
      expect(run.code).to.equal(1);
      expect(run.stderr).to.match(new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: EADDRINUSE`));
      expect(fs.readdirSync(dir)).to.deep.equal([]);
    } finally {
      blocker.close();
    }
  });

  it('a store path that cannot be opened exits 6 (unavailable), promptly', () => {
    const started = Date.now();
    const run = spawnSync(process.execPath, [OSIS_BIN, 'get', 'user', 'u1', '--store', 'sqlite:/proc/nope/x.db'], {
      encoding: 'utf8',
      env: { ...process.env, OSIS_STORE: '' },
      timeout: 10_000,
      killSignal: 'SIGKILL',
    });
    expect(run.signal, `still running after ${Date.now() - started} ms`).to.equal(null);
    expect(run.status, run.stderr).to.equal(6);
    expect(run.stderr).to.match(/^osis: [A-Z_]+: .*\/proc\/nope\/x\.db/);
  });
});
