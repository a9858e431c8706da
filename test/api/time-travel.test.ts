import { expect } from 'chai';
import Database from 'better-sqlite3';
import * as path from 'node:path';
import { openStore, type Store } from '../../src';
import { tempDir } from '../helpers/temp';
import { osis } from '../cli/run-osis';

const SCHEMA = { types: { user: { index: ['country'], text: ['name'] } } };

describe('time travel', function () {
  this.timeout(60_000);
  let store: Store;
  let url: string;
  let file: string;
  beforeEach(async () => {
    file = path.join(tempDir(), 'osis.db');
    url = `sqlite:${file}`;
    store = await openStore(url, { schema: SCHEMA });
    const users = store.collection('user');
    await users._new({ name: 'Ann', country: 'be' }, { sid: 'a' }); // 1
    await users._new({ name: 'Bob', country: 'nl' }, { sid: 'b' }); // 2
    await users._update('a', { country: 'nl', name: 'Anna' }); // 3
    await users._delete('b'); // 4
    await users._new({ name: 'Cleo', country: 'be' }, { sid: 'c' }); // 5
  });
  afterEach(() => store.close());

  it('answers _list and _find as of a position, from the log', async () => {
    const users = store.collection('user');
    expect((await users._list({ at: 2 })).items).to.deep.equal(['a', 'b']);
    expect((await users._list({ at: 4 })).items).to.deep.equal(['a']);
    expect((await users._find({ filter: { country: 'be' }, at: 2 })).items).to.deep.equal(['a']);
    expect((await users._find({ filter: { country: 'nl' }, at: 3 })).items).to.deep.equal(['a', 'b']);
    expect((await users._find({ text: 'ann', at: 2 })).items).to.deep.equal(['a']);
    expect((await users._find({ text: 'ann', at: 5 })).items).to.deep.equal([]);
    expect((await users._find_full({ text: 'anna', at: 3 })).items).to.deep.equal([{ sid: 'a', name: 'Anna', country: 'nl' }]);
    expect((await users._list({ at: 0 })).items).to.deep.equal([]);
    expect((await users._list()).items).to.deep.equal(['a', 'c']);
  });

  it('matches the live answers when asked at the head', async () => {
    const users = store.collection('user');
    const head = await store.log.head();
    expect(await users._list_full({ at: head })).to.deep.equal(await users._list_full());
    expect(await users._find({ filter: { country: 'be' }, at: head })).to.deep.equal(await users._find({ filter: { country: 'be' } }));
  });

  it('answers as of a time', async () => {
    const [, , , deleted] = await store.log.readAll(1);
    await new Promise((r) => setTimeout(r, 5));
    await store.collection('user')._new({ name: 'Late' }, { sid: 'z' });
    expect((await store.collection('user')._list({ at: deleted.ts })).items).to.not.include('z');
    expect((await store.collection('user')._list({ at: new Date() })).items).to.include('z');
  });

  it('osis rebuild --to builds an audit snapshot into a separate file and leaves the store alone', async () => {
    await store.close();
    const into = path.join(path.dirname(file), 'audit.db');
    const run = osis(['rebuild', '--to', '2', '--into', into, '--store', url, '--schema', writeSchema()]);
    expect(run.code, run.stderr).to.equal(0);
    expect(JSON.parse(run.stdout)).to.include({ position: 2, objects: 2 });
    const db = new Database(into, { readonly: true });
    expect(db.prepare('SELECT sid FROM objects ORDER BY sid').pluck().all()).to.deep.equal(['a', 'b']);
    db.close();
    expect(osis(['rebuild', '--to', '2', '--into', into, '--store', url]).code).to.equal(2);
    store = await openStore(url, { schema: SCHEMA });
    expect((await store.collection('user')._list()).items).to.deep.equal(['a', 'c']);
  });

  function writeSchema(): string {
    const schemaFile = path.join(path.dirname(file), 'osis.toml');
    require('node:fs').writeFileSync(schemaFile, '[types.user]\nindex = ["country"]\ntext = ["name"]\n');
    return schemaFile;
  }
});
