import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openStore } from '../../src';
import { copyLog, exportTree, importTree } from '../../src/migrate';
import { osis } from '../cli/run-osis';
import { expectCode } from '../helpers/expect-error';
import { tempDir } from '../helpers/temp';
import { startTestServer } from '../service/helpers';

describe('import, copy and export never alter or half-write data', function () {
  this.timeout(120_000);

  it('refuses lone surrogates at every edge of the library: values, keys, filters, text, idempotency keys', async () => {
    const store = await openStore(`sqlite:${path.join(tempDir(), 'osis.db')}`);
    const notes = store.collection('note');
    try {
      await expectCode(notes._new({ title: 'a\ud800b' }), 'INVALID_INPUT');
      await expectCode(notes._new({ title: 'fine', nested: { ['k\udc00']: 1 } }), 'INVALID_INPUT');
      await expectCode(notes._new({ list: ['ok', '\udfff'] }), 'INVALID_INPUT');
      await notes._new({ title: 'pair 😀 ok' }, { sid: 'n1' });
      await expectCode(notes._update('n1', { title: '\ud83d' }), 'INVALID_INPUT');
      await expectCode(notes._new({ title: 'x' }, { meta: { actor: '\ud800' } }), 'INVALID_INPUT');
      await expectCode(notes._new({ title: 'x' }, { idempotencyKey: 'k\ud800' }), 'INVALID_INPUT');
      await expectCode(notes._find({ filter: { title: '\ud800' } }), 'INVALID_INPUT');
      await expectCode(notes._find({ text: 'a\ud800' }), 'INVALID_INPUT');
      expect(await store.log.head(), 'nothing written').to.equal(1);
      expect(await notes._get('n1')).to.deep.equal({ sid: 'n1', title: 'pair 😀 ok' });
    } finally {
      await store.close();
    }
  });

  it('refuses a lone surrogate (-32602) and a body that is not UTF-8 (-32700) over JSON-RPC, writing nothing', async () => {
    const t = await startTestServer();
    try {
      const escaped = await t.post('{"jsonrpc":"2.0","id":1,"method":"note_new","params":{"object":{"title":"\\ud800"}}}');
      expect(escaped.body.error.code).to.equal(-32602);
      const bytes = Buffer.concat([Buffer.from('{"jsonrpc":"2.0","id":2,"method":"note_new","params":{"object":{"title":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}}}')]);
      const response = await fetch(`${t.url}/rpc`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: bytes });
      const body: any = await response.json();
      expect(body.error.code).to.equal(-32700);
      expect(body.error.message).to.match(/UTF-8/);
      expect((await t.call('stats')).result.head).to.equal(0);
    } finally {
      await t.close();
    }
  });

  it('refuses a seed file that is not UTF-8 on the CLI (exit 2), writing nothing', () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'seed.json'), Buffer.concat([Buffer.from('{"note":[{"sid":"a","title":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}]}')]));
    const run = osis(['seed', 'seed.json', '--store', 'sqlite:./o.db'], { cwd: dir });
    expect(run.code, run.stderr).to.equal(2);
    expect(run.stderr).to.match(/not valid UTF-8/);
  });

  it('copy resumes a copy that stopped part way: the destination prefix is checked, the rest copied, and it verifies', async () => {
    const source = await openStore(`sqlite:${path.join(tempDir(), 'src.db')}`);
    const destUrl = `file:${path.join(tempDir(), 'log')}`;
    try {
      const notes = source.collection('note');
      for (let i = 0; i < 5201; i += 500) await Promise.all(Array.from({ length: Math.min(500, 5201 - i) }, (_, j) => notes._new({ n: i + j }, { sid: `n${i + j}` })));
      // A copy that stopped after its first batch of 5,000 (as when the destination refused a later event).
      const dest = await openStore(destUrl);
      await dest.importEvents(await source.log.readAll(1, { limit: 5000 }));
      await dest.close();
      const report = await copyLog(source, destUrl);
      expect(report).to.include({ events: 5201, head: 5201, verified: true });
      const copied = await openStore(destUrl);
      expect((await copied.log.readAll(5195)).map((e) => e.sid)).to.deep.equal(['n5194', 'n5195', 'n5196', 'n5197', 'n5198', 'n5199', 'n5200']);
      await copied.close();
      expect((await copyLog(source, destUrl)).events, 'a second run has nothing left to copy').to.equal(5201);
    } finally {
      await source.close();
    }
  });

  it('export writes into a temporary folder and renames it: a failed export leaves no partial tree', async () => {
    const store = await openStore('memory:');
    for (let i = 0; i < 20; i++) await store.collection('note')._new({ n: i }, { sid: `n${i}` });
    const parent = tempDir();
    const out = path.join(parent, 'out');
    // The module object itself (a namespace import only has getters), as export-tree reads it at each call.
    const realFs = require('node:fs') as { writeSync: (...a: unknown[]) => number };
    const original = realFs.writeSync;
    let calls = 0;
    realFs.writeSync = (...args: unknown[]) => {
      if (++calls === 8) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      return original(...args);
    };
    try {
      await exportTree(store, out).then(
        () => expect.fail('the export should fail'),
        (error) => expect((error as { code?: string }).code).to.equal('ENOSPC'),
      );
    } finally {
      realFs.writeSync = original;
    }
    expect(fs.readdirSync(parent), 'nothing left: no out, no temporary folder').to.deep.equal([]);
    const report = await exportTree(store, out);
    expect(report.files).to.equal(20);
    expect(fs.readdirSync(path.join(out, 'note'))).to.have.length(20);
    expect(fs.readdirSync(parent)).to.deep.equal(['out']);
    await store.close();
  });

  it('checks the size of an object file before reading it (a 64 MiB file is refused unread)', async () => {
    const tree = tempDir();
    fs.mkdirSync(path.join(tree, 'note'));
    fs.writeFileSync(path.join(tree, 'note', 'ok.otoml'), 'O:\ntitle = "fine"\n');
    const fd = fs.openSync(path.join(tree, 'note', 'huge.otoml'), 'w');
    fs.ftruncateSync(fd, 64 * 1024 * 1024);
    fs.closeSync(fd);
    const store = await openStore('memory:');
    const before = process.memoryUsage().rss;
    const report = await importTree(store, tree);
    const grown = process.memoryUsage().rss - before;
    expect(report.created).to.equal(1);
    expect(report.bad).to.have.length(1);
    expect(report.bad[0].message).to.match(/larger than \d+ bytes/);
    expect(grown, `rss grew ${grown} bytes`).to.be.below(48 * 1024 * 1024);
    await store.close();
  });
});
