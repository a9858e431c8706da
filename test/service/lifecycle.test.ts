import { expect } from 'chai';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { openStore } from '../../src';
import { startServer } from '../../src/api/service';
import { tempDir } from '../helpers/temp';
import { rawRequest, resultOf, SCHEMA, startTestServer } from './helpers';

const rpcBody = (method: string, params?: unknown) => JSON.stringify({ jsonrpc: '2.0', id: 1, method, ...(params ? { params } : {}) });

describe('service: listeners, routes and shutdown', () => {
  it('answers over a Unix socket alongside TCP, and over a socket alone', async () => {
    const dir = tempDir('osis-sock-');
    const socket = path.join(dir, 'osis.sock');
    const t = await startTestServer({ socket });
    try {
      expect(t.server.socketPath).to.equal(socket);
      expect((fs.statSync(socket).mode & 0o777).toString(8)).to.equal('600');
      const headers = { 'content-type': 'application/json' };
      const created = await rawRequest({ socketPath: socket }, { method: 'POST', path: '/rpc', headers, body: rpcBody('user_new', { object: { name: 'S' }, sid: 's' }) });
      expect(created.status).to.equal(200);
      expect(JSON.parse(created.text).result.sid).to.equal('s');
      expect(resultOf(await t.call('user_get', { sid: 's' })).name).to.equal('S');
    } finally {
      await t.close();
    }
    expect(fs.existsSync(socket)).to.equal(false);

    const alone = await startServer({ storeUrl: 'memory:', socket, logger: silent() });
    try {
      expect(alone.url).to.equal(undefined);
      const health = await rawRequest({ socketPath: socket }, { method: 'GET', path: '/health' });
      expect(JSON.parse(health.text)).to.deep.equal({ status: 'ok' });
    } finally {
      await alone.close();
    }
  });

  it('replaces a stale socket file but refuses a live one', async () => {
    const dir = tempDir('osis-sock-');
    const socket = path.join(dir, 'osis.sock');
    const stale = net.createServer();
    await new Promise<void>((resolve) => stale.listen(socket, resolve));
    const live = await startServer({ storeUrl: 'memory:', socket, logger: silent() }).catch((error: Error) => error);
    expect(live).to.be.instanceOf(Error);
    expect((live as Error).message).to.match(/another server/);
    await new Promise<void>((resolve) => stale.close(() => resolve()));
    // A server killed with SIGKILL leaves its socket file behind with nobody listening.
    const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(socket)}, () => console.log('up'))`]);
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    child.kill('SIGKILL');
    await new Promise<void>((resolve) => child.once('exit', () => resolve()));
    expect(fs.existsSync(socket)).to.equal(true);
    const server = await startServer({ storeUrl: 'memory:', socket, logger: silent() });
    await server.close();
  });

  it('fails to start on a port in use, naming it, and leaves the running server alone', async () => {
    const t = await startTestServer();
    try {
      const port = Number(new URL(t.url).port);
      const error = await startServer({ storeUrl: 'memory:', port, logger: silent() }).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(error?.message).to.match(new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: EADDRINUSE`));
      expect(resultOf(await t.call('context_list'))).to.deep.equal(['default']);
    } finally {
      await t.close();
    }
  });

  it('answers 404 for unknown paths and 405 with Allow for wrong methods', async () => {
    const t = await startTestServer();
    try {
      const missing = await fetch(`${t.url}/nope`);
      expect(missing.status).to.equal(404);
      expect(((await missing.json()) as any).error.data.code).to.equal('NOT_ROUTED');
      const wrong = await fetch(`${t.url}/rpc`);
      expect(wrong.status).to.equal(405);
      expect(wrong.headers.get('allow')).to.equal('POST');
      expect((await fetch(`${t.url}/health`, { method: 'POST' })).status).to.equal(405);
    } finally {
      await t.close();
    }
  });

  it('exposes Prometheus metrics from its own registry', async () => {
    const t = await startTestServer();
    try {
      resultOf(await t.call('user_new', { object: { name: 'm' }, sid: 'm' }));
      resultOf(await t.call('mystery_get', { sid: 'm' }).then((r) => ({ result: r })));
      const response = await fetch(`${t.url}/metrics`);
      expect(response.headers.get('content-type')).to.match(/^text\/plain/);
      const text = await response.text();
      expect(text).to.match(/osis_rpc_calls_total\{method="user_new",code="OK"\} 1/);
      expect(text).to.match(/osis_rpc_calls_total\{method="\*_get",code="NOT_FOUND"\} 1/);
      expect(text).to.match(/osis_rpc_call_duration_seconds_bucket\{le="[^"]+",method="user_new"\}/);
      expect(text).to.match(/osis_events_appended_total\{context="default"\} 1/);
      expect(text).to.match(/osis_log_head_position\{context="default"\} 1/);
      expect(text).to.match(/osis_projection_lag_events\{context="default",projection="[a-z_]+"\} \d+/);
      expect(text).to.include('osis_sse_subscribers');
      expect(text).not.to.match(/^process_/m);
    } finally {
      await t.close();
    }
  });

  it('lets a request in flight finish on close, then refuses connections and closes the store', async () => {
    const t = await startTestServer({ durability: 'full' });
    const dbUrl = `sqlite:${path.join(t.dir, 'osis.db')}`;
    const batch = Array.from({ length: 300 }, (_, i) => ({ jsonrpc: '2.0', id: i, method: 'user_new', params: { object: { n: i }, sid: `s${i}` } }));
    const inFlight = t.post(batch);
    while (resultOf(await t.call('stats')).head === 0) await new Promise((resolve) => setTimeout(resolve, 2));
    const closing = t.close();
    const { status, body } = await inFlight;
    await closing;
    expect(status).to.equal(200);
    expect(body[0].result).to.deep.equal({ sid: 's0', n: 0 });
    expect(body).to.have.length(300);
    expect(body.every((r: { result?: unknown }) => r.result !== undefined)).to.equal(true);
    const refused = await fetch(`${t.url}/health`).then(
      () => 'answered',
      () => 'refused',
    );
    expect(refused).to.equal('refused');
    const store = await openStore(dbUrl, { schema: SCHEMA });
    try {
      expect((await store.stats()).objects.user).to.equal(300);
    } finally {
      await store.close();
    }
  });
});

function silent() {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('pino')({ level: 'silent' });
}
