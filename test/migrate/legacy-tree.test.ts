import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openStore, type Store } from '../../src';
import { exportTree, importTree } from '../../src/migrate';
import { parseObjectFile } from '../../src/api/migrate/legacy-file';
import { tempDir } from '../helpers/temp';
import { expectCode } from '../helpers/expect-error';
import { legacyText, writeLegacyTree } from './legacy-generator';

const COUNT = 3000;

async function allObjects(store: Store, type: string): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.collection(type)._list_full({ limit: 1000, ...(cursor ? { cursor } : {}) });
    out.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor);
  return out;
}

describe('legacy OSIS tree: import and export', function () {
  this.timeout(300_000);
  let store: Store;
  let source: string;
  let expected: Map<string, Record<string, unknown>>;

  before(() => {
    source = path.join(tempDir(), 'legacy');
    expected = writeLegacyTree(source, COUNT);
  });
  beforeEach(async () => {
    store = await openStore(`file:${path.join(tempDir(), 'log')}`, { durability: 'normal' });
  });
  afterEach(async () => store.close());

  it(`imports ${COUNT} files with nested tables, arrays, unicode and quotes, then exports them byte for byte`, async () => {
    const progress: number[] = [];
    const report = await importTree(store, source, { onProgress: (done) => progress.push(done) });
    expect(report.bad).to.deep.equal([]);
    expect(report).to.include({ files: COUNT, created: COUNT, updated: 0, unchanged: 0 });
    expect(progress[progress.length - 1]).to.equal(COUNT);
    for (const type of ['user', 'invoice', 'note_item']) {
      for (const object of await allObjects(store, type)) expect(object).to.deep.equal(expected.get(`${type}/${object.sid}`));
    }
    const out = path.join(tempDir(), 'exported');
    const exported = await exportTree(store, out);
    expect(exported.files).to.equal(COUNT);
    for (const [key, object] of expected) {
      const [type, sid] = key.split('/');
      const text = fs.readFileSync(path.join(out, type, `${sid}.otoml`), 'utf8');
      expect(text, key).to.equal(legacyText(object));
      expect(parseObjectFile(text)).to.deep.equal(object);
    }
    const again = await openStore(`file:${path.join(tempDir(), 'log2')}`, { durability: 'normal' });
    try {
      const second = await importTree(again, out);
      expect(second).to.include({ files: COUNT, created: COUNT });
      expect(await allObjects(again, 'user')).to.deep.equal(await allObjects(store, 'user'));
    } finally {
      await again.close();
    }
  });

  it('is idempotent: a second import creates nothing, a changed file is replaced', async () => {
    const small = path.join(tempDir(), 'small');
    fs.mkdirSync(path.join(small, 'user'), { recursive: true });
    fs.writeFileSync(path.join(small, 'user', 'u1.otoml'), legacyText({ name: 'Ann', sid: 'u1' }));
    fs.writeFileSync(path.join(small, 'user', 'u2.otoml'), legacyText({ name: 'Bob' }));
    expect(await importTree(store, small)).to.include({ created: 2, unchanged: 0 });
    const head = await store.log.head();
    expect(await importTree(store, small)).to.include({ created: 0, updated: 0, unchanged: 2 });
    expect(await store.log.head()).to.equal(head);
    fs.writeFileSync(path.join(small, 'user', 'u2.otoml'), legacyText({ name: 'Bobby' }));
    expect(await importTree(store, small)).to.include({ created: 0, updated: 1, unchanged: 1 });
    expect(await store.collection('user')._get('u2')).to.deep.equal({ name: 'Bobby', sid: 'u2' });
  });

  it('reports bad files with their path and imports the rest', async () => {
    const tree = path.join(tempDir(), 'bad');
    const put = (rel: string, content: string | Buffer) => {
      fs.mkdirSync(path.dirname(path.join(tree, rel)), { recursive: true });
      fs.writeFileSync(path.join(tree, rel), content);
    };
    put('user/good.otoml', legacyText({ name: 'ok' }));
    put('user/not-toml.otoml', 'O:\nname = = broken\n');
    put('user/no-marker.otoml', 'name = "x"\n');
    put('user/bad name!.otoml', legacyText({ name: 'stem is not a sid' }));
    put('user/bad-field.otoml', legacyText({ Name: 'upper case field' }));
    put('user/not-utf8.otoml', Buffer.from([0x4f, 0x3a, 0x0a, 0x6e, 0x3d, 0x22, 0xff, 0xfe, 0x22, 0x0a]));
    put('user/inf.otoml', 'O:\nx = inf\n');
    put('user/zz/good.otoml', legacyText({ name: 'duplicate sid' }));
    put('Bad-Type/x.otoml', legacyText({ name: 'x' }));
    put('stray.otoml', legacyText({ name: 'x' }));
    put('user/readme.txt', 'not an object file');
    put('.git/config', 'ignored');
    fs.symlinkSync(path.join(tree, 'user'), path.join(tree, 'link'));
    const report = await importTree(store, tree);
    expect(report.created).to.equal(1);
    const bad = Object.fromEntries(report.bad.map((b) => [path.relative(tree, b.path), b.message]));
    expect(Object.keys(bad).sort()).to.deep.equal(
      ['Bad-Type', 'link', 'stray.otoml', 'user/bad name!.otoml', 'user/bad-field.otoml', 'user/zz/good.otoml', 'user/inf.otoml', 'user/no-marker.otoml', 'user/not-toml.otoml', 'user/not-utf8.otoml'].sort(),
    );
    expect(bad['user/no-marker.otoml']).to.match(/not O:/);
    expect(bad['user/not-toml.otoml']).to.match(/not valid TOML/);
    expect(bad['user/bad name!.otoml']).to.match(/invalid sid/);
    expect(bad['user/bad-field.otoml']).to.match(/invalid field name/);
    expect(bad['user/not-utf8.otoml']).to.match(/UTF-8/);
    expect(bad['user/zz/good.otoml']).to.match(/duplicate/);
    expect(bad['Bad-Type']).to.match(/invalid type name/);
    expect(await store.collection('user')._get('good')).to.deep.equal({ name: 'ok', sid: 'good' });
  });

  it('refuses to export into a non-empty directory, writing nothing', async () => {
    await store.collection('user')._new({ name: 'x' }, { sid: 'u1' });
    const out = tempDir();
    fs.writeFileSync(path.join(out, 'keep.txt'), 'x');
    await expectCode(exportTree(store, out), 'INVALID_INPUT');
    expect(fs.readdirSync(out)).to.deep.equal(['keep.txt']);
  });

  it('exports nulls and $-keys so they import back unchanged', async () => {
    const object = { sid: 'n1', gone: null, list: [null, 1], nested: { $null: true, $x: 'dollar', deeper: { v: null } } };
    await store.collection('note')._new(object);
    const out = path.join(tempDir(), 'out');
    await exportTree(store, out);
    const again = await openStore('memory:');
    try {
      await importTree(again, out);
      expect(await again.collection('note')._get('n1')).to.deep.equal(object);
    } finally {
      await again.close();
    }
  });
});
