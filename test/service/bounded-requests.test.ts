import { expect } from 'chai';
import { openStore } from '../../src';
import { MAX_REQUEST_ROWS, MAX_REQUEST_SCAN_ROWS, MAX_RESPONSE_BYTES } from '../../src/api/service/rpc';
import { expectCode } from '../helpers/expect-error';
import { resultOf, startTestServer, type TestServer } from './helpers';

const batch = (n: number, method: string, params: (i: number) => unknown) =>
  Array.from({ length: n }, (_, i) => ({ jsonrpc: '2.0', id: i + 1, method, params: params(i) }));

async function fill(t: TestServer, count: number, object: (i: number) => Record<string, unknown>): Promise<void> {
  const per = Math.max(1, Math.min(500, Math.floor(800_000 / JSON.stringify(object(0)).length)));
  for (let i = 0; i < count; i += per) {
    const calls = batch(Math.min(per, count - i), 'user_new', (j) => ({ object: object(i + j), sid: `u${String(i + j).padStart(6, '0')}` }));
    const { body } = await t.post(calls);
    for (const r of body) resultOf(r);
  }
}

const percentile = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * p))];

describe('service: one request cannot take the service down', function () {
  this.timeout(120_000);
  let t: TestServer;
  afterEach(async () => t?.close());

  it('refuses a batch whose limits add up past the row bound, before running any of it (-32004, limit in data)', async () => {
    t = await startTestServer();
    await fill(t, 20, (i) => ({ name: `n${i}` }));
    const { status, body } = await t.post(batch(1000, 'log_read', () => ({ limit: 10_000 })));
    expect(status).to.equal(200);
    expect(body.error.code).to.equal(-32004);
    expect(body.error.data).to.include({ code: 'TOO_LARGE', limit: 'rows', max: MAX_REQUEST_ROWS, requested: 10_000_000 });
    const defaults = await t.post(batch(1000, 'user_find', () => ({ filter: { nope: 1 } })));
    expect(defaults.body.error.data).to.include({ limit: 'rows', requested: 100_000 });
    // Within the bound, the same shape runs.
    const fine = await t.post(batch(10, 'log_read', () => ({ limit: 1000 })));
    expect(fine.body).to.have.length(10);
    for (const r of fine.body) expect(resultOf(r).items).to.have.length(20);
  });

  it('pages a large log_read by bytes: the response stays under the bound and next_from leads to every event', async () => {
    t = await startTestServer();
    const big = 'x'.repeat(200_000);
    await fill(t, 30, (i) => ({ name: `n${i}`, bio: big }));
    let from = 1;
    const seen: number[] = [];
    for (let round = 0; round < 10; round++) {
      const response = await fetch(`${t.url}/rpc`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'log_read', params: { from, limit: 10_000 } }),
      });
      const text = await response.text();
      expect(text.length).to.be.at.most(MAX_RESPONSE_BYTES + 1024);
      const result = resultOf(JSON.parse(text));
      seen.push(...result.items.map((e: { position: number }) => e.position));
      if (result.next_from === undefined) break;
      from = result.next_from;
    }
    expect(seen).to.deep.equal(Array.from({ length: 30 }, (_, i) => i + 1));
  });

  it('pages list_full and find_full by bytes, and answers later calls of a full batch with -32004', async () => {
    t = await startTestServer();
    const big = 'y'.repeat(300_000);
    await fill(t, 30, (i) => ({ name: `word n${i}`, bio: big, country: 'be' }));
    const page = resultOf(await t.call('user_list_full', { limit: 100 }));
    expect(page.items.length).to.be.within(1, 14);
    expect(page.next_cursor).to.be.a('string');
    let all = page.items.length;
    for (let cursor = page.next_cursor; cursor; ) {
      const next = resultOf(await t.call('user_list_full', { limit: 100, cursor }));
      all += next.items.length;
      cursor = next.next_cursor;
    }
    expect(all).to.equal(30);
    const ranked = resultOf(await t.call('user_find_full', { text: 'word', limit: 100 }));
    expect(ranked.items.length).to.be.within(1, 14);
    expect(ranked.next_cursor).to.be.a('string');
    const { body } = await t.post(batch(5, 'user_list_full', () => ({ limit: 30 })));
    expect(resultOf(body[0]).items.length).to.be.within(1, 14);
    for (const r of body.slice(1)) {
      expect(r.error.code).to.equal(-32004);
      expect(r.error.data).to.include({ code: 'TOO_LARGE', limit: 'response_bytes', max: MAX_RESPONSE_BYTES });
    }
  });

  it('caps the objects the filters of one request may scan; the call that reaches the cap answers a cursor, later ones -32004', async () => {
    t = await startTestServer();
    await fill(t, 5000, (i) => ({ name: `n${i}` }));
    const { body } = await t.post(batch(1000, 'user_find', () => ({ filter: { nope: 1 }, limit: 1 })));
    expect(body).to.have.length(1000);
    const refused = body.filter((r: any) => r.error);
    const answered = body.filter((r: any) => !r.error);
    expect(answered.length).to.be.within(1, Math.ceil(MAX_REQUEST_SCAN_ROWS / 5000) + 1);
    expect(answered.length + refused.length).to.equal(1000);
    expect(refused.length).to.be.greaterThan(0);
    expect(refused[0].error.data).to.include({ code: 'TOO_LARGE', limit: 'scan_rows', max: MAX_REQUEST_SCAN_ROWS });
    expect(answered.some((r: any) => resultOf(r).next_cursor !== undefined), 'the call cut short says where to go on').to.equal(true);
  });

  it('keeps /health answering while a costly batch runs: its slowest answer is a small part of the batch time', async () => {
    t = await startTestServer();
    await fill(t, 3000, (i) => ({ name: `n${i}` }));
    const started = Date.now();
    let done = false;
    const running = t.post(batch(1000, 'user_find', () => ({ filter: { nope: 1 }, limit: 1 }))).then((r) => {
      done = true;
      return r;
    });
    const latencies: number[] = [];
    await new Promise((r) => setTimeout(r, 20));
    while (!done) {
      const sent = performance.now();
      const response = await fetch(`${t.url}/health`);
      await response.text();
      latencies.push(performance.now() - sent);
      await new Promise((r) => setTimeout(r, 10));
    }
    const batchMs = Date.now() - started;
    expect((await running).status).to.equal(200);
    expect(latencies.length, 'health probes during the batch').to.be.greaterThan(3);
    const worst = Math.max(...latencies);
    // Before: /health waited for the whole batch (one synchronous scan after the other).
    expect(worst, `batch ${batchMs} ms, /health p50 ${percentile(latencies, 0.5).toFixed(1)} ms, worst ${worst.toFixed(1)} ms`).to.be.below(batchMs / 4);
  });

  it('a read stops between slices when its signal aborts (what makes the per-call timeout real)', async () => {
    const store = await openStore('memory:');
    const users = store.collection('user');
    for (let i = 0; i < 5000; i += 500) await Promise.all(Array.from({ length: 500 }, (_, j) => users._new({ n: i + j }, { sid: `s${i + j}` })));
    const controller = new AbortController();
    const reason = Object.assign(new Error('stop'), { code: 'STOPPED' });
    const budget = { bytes: 1e9, scanRows: 1e9, signal: controller.signal, refuse: () => new Error('refused') };
    const pending = users._find({ filter: { nope: 1 }, budget });
    controller.abort(reason);
    await expectCode(pending, 'STOPPED');
    expect((await users._find({ filter: { n: 4999 } })).items).to.deep.equal(['s4999']);
    await store.close();
  });
});
