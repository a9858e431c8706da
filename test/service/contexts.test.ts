import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { contextLayout } from '../../src/api/service/contexts';
import { resultOf, SseClient, startTestServer, type TestServer } from './helpers';

const acme = { 'X-Hero-Context': 'acme' };
const beta = { 'X-Hero-Context': 'beta' };

describe('service: contexts (X-Hero-Context)', () => {
  let t: TestServer;
  beforeEach(async () => {
    t = await startTestServer();
  });
  afterEach(async () => {
    await t.close();
  });

  it('creates contexts as data, idempotently, and lists them default first', async () => {
    expect(resultOf(await t.call('context_list'))).to.deep.equal(['default']);
    expect(resultOf(await t.call('context_create', { name: 'beta' }))).to.deep.equal({ name: 'beta', created: true });
    expect(resultOf(await t.call('context_create', { name: 'acme' }))).to.deep.equal({ name: 'acme', created: true });
    expect(resultOf(await t.call('context_create', { name: 'acme' }))).to.deep.equal({ name: 'acme', created: false });
    expect(resultOf(await t.call('context_create', { name: 'default' }))).to.deep.equal({ name: 'default', created: false });
    expect(resultOf(await t.call('context_list'))).to.deep.equal(['default', 'acme', 'beta']);
    const registry = JSON.parse(fs.readFileSync(path.join(t.dir, 'osis.contexts.json'), 'utf8'));
    expect(registry.contexts).to.deep.equal(['acme', 'beta']);
  });

  it('refuses an unknown context with -32602 naming the known ones, never falling back', async () => {
    resultOf(await t.call('context_create', { name: 'acme' }));
    resultOf(await t.call('user_new', { object: { name: 'in default' }, sid: 'u1' }));
    const response = await t.call('user_get', { sid: 'u1' }, { 'X-Hero-Context': 'acmee' });
    expect(response.error.code).to.equal(-32602);
    expect(response.error.data).to.include({ code: 'INVALID_INPUT', context: 'acmee' });
    expect(response.error.data.known).to.deep.equal(['default', 'acme']);
    const written = await t.call('user_new', { object: { name: 'x' } }, { 'X-Hero-Context': 'nowhere' });
    expect(written.error.code).to.equal(-32602);
    expect(resultOf(await t.call('stats')).head).to.equal(1);
  });

  it('refuses invalid context names', async () => {
    for (const name of ['../x', 'Acme', '', 'a'.repeat(64), 'a b']) {
      const response = await t.call('context_create', { name });
      expect(response.error.code, name).to.equal(-32602);
    }
    const header = await t.call('stats', undefined, { 'X-Hero-Context': '../../etc' });
    expect(header.error.code).to.equal(-32602);
    expect(fs.readdirSync(t.dir).filter((f) => f.includes('ctx-'))).to.deep.equal([]);
  });

  it('keeps objects, positions and projections of one context out of reach of another', async () => {
    resultOf(await t.call('context_create', { name: 'acme' }));
    resultOf(await t.call('context_create', { name: 'beta' }));
    resultOf(await t.call('user_new', { object: { name: 'Default Ann', email: 'ann@x' }, sid: 'u1' }));
    resultOf(await t.call('user_new', { object: { name: 'Acme Ann', email: 'ann@x' }, sid: 'u1' }, acme));
    resultOf(await t.call('user_new', { object: { name: 'Acme Bob', email: 'bob@x' }, sid: 'u2' }, acme));

    expect(resultOf(await t.call('user_get', { sid: 'u1' })).name).to.equal('Default Ann');
    expect(resultOf(await t.call('user_get', { sid: 'u1' }, acme)).name).to.equal('Acme Ann');
    expect((await t.call('user_get', { sid: 'u2' })).error.code).to.equal(-32001);
    expect((await t.call('user_get', { sid: 'u1' }, beta)).error.code).to.equal(-32001);
    expect(resultOf(await t.call('user_exists', { sid: 'u2' }, beta))).to.equal(false);

    expect((await t.call('user_update', { sid: 'u2', patch: { name: 'hijack' } })).error.code).to.equal(-32001);
    expect((await t.call('user_delete', { sid: 'u2' }, beta)).error.code).to.equal(-32001);
    expect((await t.call('user_set', { object: { sid: 'u2', name: 'hijack' } })).error.code).to.equal(-32001);
    resultOf(await t.call('user_delete', { sid: 'u1' }));
    expect(resultOf(await t.call('user_get', { sid: 'u1' }, acme)).name).to.equal('Acme Ann');
    expect(resultOf(await t.call('user_get', { sid: 'u2' }, acme)).name).to.equal('Acme Bob');

    expect(resultOf(await t.call('user_list', {}, acme)).items).to.deep.equal(['u1', 'u2']);
    expect(resultOf(await t.call('user_list', {})).items).to.deep.equal([]);
    expect(resultOf(await t.call('user_find', { text: 'ann' }, beta)).items).to.deep.equal([]);
    expect(resultOf(await t.call('user_find', { filter: { email: 'bob@x' } }, acme)).items).to.deep.equal(['u2']);
    expect(resultOf(await t.call('user_history', { sid: 'u1' }, acme))).to.have.length(1);

    expect(resultOf(await t.call('stats')).head).to.equal(2);
    expect(resultOf(await t.call('stats', undefined, acme))).to.include({ context: 'acme', head: 2 });
    expect(resultOf(await t.call('stats', undefined, beta)).head).to.equal(0);
    const acmeLog = resultOf(await t.call('log_read', {}, acme)).items;
    expect(acmeLog.map((e: { position: number; sid: string }) => [e.position, e.sid])).to.deep.equal([[1, 'u1'], [2, 'u2']]);
    expect(resultOf(await t.call('log_read', {}, beta)).items).to.deep.equal([]);
  });

  it('gives each context its own change feed', async () => {
    resultOf(await t.call('context_create', { name: 'acme' }));
    const feed = new SseClient(`${t.url}/events?from=1`, acme);
    await feed.open();
    try {
      resultOf(await t.call('user_new', { object: { name: 'default' }, sid: 'd1' }));
      resultOf(await t.call('user_new', { object: { name: 'acme' }, sid: 'a1' }, acme));
      await feed.waitFor((events) => events.length >= 1);
      await new Promise((resolve) => setTimeout(resolve, 150));
      expect(feed.events.map((e) => JSON.parse(e.data).sid)).to.deep.equal(['a1']);
      expect(feed.events[0].id).to.equal('1');
    } finally {
      feed.close();
    }
  });

  it('keeps contexts and their objects across a restart', async () => {
    resultOf(await t.call('context_create', { name: 'acme' }));
    resultOf(await t.call('user_new', { object: { name: 'kept' }, sid: 'k' }, acme));
    await t.close();
    t = await startTestServer({ storeUrl: `sqlite:${path.join(t.dir, 'osis.db')}` });
    expect(resultOf(await t.call('context_list'))).to.deep.equal(['default', 'acme']);
    expect(resultOf(await t.call('user_get', { sid: 'k' }, acme)).name).to.equal('kept');
  });

  it('isolates contexts on a memory store too', async () => {
    await t.close();
    t = await startTestServer({ storeUrl: 'memory:' });
    resultOf(await t.call('context_create', { name: 'acme' }));
    resultOf(await t.call('user_new', { object: { name: 'm' }, sid: 'm' }, acme));
    expect((await t.call('user_get', { sid: 'm' })).error.code).to.equal(-32001);
    expect(resultOf(await t.call('context_list'))).to.deep.equal(['default', 'acme']);
  });

  it('derives sibling stores from the base URL', () => {
    expect(contextLayout('sqlite:./data/osis.db').urlOf('acme')).to.equal('sqlite:data/osis.ctx-acme.db');
    expect(contextLayout('sqlite:./data/osis.db').registryFile).to.equal('data/osis.contexts.json');
    expect(contextLayout('file:./data/log/').urlOf('acme')).to.equal('file:./data/log.ctx-acme');
    expect(contextLayout('memory:').urlOf('acme')).to.equal('memory:');
    expect(contextLayout('memory:').registryFile).to.equal(undefined);
  });
});
