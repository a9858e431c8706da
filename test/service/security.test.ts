import { expect } from 'chai';
import * as net from 'node:net';
import { expectCode } from '../helpers/expect-error';
import { startServer } from '../../src/api/service';
import { rawRequest, resultOf, startTestServer, type TestServer } from './helpers';

const TOKEN = 's3cret-token-0123456789';

describe('service: security and limits', () => {
  describe('with a token', () => {
    let t: TestServer;
    beforeEach(async () => {
      t = await startTestServer({ token: TOKEN });
    });
    afterEach(async () => {
      await t.close();
    });

    const routes: Array<[string, string, string?]> = [
      ['POST', '/rpc', JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'context_list' })],
      ['GET', '/openrpc.json'],
      ['GET', '/events'],
      ['GET', '/metrics'],
    ];
    const cases: Array<[string, Record<string, string>, string]> = [
      ['missing', {}, 'missing'],
      ['malformed (no scheme)', { authorization: TOKEN }, 'malformed'],
      ['malformed (Basic)', { authorization: `Basic ${Buffer.from(`u:${TOKEN}`).toString('base64')}` }, 'malformed'],
      ['malformed (empty bearer)', { authorization: 'Bearer ' }, 'malformed'],
      ['wrong', { authorization: `Bearer ${TOKEN}x` }, 'invalid'],
      ['a prefix of the token', { authorization: `Bearer ${TOKEN.slice(0, 8)}` }, 'invalid'],
    ];
    for (const [method, route, body] of routes) {
      for (const [name, headers, reason] of cases) {
        it(`refuses ${method} ${route} with a ${name} token: 401 and -32003`, async () => {
          const response = await fetch(`${t.url}${route}`, { method, headers: { 'content-type': 'application/json', ...headers }, body });
          expect(response.status).to.equal(401);
          expect(response.headers.get('www-authenticate')).to.match(/^Bearer/);
          const json = (await response.json()) as any;
          const error = json.error;
          expect(error.code).to.equal(-32003);
          expect(error.data).to.deep.equal({ code: 'UNAUTHORIZED', reason });
        });
      }
    }

    it('answers every route with the right token, and /health with none', async () => {
      const auth = { authorization: `Bearer ${TOKEN}` };
      expect(resultOf(await t.call('context_list', undefined, auth))).to.deep.equal(['default']);
      expect((await fetch(`${t.url}/openrpc.json`, { headers: auth })).status).to.equal(200);
      expect((await fetch(`${t.url}/metrics`, { headers: auth })).status).to.equal(200);
      expect((await fetch(`${t.url}/metrics`, { headers: { authorization: `bearer ${TOKEN}` } })).status).to.equal(200);
      const health = await fetch(`${t.url}/health`);
      expect(health.status).to.equal(200);
      expect(await health.json()).to.deep.equal({ status: 'ok' });
    });

    it('never writes the token to its logs', async () => {
      await t.call('context_list', undefined, { authorization: `Bearer ${TOKEN}` });
      await t.call('context_list', undefined, { authorization: `Bearer ${TOKEN}-wrong` });
      await t.call('user_new', { object: { name: TOKEN } }, { authorization: `Bearer ${TOKEN}` });
      expect(t.logs.length).to.be.greaterThan(2);
      for (const line of t.logs) expect(line).not.to.include(TOKEN.slice(0, 10));
    });
  });

  describe('binding', () => {
    it('refuses a non-loopback host without a token, before opening anything', async () => {
      await expectCode(startServer({ storeUrl: 'memory:', host: '0.0.0.0', port: 0 }), 'INVALID_INPUT');
      await expectCode(startServer({ storeUrl: 'memory:', host: '::', port: 0 }), 'INVALID_INPUT');
      await expectCode(startServer({ storeUrl: 'memory:', host: 'example.org', port: 0 }), 'INVALID_INPUT');
    });

    it('binds 127.0.0.1 by default and accepts loopback host names only', async () => {
      const t = await startTestServer();
      try {
        expect(t.url).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
        const port = Number(new URL(t.url).port);
        const rebound = await rawRequest({ host: '127.0.0.1', port }, { method: 'GET', path: '/openrpc.json', headers: { host: `evil.example:${port}` } });
        expect(rebound.status).to.equal(401);
        expect(JSON.parse(rebound.text).error.data).to.deep.equal({ code: 'UNAUTHORIZED', reason: 'host' });
        const local = await rawRequest({ host: '127.0.0.1', port }, { method: 'GET', path: '/openrpc.json', headers: { host: `localhost:${port}` } });
        expect(local.status).to.equal(200);
      } finally {
        await t.close();
      }
    });

    it('refuses unknown options and bad tokens by name', async () => {
      await expectCode(startServer({ storeUrl: 'memory:', port: 0, prot: 1 } as never), 'INVALID_INPUT');
      await expectCode(startServer({ storeUrl: 'memory:', port: 0, token: 'has space' }), 'INVALID_INPUT');
      await expectCode(startServer({ storeUrl: 'memory:', port: 70000 }), 'INVALID_INPUT');
    });
  });

  describe('bodies', () => {
    let t: TestServer;
    beforeEach(async () => {
      t = await startTestServer();
    });
    afterEach(async () => {
      await t.close();
    });

    it('rejects a 2 MiB body with 413 and -32004 before parsing, writing nothing', async () => {
      const big = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'user_new', params: { object: { bio: 'x'.repeat(2 * 1024 * 1024) } } });
      const { status, body } = await t.post(big);
      expect(status).to.equal(413);
      expect(body.error.code).to.equal(-32004);
      expect(body.error.data).to.include({ code: 'TOO_LARGE', limit: 'bytes', max: 1024 * 1024 });
      expect(resultOf(await t.call('stats')).head).to.equal(0);
    });

    it('rejects an oversized chunked body (no Content-Length) once it passes 1 MiB', async () => {
      const port = Number(new URL(t.url).port);
      const chunk = 'x'.repeat(64 * 1024);
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = net.connect(port, '127.0.0.1', () => {
          socket.write('POST /rpc HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n');
          for (let i = 0; i < 40; i++) socket.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
        });
        let text = '';
        socket.on('data', (d) => {
          text += d;
          if (text.includes('\r\n\r\n')) {
            socket.destroy();
            resolve(text);
          }
        });
        socket.on('error', reject);
      });
      expect(answer).to.match(/^HTTP\/1\.1 413/);
      expect(resultOf(await t.call('stats')).head).to.equal(0);
    });

    it('rejects a 10,000-deep body with -32004, writing nothing', async () => {
      const deep = `{"jsonrpc":"2.0","id":1,"method":"user_new","params":{"object":{"a":${'['.repeat(10_000)}${']'.repeat(10_000)}}}}`;
      const { body } = await t.post(deep);
      expect(body.error.code).to.equal(-32004);
      expect(body.error.data).to.include({ code: 'TOO_LARGE', limit: 'depth', max: 64 });
      expect(body.id).to.equal(null);
      expect(resultOf(await t.call('stats')).head).to.equal(0);
    });

    it('takes an object nested exactly 64 deep and refuses 65', async () => {
      const nest = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
      const ok = await t.post(`{"jsonrpc":"2.0","id":1,"method":"user_new","params":{"sid":"d","object":{"a":${nest(64)}}}}`);
      expect(ok.body.result.sid).to.equal('d');
      const inBatch = await t.post(`[{"jsonrpc":"2.0","id":2,"method":"user_new","params":{"sid":"e","object":{"a":${nest(64)}}}}]`);
      expect(inBatch.body[0].result.sid).to.equal('e');
      const deeper = await t.post(`{"jsonrpc":"2.0","id":3,"method":"user_new","params":{"object":{"a":${nest(65)}}}}`);
      expect(deeper.body.error.code).to.equal(-32602);
      expect(deeper.body.error.message).to.match(/nested deeper than 64/);
      const deeperInBatch = await t.post(`[{"jsonrpc":"2.0","id":4,"method":"user_new","params":{"object":{"a":${nest(65)}}}}]`);
      expect(deeperInBatch.body.error.code).to.equal(-32004);
      expect(resultOf(await t.call('stats')).head).to.equal(2);
    });

    it('answers 415 to a body that is not declared as JSON', async () => {
      const response = await fetch(`${t.url}/rpc`, { method: 'POST', body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'stats' }) });
      expect(response.status).to.equal(415);
      expect(((await response.json()) as any).error.code).to.equal(-32600);
    });

    it('answers a body that stalls with 408 once the request timeout passes', async () => {
      await t.close();
      t = await startTestServer({ requestTimeoutMs: 300 });
      const port = Number(new URL(t.url).port);
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = net.connect(port, '127.0.0.1', () => {
          socket.write('POST /rpc HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"jsonrpc"');
        });
        let text = '';
        socket.on('data', (d) => (text += d));
        socket.on('close', () => resolve(text));
        socket.on('error', reject);
      });
      expect(answer).to.match(/^HTTP\/1\.1 408/);
      expect(answer).to.include('"TIMEOUT"');
    });
  });

  describe('prototype pollution', () => {
    let t: TestServer;
    beforeEach(async () => {
      t = await startTestServer();
    });
    afterEach(async () => {
      await t.close();
      expect(({} as Record<string, unknown>).polluted).to.equal(undefined);
      expect((Object.prototype as unknown as Record<string, unknown>).polluted).to.equal(undefined);
    });

    const attempts: Array<[string, string]> = [
      ['an object', '{"jsonrpc":"2.0","id":1,"method":"user_new","params":{"object":{"__proto__":{"polluted":1}}}}'],
      ['a nested value', '{"jsonrpc":"2.0","id":1,"method":"user_new","params":{"object":{"a":{"b":{"__proto__":{"polluted":1}}}}}}'],
      ['constructor.prototype', '{"jsonrpc":"2.0","id":1,"method":"user_new","params":{"object":{"constructor":{"prototype":{"polluted":1}}}}}'],
      ['a patch', '{"jsonrpc":"2.0","id":1,"method":"user_update","params":{"sid":"a","patch":{"__proto__":{"polluted":1}}}}'],
      ['a filter', '{"jsonrpc":"2.0","id":1,"method":"user_find","params":{"filter":{"__proto__":{"polluted":1}}}}'],
      ['the params', '{"jsonrpc":"2.0","id":1,"method":"user_get","params":{"sid":"a","__proto__":{"polluted":1}}}'],
      ['the meta', '{"jsonrpc":"2.0","id":1,"method":"user_update","params":{"sid":"a","patch":{},"meta":{"__proto__":{"polluted":1}}}}'],
    ];
    for (const [where, body] of attempts) {
      it(`refuses __proto__/constructor keys in ${where} with -32602 and writes nothing`, async () => {
        resultOf(await t.call('user_new', { object: { name: 'A' }, sid: 'a' }));
        const { body: response } = await t.post(body);
        expect(response.error.code, JSON.stringify(response)).to.equal(-32602);
        expect(resultOf(await t.call('stats')).head).to.equal(1);
      });
    }

    it('refuses __proto__ in the request envelope with -32600', async () => {
      const { body } = await t.post('{"jsonrpc":"2.0","id":1,"method":"stats","__proto__":{"polluted":1}}');
      expect(body.error.code).to.equal(-32600);
    });
  });
});
