import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Collection } from '../../src/api/library/collection';
import { resultOf, startTestServer, type TestServer } from './helpers';

describe('service: JSON-RPC over POST /rpc', () => {
  let t: TestServer;
  beforeEach(async () => {
    t = await startTestServer();
  });
  afterEach(async () => {
    await t.close();
  });

  describe('the OSIS methods of a type', () => {
    it('creates, reads, replaces, patches and deletes an object with named params', async () => {
      const created = resultOf(await t.call('user_new', { object: { name: 'Ann', email: 'ann@x.be' }, sid: 'u1' }));
      expect(created).to.deep.equal({ sid: 'u1', name: 'Ann', email: 'ann@x.be' });
      expect(resultOf(await t.call('user_get', { sid: 'u1' }))).to.deep.equal(created);
      const meta = resultOf(await t.call('user_get', { sid: 'u1', with_meta: true }));
      expect(meta).to.include({ version: 1, position: 1 });
      expect(meta.object).to.deep.equal(created);
      resultOf(await t.call('user_set', { object: { sid: 'u1', name: 'Ann L.', email: 'ann@x.be' }, expected_version: 1 }));
      const patched = resultOf(await t.call('user_update', { sid: 'u1', patch: { country: 'be' }, expected_version: 2 }));
      expect(patched).to.deep.equal({ sid: 'u1', name: 'Ann L.', email: 'ann@x.be', country: 'be' });
      expect(resultOf(await t.call('user_get', { sid: 'u1', at: 1 }))).to.deep.equal(created);
      expect(resultOf(await t.call('user_exists', { sid: 'u1' }))).to.equal(true);
      expect(resultOf(await t.call('user_delete', { sid: 'u1' }))).to.equal(null);
      expect(resultOf(await t.call('user_exists', { sid: 'u1' }))).to.equal(false);
      const history = resultOf(await t.call('user_history', { sid: 'u1' }));
      expect(history.map((e: { kind: string }) => e.kind)).to.deep.equal(['created', 'updated', 'updated', 'deleted']);
    });

    it('mints a sid when none is given, for declared and undeclared types alike', async () => {
      const user = resultOf(await t.call('user_new', { object: { name: 'Bob' } }));
      const note = resultOf(await t.call('sticky_note_new', { object: { text: 'hi' } }));
      expect(user.sid).to.match(/^[0-9A-Z]{26}$/);
      expect(resultOf(await t.call('sticky_note_get', { sid: note.sid }))).to.deep.equal(note);
    });

    it('lists and finds a page at a time, by filter and by full text', async () => {
      for (const [sid, name, country] of [['a', 'Ann', 'be'], ['b', 'Bob', 'nl'], ['c', 'Cara', 'be']]) {
        resultOf(await t.call('user_new', { object: { name, country }, sid }));
      }
      const first = resultOf(await t.call('user_list', { limit: 2 }));
      expect(first.items).to.deep.equal(['a', 'b']);
      const second = resultOf(await t.call('user_list', { limit: 2, cursor: first.next_cursor }));
      expect(second).to.deep.equal({ items: ['c'] });
      expect(resultOf(await t.call('user_find', { filter: { country: 'be' } })).items).to.deep.equal(['a', 'c']);
      expect(resultOf(await t.call('user_find_full', { text: 'cara' })).items).to.deep.equal([{ sid: 'c', name: 'Cara', country: 'be' }]);
      expect(resultOf(await t.call('user_list_full', {})).items).to.have.length(3);
    });

    it('reads the log and the stats of the context', async () => {
      resultOf(await t.call('user_new', { object: { name: 'Ann' }, sid: 'a' }));
      resultOf(await t.call('note_new', { object: { text: 'x' }, sid: 'n' }));
      const page = resultOf(await t.call('log_read', { from: 1, limit: 1 }));
      expect(page.items.map((e: { position: number }) => e.position)).to.deep.equal([1]);
      expect(page.next_from).to.equal(2);
      expect(resultOf(await t.call('log_read', { types: ['note'] })).items.map((e: { sid: string }) => e.sid)).to.deep.equal(['n']);
      const stats = resultOf(await t.call('stats'));
      expect(stats).to.include({ context: 'default', head: 2 });
      expect(stats.objects).to.deep.equal({ user: 1, note: 1 });
    });
  });

  describe('the protocol', () => {
    it('answers a batch with an array in request order, leaving notifications out', async () => {
      const { status, body } = await t.post([
        { jsonrpc: '2.0', id: 'a', method: 'user_new', params: { object: { name: 'A' }, sid: 'a' } },
        { jsonrpc: '2.0', method: 'user_new', params: { object: { name: 'B' }, sid: 'b' } },
        { jsonrpc: '2.0', id: 'c', method: 'user_list' },
      ]);
      expect(status).to.equal(200);
      expect(body.map((r: { id: string }) => r.id)).to.deep.equal(['a', 'c']);
      expect(body[1].result.items).to.deep.equal(['a', 'b']);
    });

    it('answers a batch of one with an array of one', async () => {
      const { body } = await t.post([{ jsonrpc: '2.0', id: 1, method: 'context_list' }]);
      expect(body).to.deep.equal([{ jsonrpc: '2.0', id: 1, result: ['default'] }]);
    });

    it('answers 204 with no body when every call is a notification, yet runs them', async () => {
      const { status, body } = await t.post({ jsonrpc: '2.0', method: 'user_new', params: { object: { name: 'N' }, sid: 'n' } });
      expect(status).to.equal(204);
      expect(body).to.equal(undefined);
      expect(resultOf(await t.call('user_exists', { sid: 'n' }))).to.equal(true);
      expect((await t.post([{ jsonrpc: '2.0', method: 'nope' }])).status).to.equal(204);
    });

    it('serves rpc.discover', async () => {
      const doc = resultOf(await t.call('rpc.discover'));
      expect(doc.openrpc).to.equal('1.3.2');
    });
  });

  describe('errors', () => {
    const expectError = (response: any, code: number, dataCode: string) => {
      expect(response.error, JSON.stringify(response)).to.be.an('object');
      expect(response.error.code).to.equal(code);
      expect(response.error.data.code).to.equal(dataCode);
      expect(JSON.stringify(response)).not.to.match(/\bat .*\.(ts|js):\d+/);
    };

    it('-32700 for a body that is not JSON, with id null', async () => {
      const { body } = await t.post('{"jsonrpc": "2.0", "id": 1, "method"');
      expectError(body, -32700, 'PARSE_ERROR');
      expect(body.id).to.equal(null);
    });

    it('-32600 for envelopes that are not requests, keeping a valid id', async () => {
      const bad = [
        [1, null],
        [{ jsonrpc: '1.0', id: 3, method: 'stats' }, 3],
        [{ jsonrpc: '2.0', id: 4 }, 4],
        [{ jsonrpc: '2.0', id: 5, method: 42 }, 5],
        [{ jsonrpc: '2.0', id: { x: 1 }, method: 'stats' }, null],
        [{ jsonrpc: '2.0', id: 7, method: 'stats', params: 'x' }, 7],
        [null, null],
      ];
      const { body } = await t.post(bad.map(([request]) => request));
      expect(body).to.have.length(bad.length);
      body.forEach((response: any, i: number) => {
        expectError(response, -32600, 'INVALID_REQUEST');
        expect(response.id).to.equal(bad[i][1]);
      });
      expectError((await t.post([])).body, -32600, 'INVALID_REQUEST');
    });

    it('-32601 for an unknown method', async () => {
      expectError(await t.call('frobnicate'), -32601, 'METHOD_NOT_FOUND');
      expectError(await t.call('user_frobnicate'), -32601, 'METHOD_NOT_FOUND');
      expectError(await t.call('User_get', { sid: 'x' }), -32601, 'METHOD_NOT_FOUND');
    });

    it('takes params by position too, in the documented order (null is an absent param)', async () => {
      expectError(await t.call('user_get', ['nobody']), -32001, 'NOT_FOUND');
      expect(resultOf(await t.call('user_new', [{ name: 'Pos' }, 'pos1']))).to.deep.equal({ sid: 'pos1', name: 'Pos' });
      expect(resultOf(await t.call('user_get', ['pos1', null, true]))).to.include({ version: 1 });
    });

    it('-32602 with details in data for bad params', async () => {
      const unknown = await t.call('user_get', { sid: 'a', sidd: 'b' });
      expectError(unknown, -32602, 'INVALID_INPUT');
      expect(unknown.error.data).to.include({ param: 'sidd' });
      expect(unknown.error.data.expected).to.include('sid');
      expectError(await t.call('user_get', {}), -32602, 'INVALID_INPUT');
      expectError(await t.call('user_get', ['u1', null, true, null, 'extra']), -32602, 'INVALID_INPUT');
      expectError(await t.call('user_get', [null]), -32602, 'INVALID_INPUT');
      expectError(await t.call('user_get', { sid: '../etc' }), -32602, 'INVALID_INPUT');
      expectError(await t.call('user_new', { object: [1] }), -32602, 'INVALID_INPUT');
      expectError(await t.call('user_list', { limit: 0 }), -32602, 'INVALID_INPUT');
      expectError(await t.call('user_find', { filter: { country: { like: 'b%' } } }), -32602, 'INVALID_INPUT');
      expectError(await t.call('user_set', { object: { sid: 'a' }, expected_version: 'latest' }), -32602, 'INVALID_INPUT');
      expectError(await t.call('stats', { verbose: true }), -32602, 'INVALID_INPUT');
    });

    it('-32001 NOT_FOUND for an absent object', async () => {
      const response = await t.call('user_get', { sid: 'ghost' });
      expectError(response, -32001, 'NOT_FOUND');
      expect(response.error.data).to.include({ type: 'user', sid: 'ghost' });
      expectError(await t.call('user_update', { sid: 'ghost', patch: { a: 1 } }), -32001, 'NOT_FOUND');
    });

    it('-32002 for a version conflict and for a unique violation, writing nothing', async () => {
      resultOf(await t.call('user_new', { object: { email: 'a@x' }, sid: 'a' }));
      const conflict = await t.call('user_update', { sid: 'a', patch: { name: 'x' }, expected_version: 7 });
      expectError(conflict, -32002, 'VERSION_CONFLICT');
      expect(conflict.error.data).to.include({ expected: 7, actual: 1 });
      expectError(await t.call('user_new', { object: { email: 'a@x' }, sid: 'b' }), -32002, 'UNIQUE_VIOLATION');
      expectError(await t.call('user_new', { object: {}, sid: 'a' }), -32002, 'VERSION_CONFLICT');
      expect(resultOf(await t.call('stats')).head).to.equal(1);
    });

    it('-32603 for an unexpected failure, with no message or stack from inside', async () => {
      const original = Collection.prototype._get;
      Collection.prototype._get = () => Promise.reject(new TypeError('secret detail from inside'));
      try {
        const response = await t.call('user_get', { sid: 'a' });
        expectError(response, -32603, 'INTERNAL');
        expect(response.error.message).to.equal('internal error');
        expect(response.error.data).to.deep.equal({ code: 'INTERNAL' });
      } finally {
        Collection.prototype._get = original;
      }
      expect(t.logs.some((line) => line.includes('"level":50'))).to.equal(true);
    });

    it('a context whose store cannot be opened is UNAVAILABLE (-32603) naming the path, not an internal error', async () => {
      fs.mkdirSync(path.join(t.dir, 'osis.ctx-broken.db'));
      fs.writeFileSync(path.join(t.dir, 'osis.contexts.json'), JSON.stringify({ version: 1, contexts: ['broken'] }));
      const response = await t.call('user_get', { sid: 'a' }, { 'X-Hero-Context': 'broken' });
      expectError(response, -32603, 'UNAVAILABLE');
      expect(response.error.message).to.match(/cannot open .*osis\.ctx-broken\.db/);
    });
  });
});

describe('service: RpcEndpoint call timeout', () => {
  it('answers -32603 TIMEOUT when a call outlives the timeout, and keeps serving', async () => {
    const { RpcEndpoint } = await import('../../src/api/service/rpc');
    const table = {
      lookup: (method: string) => ({
        label: method,
        handler: method === 'hang' ? () => new Promise(() => undefined) : async () => 'fine',
      }),
    };
    const rpc = new RpcEndpoint(table as never, { callTimeoutMs: 50 });
    const hung: any = await rpc.handle(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'hang' }), { context: 'default' });
    expect(hung.error).to.deep.include({ code: -32603 });
    expect(hung.error.data.code).to.equal('TIMEOUT');
    const fine: any = await rpc.handle(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'ok' }), { context: 'default' });
    expect(fine.result).to.equal('fine');
  });
});
