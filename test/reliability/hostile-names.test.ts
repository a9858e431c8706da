import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect } from 'chai';
import { OsisError, openStore, type Store } from '../../src';
import { loadSchema } from '../../src/api/library/schema';
import { checkSeed, seedStore } from '../../src/api/library/seed';
import { runCli } from '../../src/api/cli/main';
import { osis } from '../cli/run-osis';
import { captureOutput } from './helpers/capture';
import { tempDir } from '../helpers/temp';
import { figure } from './helpers/config';
import { listTree } from './helpers/fs-snapshot';

/** Names that try to leave the store: traversal, encodings, NUL, absolute paths, length, look-alikes. */
function hostileNames(sandbox: string, canary: string): string[] {
  return [
    '../escape', '../../escape', '..', '.', './x', 'a/../../escape', '..\\escape', '%2e%2e%2fescape', '%2e%2e/escape', '..%2fescape',
    '%252e%252e%252f', '..%c0%afescape', '\u2024\u2024/escape', 'x\0y', '\0', 'escape\0.otoml', `${sandbox}/abs-escape`, canary,
    '/etc/passwd', 'C:\\escape', '\\\\server\\share\\x', '~', '~/escape', '$HOME', '`touch escape`', '$(touch escape)', 'a;touch escape',
    '*', '?', 'a:b', '.hidden', 'a.', 'a'.repeat(64), 'a'.repeat(129), 'a'.repeat(300), 'a'.repeat(100_000),
    'us\u0435r', '\uff55\uff53\uff45\uff52', 'user\u200b', 'user\u202e', '\u210c', '\ufb01le', '\u0130', 'a\nb', 'a b', 'A',
    'con', 'nul', 'aux', 'user.json', 'osis.db', 'osis.db-wal', 'projections.db', '00000000000000000001.otoml', 'lock', 'escape',
  ];
}

/** What may legitimately come back from a hostile name: success or one of the store's typed refusals. */
function expectTypedOutcome(outcome: PromiseSettledResult<unknown>, what: string): void {
  if (outcome.status === 'fulfilled') return;
  const error = outcome.reason as unknown;
  expect(error instanceof OsisError, `${what}: ${String(error)}`).to.equal(true);
  expect(['INVALID_INPUT', 'NOT_FOUND'], `${what}: ${(error as Error).message}`).to.include((error as OsisError).code);
}

/** Backends under test, each with a store location inside the sandbox. */
const BACKENDS: { name: string; url: (storeDir: string) => string; files: RegExp }[] = [
  { name: 'memory', url: () => 'memory:', files: /^$/ },
  { name: 'sqlite', url: (dir) => `sqlite:${path.join(dir, 'osis.db')}`, files: /^osis\.db(-wal|-shm|-journal)?$/ },
  { name: 'file', url: (dir) => `file:${dir}`, files: /^(\d{20}\.otoml|projections\.db(-wal|-shm|-journal)?|writer\.lock\/?)$/ },
];

