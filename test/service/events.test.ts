import { expect } from 'chai';
import * as net from 'node:net';
import { resultOf, SseClient, startTestServer, type TestServer } from './helpers';

describe('service: GET /events (Server-Sent Events)', () => {
  let t: TestServer;
  beforeEach(async () => {
    t = await startTestServer();
  });
  afterEach(async () => {
    await t.close();
  });

  const write = async (n: number, prefix: string) => {
    for (let i = 0; i < n; i++) resultOf(await t.call('user_new', { object: { name: `${prefix}${i}` }, sid: `${prefix}${i}` }));
  };

  it('streams live events with the log position as the SSE id', async () => {
    await write(2, 'old');
    const feed = new SseClient(`${t.url}/events`);
    await feed.open();
    try {
      expect(feed.status).to.equal(200);
      await write(3, 'new');
      await feed.waitFor((events) => events.length >= 3);
      expect(feed.events.map((e) => e.id)).to.deep.equal(['3', '4', '5']);
      const event = JSON.parse(feed.events[0].data);
      expect(event).to.include({ position: 3, type: 'user', sid: 'new0', kind: 'created', version: 1 });
      expect(event.data).to.deep.equal({ sid: 'new0', name: 'new0' });
    } finally {
      feed.close();
    }
  });

  it('replays from ?from= and resumes after Last-Event-ID with no gap and no duplicate', async () => {
    await write(5, 'a');
    const first = new SseClient(`${t.url}/events?from=2`);
    await first.open();
    await first.waitFor((events) => events.length >= 4);
    first.close();
    expect(first.events.map((e) => e.id)).to.deep.equal(['2', '3', '4', '5']);
    const lastId = first.events[first.events.length - 1].id!;

    await write(3, 'b');
    const resumed = new SseClient(`${t.url}/events?from=2`, { 'Last-Event-ID': lastId });
    await resumed.open();
    try {
      await write(2, 'c');
      await resumed.waitFor((events) => events.length >= 5);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(resumed.events.map((e) => Number(e.id))).to.deep.equal([6, 7, 8, 9, 10]);
    } finally {
      resumed.close();
    }
  });

  it('says so when Last-Event-ID is past the head (a warning event), then sends the events after it once they exist', async () => {
    await write(2, 'a');
    const feed = new SseClient(`${t.url}/events`, { 'Last-Event-ID': '4' });
    await feed.open();
    try {
      await feed.waitFor((events) => events.length >= 1);
      expect(feed.events[0].event).to.equal('warning');
      expect(JSON.parse(feed.events[0].data)).to.include({ code: 'PAST_HEAD', head: 2, from: 5 });
      expect(JSON.parse(feed.events[0].data).message).to.match(/resuming after position 4, but the log of context default ends at 2/);
      await write(3, 'b');
      await feed.waitFor((events) => events.length >= 2);
      expect(feed.events.slice(1).map((e) => e.id)).to.deep.equal(['5']);
    } finally {
      feed.close();
    }
  });

  it('filters by ?types=', async () => {
    const feed = new SseClient(`${t.url}/events?from=1&types=note`);
    await feed.open();
    try {
      await write(2, 'u');
      resultOf(await t.call('note_new', { object: { text: 'x' }, sid: 'n1' }));
      await feed.waitFor((events) => events.length >= 1);
      expect(feed.events.map((e) => JSON.parse(e.data).sid)).to.deep.equal(['n1']);
      expect(feed.events[0].id).to.equal('3');
    } finally {
      feed.close();
    }
  });

  it('refuses a bad Last-Event-ID or from with 400 and -32602', async () => {
    for (const [query, headers] of [['?from=abc', {}], ['', { 'Last-Event-ID': 'x1' }], ['?types=Bad', {}]] as const) {
      const response = await fetch(`${t.url}/events${query}`, { headers });
      expect(response.status, query).to.equal(400);
      expect(((await response.json()) as any).error.code).to.equal(-32602);
    }
  });

  it('drops a subscriber that stops reading instead of buffering without bound', async () => {
    await t.close();
    t = await startTestServer({ storeUrl: 'memory:', sseMaxBufferBytes: 64 * 1024 });
    const port = Number(new URL(t.url).port);
    const socket = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write('GET /events HTTP/1.1\r\nHost: localhost\r\n\r\n');
    let closed = false;
    socket.on('close', () => (closed = true));
    socket.on('error', () => undefined);
    await new Promise<void>((resolve) => socket.once('data', () => resolve()));
    socket.pause();
    const blob = Array.from({ length: 40_000 }, (_, i) => i);
    const dropped = /osis_sse_dropped_total\{context="default"\} 1/;
    let metrics = '';
    for (let i = 0; i < 200 && !dropped.test(metrics); i++) {
      resultOf(await t.call('note_new', { object: { blob }, sid: `n${i}` }));
      if (i % 5 === 4) metrics = await (await fetch(`${t.url}/metrics`)).text();
    }
    const deadline = Date.now() + 5_000;
    while (!dropped.test(metrics) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      metrics = await (await fetch(`${t.url}/metrics`)).text();
    }
    expect(metrics).to.match(/osis_sse_dropped_total\{context="default"\} 1/);
    socket.resume();
    await new Promise<void>((resolve) => (closed ? resolve() : socket.once('close', () => resolve())));
    expect(t.logs.some((line) => line.includes('dropped a slow event subscriber'))).to.equal(true);
  });

  it('ends open streams when the server closes', async () => {
    const feed = new SseClient(`${t.url}/events`);
    await feed.open();
    await t.close();
    await feed.waitFor(() => false).catch(() => undefined);
    expect(feed.ended).to.equal(true);
  });
});
