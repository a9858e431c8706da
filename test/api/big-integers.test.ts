import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openStore } from '../../src';
import { importTree } from '../../src/migrate';
import { readSeedFile } from '../../src/api/library/seed';
import { osis } from '../cli/run-osis';
import { tempDir } from '../helpers/temp';
import { startTestServer } from '../service/helpers';

/**
 * One rule for big integers at every entry point: an integer literal beyond ±(2^53 − 1), in JSON or TOML
 * text, is refused with INVALID_INPUT naming it, and nothing is written. Before, the CLI and the service
 * stored 9223372036854775807 as 9223372036854776000 and `import` stored 18446744073709551617 as 1.
 */
const TOO_BIG = ['9007199254740992', '-9007199254740992', '9223372036854775807', '9223372036854775808', '-9223372036854775809', '18446744073709551617', '340282366920938463463374607431768211457'];
const REFUSED = /integer -?\d+ is beyond ±\(2\^53 − 1\)/;

describe('big integers: refused beyond ±(2^53 − 1) at every entry point, never rounded or wrapped', function () {
  this.timeout(60_000);

  it('import refuses each (2^53, 2^63 − 1, 2^63, below −2^63, 2^64 + 1, 2^128 + 1) naming the file and writes nothing', async () => {
    const root = path.join(tempDir(), 'tree');
    fs.mkdirSync(path.join(root, 'thing'), { recursive: true });
    TOO_BIG.forEach((n, i) => fs.writeFileSync(path.join(root, 'thing', `big${i}.otoml`), `O:\nx = ${n}\n`));
    fs.writeFileSync(path.join(root, 'thing', 'fine.otoml'), 'O:\nx = 9007199254740991\ny = -9007199254740991\nz = 1e19\n');
    const store = await openStore('memory:');
    try {
      const report = await importTree(store, root);
      expect(report.created).to.equal(1);
      expect(report.bad.map((b) => path.basename(b.path))).to.deep.equal(TOO_BIG.map((_, i) => `big${i}.otoml`));
      for (const bad of report.bad) expect(bad.message).to.match(REFUSED);
      expect(await store.collection('thing')._get('fine')).to.deep.equal({ sid: 'fine', x: 9007199254740991, y: -9007199254740991, z: 1e19 });
      expect((await store.stats()).head).to.equal(1);
    } finally {
      await store.close();
    }
  });

  it('seed files refuse them in TOML and in JSON, before anything is written', () => {
    const dir = tempDir();
    for (const n of TOO_BIG) {
      fs.writeFileSync(path.join(dir, 's.toml'), `[[thing]]\nsid = "a"\nx = ${n}\n`);
      expect(() => readSeedFile(path.join(dir, 's.toml')), n).to.throw(REFUSED);
      fs.writeFileSync(path.join(dir, 's.json'), `{"thing":[{"sid":"a","x":${n}}]}`);
      expect(() => readSeedFile(path.join(dir, 's.json')), n).to.throw(REFUSED);
    }
  });

  it('the CLI refuses them in JSON arguments (exit 2) and writes nothing; a float literal such as 1e19 is a float', () => {
    const url = `sqlite:${path.join(tempDir(), 'osis.db')}`;
    for (const n of ['9223372036854775807', '18446744073709551617', '-9007199254740993']) {
      const run = osis(['new', 'thing', `{"x":${n}}`, '--store', url]);
      expect(run.code, run.stderr).to.equal(2);
      expect(run.stderr).to.match(/^osis: INVALID_INPUT: JSON: integer -?\d+ is beyond ±\(2\^53 − 1\)/);
    }
    expect(osis(['new', 'thing', '{"x":1e19,"y":9007199254740991}', '--sid', 't1', '--store', url]).code).to.equal(0);
    expect(JSON.parse(osis(['get', 'thing', 't1', '--store', url]).stdout)).to.deep.equal({ sid: 't1', x: 1e19, y: 9007199254740991 });
    expect(JSON.parse(osis(['stats', '--store', url]).stdout).head).to.equal(1);
  });

  it('the JSON-RPC service refuses them with -32602 naming the integer, and writes nothing', async () => {
    const t = await startTestServer();
    try {
      const body = '{"jsonrpc":"2.0","id":7,"method":"thing_new","params":{"object":{"x":9223372036854775807}}}';
      const { body: response } = await t.post(body);
      expect(response.id).to.equal(7);
      expect(response.error.code).to.equal(-32602);
      expect(response.error.message).to.match(REFUSED);
      expect(response.error.data).to.include({ code: 'INVALID_INPUT', limit: 'integer' });
      const batch = await t.post(`[${body},{"jsonrpc":"2.0","id":8,"method":"stats"}]`);
      expect(batch.body.error.code).to.equal(-32602);
      const stats = await t.call('stats');
      expect(stats.result.head).to.equal(0);
    } finally {
      await t.close();
    }
  });

  it('through the library, a JS number is kept as the double it is; on the file log an integral one past 2^53 is a TOML float that reads back the same', async () => {
    const dir = tempDir();
    const store = await openStore(`file:${path.join(dir, 'log')}`);
    try {
      await store.collection('thing')._new({ x: 2 ** 60, y: -(2 ** 70) }, { sid: 't' });
      const segment = fs.readdirSync(path.join(dir, 'log')).find((f) => f.endsWith('.otoml')) as string;
      expect(fs.readFileSync(path.join(dir, 'log', segment), 'utf8')).to.include('x = 1.152921504606847e+18\ny = -1.1805916207174113e+21\n');
    } finally {
      await store.close();
    }
    const again = await openStore(`file:${path.join(dir, 'log')}`);
    try {
      expect(await again.collection('thing')._get('t')).to.deep.equal({ sid: 't', x: 2 ** 60, y: -(2 ** 70) });
    } finally {
      await again.close();
    }
  });
});