describe('hostile names: traversal, encodings, NUL, absolute paths, over-long names and confusables touch nothing outside the store', function () {
  this.timeout(120_000);
  let tried = 0;
  after(() => figure(`hostile names: ${tried} hostile inputs tried across ${BACKENDS.length} backends and the CLI, 0 escapes`));

  for (const backend of BACKENDS) {
    it(`${backend.name}: as type, field, sid, filter key, patch key, idempotency key, cursor, seed and schema names`, async () => {
      const sandbox = tempDir('osis-sandbox-');
      const storeDir = path.join(sandbox, 'store');
      fs.mkdirSync(storeDir);
      const canary = path.join(os.tmpdir(), `osis-escape-canary-${process.pid}-${Date.now()}`);
      const names = hostileNames(sandbox, canary);
      const before = listTree(sandbox);
      const repoBefore = fs.readdirSync(process.cwd()).sort();
      const store: Store = await openStore(backend.url(storeDir), { schema: { types: { item: { index: ['n'], text: ['t'] } } } });
      const items = store.collection('item');
      await items._new({ n: 1, t: 'seed' }, { sid: 'known' });
      try {
        for (const name of names) {
          const attempts: [string, () => unknown][] = [
            ['type', () => store.collection(name)._new({ n: 1 })],
            ['field', () => items._new({ [name]: 1 })],
            ['sid', () => items._new({ n: 1 }, { sid: name })],
            ['sid get', () => items._get(name)],
            ['sid update', () => items._update(name, { n: 2 })],
            ['sid delete', () => items._delete(name)],
            ['sid history', () => items._history(name)],
            ['filter key', () => items._find({ filter: { [name]: 1 } })],
            ['filter value', () => items._find({ filter: { n: name } })],
            ['text', () => items._find({ text: name })],
            ['patch key', () => items._update('known', { [name]: 1 })],
            ['idempotency key', () => items._new({ n: 3 }, { idempotencyKey: name })],
            ['cursor', () => items._list({ cursor: name })],
            ['at', () => items._get('known', { at: name })],
            ['seed type', async () => seedStore(store, checkSeed({ [name]: [{ sid: 'x' }] }))],
            ['seed sid', async () => seedStore(store, checkSeed({ item: [{ sid: name }] }))],
            ['schema type', async () => loadSchema({ types: { [name]: { index: ['n'] } } })],
            ['schema field', async () => loadSchema({ types: { item: { index: [name] } } })],
          ];
          for (const [place, attempt] of attempts) {
            tried++;
            const [outcome] = await Promise.allSettled([(async () => attempt())()]);
            expectTypedOutcome(outcome, `${place} ${JSON.stringify(name.slice(0, 40))}`);
          }
        }
        expect((await store.verify()).ok).to.equal(true);
      } finally {
        await store.close();
      }
      const after = listTree(sandbox).filter((p) => !p.startsWith('store/'));
      expect(after, 'files outside the store').to.deep.equal(before.filter((p) => !p.startsWith('store/')));
      expect(fs.readdirSync(process.cwd()).sort(), 'files in the working directory').to.deep.equal(repoBefore);
      expect(fs.existsSync(canary), 'absolute canary path').to.equal(false);
      const inside = listTree(storeDir);
      for (const entry of inside) expect(entry, 'a file in the store named after a hostile input').to.match(backend.files);
    });
  }

  it('the CLI, run from a working directory inside the sandbox, refuses them too and writes nothing outside the store', async () => {
    const sandbox = tempDir('osis-sandbox-');
    const work = path.join(sandbox, 'work');
    fs.mkdirSync(work);
    const canary = path.join(os.tmpdir(), `osis-escape-canary-cli-${process.pid}-${Date.now()}`);
    const url = `sqlite:${path.join(work, 'store', 'osis.db')}`;
    expect(osis(['new', 'item', '{"n":1}', '--sid', 'known', '--store', url], { cwd: work }).code).to.equal(0);
    const before = listTree(sandbox);
    // Each CLI call opens the store: CI takes every third name, RELIABILITY_LONG=1 all of them.
    const names = hostileNames(sandbox, canary)
      .filter((n) => !n.includes('\0') && n.length < 100_000)
      .filter((_, i) => process.env.RELIABILITY_LONG === '1' || i % 3 === 0);
    const commands = (name: string) => [
      ['new', name, '{"n":1}'],
      ['new', 'item', JSON.stringify({ [name]: 1 })],
      ['new', 'item', '{"n":1}', '--sid', name],
      ['get', 'item', name],
      ['delete', 'item', name],
      ['history', 'item', name],
      ['find', 'item', '--where', `${name}=1`],
      ['find', 'item', '--text', name],
      ['list', name],
    ];
    // Every name through the CLI in this process (fast), with the working directory in the sandbox.
    const cwd = process.cwd();
    process.chdir(work);
    try {
      for (const name of names) {
        for (const argv of commands(name)) {
          tried++;
          process.exitCode = undefined;
          const { value: code, stderr } = await captureOutput(() => runCli([...argv, '--store', url]));
          process.exitCode = undefined;
          expect([0, 2, 3], `osis ${argv.join(' ')}: ${stderr}`).to.include(code);
          if (code !== 0) expect(stderr).to.match(/^osis: (INVALID_INPUT|NOT_FOUND): /);
        }
      }
    } finally {
      process.chdir(cwd);
    }
    // The most dangerous ones also through the real binary in its own process.
    for (const name of ['../escape', canary]) {
      for (const argv of commands(name).slice(0, 3)) {
        tried++;
        const run = osis([...argv, '--store', url], { cwd: work });
        expect(run.code, `osis ${argv.join(' ')}: ${run.stderr}`).to.equal(2);
        expect(run.stderr).to.match(/^osis: INVALID_INPUT: /);
      }
    }
    const after = listTree(sandbox);
    expect(after.filter((p) => !p.startsWith('work/store/')), 'files outside the store').to.deep.equal(before.filter((p) => !p.startsWith('work/store/')));
    expect(fs.existsSync(canary)).to.equal(false);
  });
});
