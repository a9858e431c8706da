import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { resultOf, startTestServer, type TestServer } from './helpers';

const openFds = () => fs.readdirSync('/proc/self/fd').length;
const ctx = (name: string) => ({ 'X-Hero-Context': name });

describe('service: contexts are bounded', function () {
  this.timeout(120_000);
  let t: TestServer;
  afterEach(async () => t?.close());

  it('keeps at most maxOpenContexts stores open (least recently used idle ones close) and reopens them on use', async () => {
    t = await startTestServer({ maxOpenContexts: 4 });
    const before = openFds();
    for (let i = 0; i < 30; i++) {
      resultOf(await t.call('context_create', { name: `c${i}` }));
      resultOf(await t.call('user_new', { object: { name: `in c${i}` }, sid: 'x' }, ctx(`c${i}`)));
    }
    await new Promise((r) => setTimeout(r, 100));
    const grown = openFds() - before;
    // Each open sqlite store holds about 3 files; 30 open stores would hold about 90.
    expect(grown, `file descriptors grown by ${grown} for 30 contexts`).to.be.below(30);
    for (let i = 0; i < 30; i++) expect(resultOf(await t.call('user_get', { sid: 'x' }, ctx(`c${i}`))).name).to.equal(`in c${i}`);
    expect(openFds() - before).to.be.below(30);
  });

  it('refuses context_create past maxContexts with -32004 naming the limit, and leaves no files for it', async () => {
    t = await startTestServer({ maxContexts: 5 });
    for (let i = 1; i <= 4; i++) expect(resultOf(await t.call('context_create', { name: `c${i}` })).created).to.equal(true);
    const refused = await t.call('context_create', { name: 'c5' });
    expect(refused.error.code).to.equal(-32004);
    expect(refused.error.data).to.include({ code: 'TOO_LARGE', limit: 'contexts', max: 5 });
    expect(fs.readdirSync(t.dir).filter((f) => f.includes('ctx-c5'))).to.deep.equal([]);
    expect(resultOf(await t.call('context_list'))).to.deep.equal(['default', 'c1', 'c2', 'c3', 'c4']);
    expect(resultOf(await t.call('context_create', { name: 'c1' })).created, 'an existing one is still fine').to.equal(false);
  });

  it('a creation that fails after its store was made leaves nothing behind and records no name', async () => {
    t = await startTestServer();
    // Another process holds the registry lock (fresh, so never stale): recording the name fails after the store exists.
    fs.mkdirSync(path.join(t.dir, 'osis.contexts.json.lock'));
    // Give up on the lock before proper-lockfile would take this (unrefreshed) lock for stale.
    process.env.OSIS_OPEN_TIMEOUT_MS = '1000';
    const failed = await t.call('context_create', { name: 'doomed' }).finally(() => delete process.env.OSIS_OPEN_TIMEOUT_MS);
    expect(failed.error, JSON.stringify(failed)).to.not.equal(undefined);
    expect(fs.readdirSync(t.dir).filter((f) => f.includes('doomed'))).to.deep.equal([]);
    fs.rmdirSync(path.join(t.dir, 'osis.contexts.json.lock'));
    expect(resultOf(await t.call('context_list'))).to.deep.equal(['default']);
    expect(resultOf(await t.call('context_create', { name: 'doomed' })).created).to.equal(true);
    resultOf(await t.call('user_new', { object: { name: 'fine' } }, ctx('doomed')));
  });
});
