import { expect } from 'chai';
import * as path from 'node:path';
import { openStore, type Store } from '../../src';
import { exitCodeFor } from '../../src/api/cli/exit-codes';
import { toRpcError } from '../../src/api/service/errors';
import { NoSpaceError } from '../../src/log/errors';
import { nodeIo, setFileIo, type FileIo } from '../../src/log/file-io';
import { resultOf, startTestServer } from '../service/helpers';
import { tempDir } from '../helpers/temp';
import { expectProjectionsMatchLog } from './helpers/parity';

const SCHEMA = { types: { user: { index: ['n'], unique: ['email'], text: ['name'] } } };

/** Fill a database up to its current size: SQLite answers SQLITE_FULL past `max_page_count`, as on a full disk. */
function capDatabase(store: Store, extraPages = 0): () => void {
  const db = store.projectionEngine.db;
  const pages = db.pragma('page_count', { simple: true }) as number;
  db.pragma(`max_page_count = ${pages + extraPages}`);
  return () => void db.pragma('max_page_count = 1073741823');
}

/** Write until the store refuses; returns the sids acknowledged and the refusal's code. */
async function writeUntilRefused(store: Store, prefix: string): Promise<{ acked: string[]; code: string }> {
  const acked: string[] = [];
  for (let i = 0; i < 5000; i++) {
    try {
      await store.collection('user')._new({ n: i, email: `${prefix}${i}@e`, name: `${'word '.repeat(200)}${i}` }, { sid: `${prefix}${i}` });
      acked.push(`${prefix}${i}`);
    } catch (error) {
      return { acked, code: (error as { code?: string }).code ?? 'ERROR' };
    }
  }
  throw new Error('the store never ran out of space');
}

/** Every read path answers, or says NO_SPACE; never CORRUPT. */
async function readEverything(store: Store): Promise<string[]> {
  const codes: string[] = [];
  const attempt = async (read: () => Promise<unknown>) => {
    try {
      await read();
      codes.push('ok');
    } catch (error) {
      codes.push((error as { code?: string }).code ?? 'ERROR');
    }
  };
  await attempt(() => store.log.readAll(1));
  await attempt(() => store.collection('user')._get('a0'));
  await attempt(() => store.collection('user')._list({ limit: 10 }));
  await attempt(() => store.collection('user')._find({ text: 'word' }));
  await attempt(() => store.stats());
  return codes;
}

describe('disk full: said plainly as NO_SPACE, never as corruption, and recovered from once space is freed', function () {
  this.timeout(120_000);

  it('sqlite: a write on a full database is NO_SPACE, reads go on, and writes work again once space is freed', async () => {
    const url = `sqlite:${path.join(tempDir(), 'osis.db')}`;
    const store = await openStore(url, { schema: SCHEMA });
    await store.collection('user')._new({ n: -1, email: 'first@e', name: 'first' }, { sid: 'a0' });
    const free = capDatabase(store, 8);
    const { acked, code } = await writeUntilRefused(store, 'b');
    expect(code).to.equal('NO_SPACE');
    expect(await readEverything(store)).to.not.include('CORRUPT');
    free();
    await store.collection('user')._new({ n: 1e6, email: 'after@e', name: 'after' }, { sid: 'after' });
    await store.close();
    const reopened = await openStore(url, { schema: SCHEMA });
    try {
      const sids = new Set((await reopened.log.readAll(1)).map((e) => e.sid));
      for (const sid of ['a0', ...acked, 'after']) expect(sids.has(sid), sid).to.equal(true);
      expect((await reopened.verify()).ok).to.equal(true);
      await expectProjectionsMatchLog(reopened, 'sqlite after a full disk');
    } finally {
      await reopened.close();
    }
  });

  it('file: a full sidecar never makes a read report CORRUPT; every acknowledged write is there once space is freed', async () => {
    const url = `file:${path.join(tempDir(), 'log')}`;
    const store = await openStore(url, { schema: SCHEMA });
    await store.collection('user')._new({ n: -1, email: 'first@e', name: 'first' }, { sid: 'a0' });
    const free = capDatabase(store);
    const acked: string[] = [];
    const codes = new Set<string>();
    for (let i = 0; i < 300; i++) {
      try {
        await store.collection('user')._new({ n: i, email: `c${i}@e`, name: `${'word '.repeat(200)}${i}` }, { sid: `c${i}` });
        acked.push(`c${i}`);
      } catch (error) {
        codes.add((error as { code?: string }).code ?? 'ERROR');
      }
      if (i % 50 === 49) for (const c of await readEverything(store)) codes.add(c);
    }
    expect([...codes], 'every answer on a full sidecar').to.not.include('CORRUPT');
    expect([...codes].filter((c) => c !== 'ok' && c !== 'NO_SPACE'), 'only ok or NO_SPACE').to.deep.equal([]);
    expect(codes.has('NO_SPACE'), 'the full sidecar was noticed').to.equal(true);
    free();
    expect(await readEverything(store)).to.deep.equal(['ok', 'ok', 'ok', 'ok', 'ok']);
    const sids = new Set((await store.log.readAll(1)).map((e) => e.sid));
    for (const sid of ['a0', ...acked]) expect(sids.has(sid), sid).to.equal(true);
    await store.close();
    const reopened = await openStore(url, { schema: SCHEMA });
    try {
      expect((await reopened.verify()).ok).to.equal(true);
      await expectProjectionsMatchLog(reopened, 'file after a full sidecar');
    } finally {
      await reopened.close();
    }
  });

  it('file: ENOSPC on the log segment is NO_SPACE for the write (exit 6 on the CLI, -32005 over JSON-RPC)', async () => {
    const t = await startTestServer({ storeUrl: `file:${path.join(tempDir(), 'log')}` });
    try {
      resultOf(await t.call('user_new', { object: { name: 'before' }, sid: 'before' }));
      const enospc: FileIo = {
        ...nodeIo,
        writeSync: () => {
          throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28 });
        },
      };
      const restore = setFileIo(enospc);
      let response;
      try {
        response = await t.call('user_new', { object: { name: 'full' }, sid: 'full' });
      } finally {
        restore();
      }
      expect(response.error.code).to.equal(-32005);
      expect(response.error.data.code).to.equal('NO_SPACE');
      expect(response.error.message).to.match(/disk is full/);
      resultOf(await t.call('user_new', { object: { name: 'after' }, sid: 'after' }));
      expect(resultOf(await t.call('user_list')).items).to.deep.equal(['after', 'before']);
    } finally {
      await t.close();
    }
    expect(exitCodeFor(new NoSpaceError('full'))).to.equal(6);
    expect(exitCodeFor(Object.assign(new Error('raw'), { code: 'SQLITE_FULL' }))).to.equal(6);
    expect(toRpcError(Object.assign(new Error('raw'), { code: 'ENOSPC' })).code).to.equal(-32005);
  });
});
