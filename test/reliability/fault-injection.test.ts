import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect } from 'chai';
import { openStore, type Store } from '../../src';
import { nodeIo, setFileIo, type FileIo } from '../../src/log/file-io';
import { tempDir } from '../helpers/temp';
import { figure } from './helpers/config';
import { expectProjectionsMatchLog } from './helpers/parity';

const SCHEMA = { types: { user: { index: ['n'], unique: ['email'], text: ['name'] } } };
type Kind = 'EIO' | 'ENOSPC' | 'short write';

/** File operations that count every call and fail from the `failAt`th on (once, or forever after). */
function faultyIo(failAt: number, kind: Kind, forever: boolean, seen: { calls: string[]; hit?: string }): FileIo {
  const error = (code: string) => Object.assign(new Error(`${code}: injected fault`), { code, errno: code === 'EIO' ? -5 : -28 });
  const wrapped: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(nodeIo) as [keyof FileIo, (...args: unknown[]) => unknown][]) {
    wrapped[name] = (...args: unknown[]) => {
      seen.calls.push(name);
      const n = seen.calls.length;
      const firing = n === failAt || (forever && n > failAt);
      if (firing && kind === 'short write' && n === failAt) {
        if (name !== 'writeSync') return fn(...args);
        seen.hit = name;
        const [fd, buffer, offset, length, position] = args as [number, Buffer, number, number, number | null];
        return nodeIo.writeSync(fd, buffer, offset, Math.max(1, Math.floor(length / 2)), position);
      }
      if (firing) {
        seen.hit ??= name;
        const code = kind === 'EIO' ? 'EIO' : 'ENOSPC';
        if (name === 'fdatasync') {
          const callback = args[1] as (e: Error) => void;
          setImmediate(() => callback(error(code)));
          return undefined;
        }
        throw error(code);
      }
      return fn(...args);
    };
  }
  return wrapped as unknown as FileIo;
}

async function settle<T>(promise: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; code: string }> {
  try {
    return { ok: true, value: await promise };
  } catch (error) {
    return { ok: false, code: (error as { code?: string }).code ?? 'ERROR' };
  }
}

