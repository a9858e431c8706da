import { expect } from 'chai';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { MAX_FILTER_CONDITIONS, MAX_FILTER_VALUES } from '../../src/api/library/filter';
import { OSIS_BIN } from '../cli/run-osis';
import { tempDir } from '../helpers/temp';
import { rawRequest, resultOf, startTestServer, type TestServer } from './helpers';

describe('service: precise answers to hostile requests', function () {
  this.timeout(60_000);
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(async () => t.close());

  it('a filter past SQLite limits is INVALID_INPUT naming the limit, not -32603 (1,100 fields; 40 "in" lists of 1,000)', async () => {
    const wide = Object.fromEntries(Array.from({ length: 1100 }, (_, i) => [`f${i}`, i]));
    const tooWide = await t.call('user_find', { filter: wide });
    expect(tooWide.error.code).to.equal(-32602);
    expect(tooWide.error.data).to.include({ code: 'INVALID_INPUT', limit: 'filter_conditions', max: MAX_FILTER_CONDITIONS });
    const lists = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`f${i}`, { in: Array.from({ length: 1000 }, (_, j) => j) }]));
    const tooMany = await t.call('user_find', { filter: lists });
    expect(tooMany.error.code).to.equal(-32602);
    expect(tooMany.error.data).to.include({ code: 'INVALID_INPUT', limit: 'filter_values', max: MAX_FILTER_VALUES });
    const indexed = await t.call('user_find', { filter: { country: { in: Array.from({ length: 1000 }, (_, j) => `c${j}`) } } });
    expect(resultOf(indexed).items).to.deep.equal([]);
  });

  it('an idempotency key is bound to its type: reusing it for another type is a conflict naming the key, with none of the other object', async () => {
    const user = resultOf(await t.call('user_new', { object: { name: 'Secret Person', email: 'secret@x' }, idempotency_key: 'k-shared' }));
    const again = resultOf(await t.call('user_new', { object: { name: 'Secret Person', email: 'secret@x' }, idempotency_key: 'k-shared' }));
    expect(again.sid, 'a retry of the same write still replays it').to.equal(user.sid);
    const head = resultOf(await t.call('stats')).head;
    const response = await t.call('note_new', { object: { title: 'hello' }, idempotency_key: 'k-shared' });
    expect(response.error.code).to.equal(-32002);
    expect(response.error.data).to.include({ code: 'IDEMPOTENCY_CONFLICT', idempotencyKey: 'k-shared', type: 'note' });
    expect(JSON.stringify(response)).to.not.include('Secret');
    expect(JSON.stringify(response)).to.not.include(user.sid);
    const other = await t.call('user_set', { object: { sid: 'someone-else', name: 'x' }, idempotency_key: 'k-shared' });
    expect(other.error.data.code, 'same type, another named object').to.equal('IDEMPOTENCY_CONFLICT');
    expect(resultOf(await t.call('stats')).head, 'nothing written').to.equal(head);
  });

  it('parses Host strictly: "[::1]@evil.com" and other malformed hosts are refused without a token', async () => {
    const { port } = new URL(t.url);
    const ask = (host: string) =>
      rawRequest({ host: '127.0.0.1', port: Number(port) }, { method: 'POST', path: '/rpc', headers: { host, 'content-type': 'application/json' }, body: '{"jsonrpc":"2.0","id":1,"method":"stats"}' });
    for (const host of ['[::1]@evil.com', '[::1]evil.com', 'localhost@evil.com', 'localhost:80:80', '127.0.0.1 evil.com', '[::1]:80x']) {
      const answer = await ask(host);
      expect(answer.status, host).to.equal(401);
      expect(JSON.parse(answer.text).error.data).to.include({ code: 'UNAUTHORIZED', reason: 'host' });
    }
    for (const host of [`localhost:${port}`, `[::1]:${port}`, `127.0.0.1:${port}`, 'localhost']) expect((await ask(host)).status, host).to.equal(200);
  });

  it('echoes at most 100 characters of a 900 KB method name or param name', async () => {
    const long = 'm'.repeat(900_000);
    const response = await t.post({ jsonrpc: '2.0', id: 1, method: long });
    expect(response.body.error.code).to.equal(-32601);
    expect(JSON.stringify(response.body).length).to.be.below(400);
    expect(response.body.error.data.method).to.equal(`${'m'.repeat(100)}…`);
    const param = await t.post({ jsonrpc: '2.0', id: 2, method: 'user_get', params: { sid: 'a', [long]: 1 } });
    expect(param.body.error.code).to.equal(-32602);
    expect(JSON.stringify(param.body).length).to.be.below(1000);
  });

  it('osis serve --token warns that the token shows in the process list and points to OSIS_TOKEN', async () => {
    const dir = tempDir();
    const child = spawn(process.execPath, [OSIS_BIN, 'serve', '--store', `sqlite:${path.join(dir, 'osis.db')}`, '--port', '0', '--token', 'secret-token'], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.on('data', (d) => (stdout += d));
    const deadline = Date.now() + 20_000;
    while (!stdout.includes('listening') && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGTERM');
    await new Promise((r) => child.once('close', r));
    expect(stderr).to.match(/--token is visible .*OSIS_TOKEN/);
    expect(stderr + stdout).to.not.include('secret-token');
  });
});