describe('fault injection: the file backend under EIO, ENOSPC and short writes at every call of an append', function () {
  this.timeout(0);
  let base: string;

  before(async () => {
    base = path.join(tempDir(), 'base');
    const store = await openStore(`file:${base}`, { schema: SCHEMA, durability: 'full' });
    for (let i = 0; i < 10; i++) await store.collection('user')._new({ n: i, email: `u${i}@e`, name: `user ${i}` }, { sid: `u${i}` });
    await store.close();
  });

  /** One append (with its projections) under a fault plan; then a second append; then a clean reopen. */
  async function trial(failAt: number, kind: Kind, forever: boolean) {
    const dir = path.join(tempDir(), 'log');
    fs.cpSync(base, dir, { recursive: true });
    const store: Store = await openStore(`file:${dir}`, { schema: SCHEMA, durability: 'full' });
    const seen: { calls: string[]; hit?: string } = { calls: [] };
    const restore = setFileIo(faultyIo(failAt, kind, forever, seen));
    let first;
    let second;
    try {
      first = await settle(store.collection('user')._new({ n: 100, email: 'target@e', name: 'target' }, { sid: 'target' }));
      second = await settle(store.collection('user')._new({ n: 101, email: 'later@e', name: 'later' }, { sid: 'later' }));
    } finally {
      restore();
      await store.close().catch(() => undefined);
    }
    const reopened = await openStore(`file:${dir}`, { schema: SCHEMA, durability: 'full' });
    try {
      const events = await reopened.log.readAll(1);
      const count = (sid: string) => events.filter((e) => e.sid === sid && e.kind === 'created').length;
      for (let i = 0; i < 10; i++) expect(count(`u${i}`), `earlier acknowledged u${i}`).to.equal(1);
      if (first.ok) expect(count('target'), 'acknowledged target').to.equal(1);
      else expect(count('target'), 'a failed append appears at most once').to.be.at.most(1);
      if (second.ok) expect(count('later'), 'acknowledged later').to.equal(1);
      if (seen.hit === 'fdatasync') expect(second.ok, 'after a failed fdatasync the writer stops acknowledging').to.equal(false);
      expect((await reopened.verify()).problems, 'verify after reopening').to.deep.equal([]);
      await expectProjectionsMatchLog(reopened, `fault ${kind} at call ${failAt}${forever ? ' and after' : ''}`);
      await reopened.collection('user')._new({ n: 102 }, { sid: 'after-reopen' });
    } finally {
      await reopened.close();
    }
    return { first, second, hit: seen.hit, calls: seen.calls };
  }

  it('every call of the append path failing once or forever: an error with nothing acknowledged, or success; every reopen consistent; a failed fdatasync is fail-stop', async () => {
    const clean = await trial(Number.MAX_SAFE_INTEGER, 'EIO', false);
    expect(clean.first.ok && clean.second.ok).to.equal(true);
    const total = clean.calls.length;
    const tally: Record<string, number> = {};
    let trials = 0;
    for (const kind of ['EIO', 'ENOSPC', 'short write'] as Kind[]) {
      for (const forever of [false, true]) {
        for (let n = 1; n <= total; n++) {
          const result = await trial(n, kind, forever);
          trials++;
          const key = `${kind}${forever ? ' forever' : ' once'}: ${result.first.ok ? 'acknowledged' : `error ${result.first.code}`}`;
          tally[key] = (tally[key] ?? 0) + 1;
        }
      }
    }
    figure(
      `fault injection: the path of two appends makes ${total} file calls (${[...new Set(clean.calls)].join(', ')}); ` +
        `N = 1..${total} × {EIO, ENOSPC, short write} × {once, forever} = ${trials} trials, every reopen consistent; ` +
        Object.entries(tally).map(([k, v]) => `${k} ${v}`).join('; '),
    );
  });

  it('the projection writer failing (once, or forever) on sqlite and file: acknowledged writes survive, failed ones leave nothing half-done, reopen consistent', async () => {
    const lines: string[] = [];
    for (const backend of ['sqlite', 'file']) {
      for (const forever of [false, true]) {
        const where = path.join(tempDir(), backend === 'sqlite' ? 'osis.db' : 'log');
        const url = `${backend}:${where}`;
        const store = await openStore(url, { schema: SCHEMA, durability: 'full' });
        await store.collection('user')._new({ n: 0, name: 'before' }, { sid: 'before' });
        const projection = store.projectionEngine.currentState;
        const original = projection.apply.bind(projection);
        let failures = 0;
        projection.apply = (events) => {
          if (forever || failures === 0) {
            failures++;
            throw Object.assign(new Error('disk I/O error (injected)'), { code: 'SQLITE_IOERR_WRITE' });
          }
          return original(events);
        };
        const outcomes = [];
        for (const sid of ['a', 'b']) outcomes.push(await settle(store.collection('user')._new({ n: 1, name: sid }, { sid })));
        projection.apply = original;
        await store.close().catch(() => undefined);
        const reopened = await openStore(url, { schema: SCHEMA });
        try {
          const events = await reopened.log.readAll(1);
          outcomes.forEach((o, i) => {
            const n = events.filter((e) => e.sid === ['a', 'b'][i]).length;
            if (o.ok) expect(n, `${backend}: acknowledged ${['a', 'b'][i]}`).to.equal(1);
            else expect(n, `${backend}: failed ${['a', 'b'][i]}`).to.be.at.most(1);
          });
          expect((await reopened.verify()).problems).to.deep.equal([]);
          await expectProjectionsMatchLog(reopened, `${backend} projection failure`);
        } finally {
          await reopened.close();
        }
        lines.push(`${backend} ${forever ? 'forever' : 'once'}: ${outcomes.map((o) => (o.ok ? 'acknowledged' : `error ${o.code}`)).join(', ')}`);
      }
    }
    figure(`projection writer failures: ${lines.join('; ')}; every reopen consistent`);
  });
});
