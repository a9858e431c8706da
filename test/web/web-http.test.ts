import { expect } from 'chai';
import { diffObjects } from '../../src/api/web/diff';
import { escapeHtml, html } from '../../src/api/web/html';
import { parseRoute } from '../../src/api/web/routes';
import { startTestServer, resultOf, type TestServer } from '../service/helpers';

const TOKEN = 'web-token-0123456789';
const WEB_SCHEMA = { types: { user: { index: ['country', 'active'], unique: ['email'], text: ['name', 'bio'] } } };

async function seed(t: TestServer, n: number): Promise<void> {
  const calls = Array.from({ length: n }, (_, i) => ({
    jsonrpc: '2.0',
    id: i,
    method: 'user_new',
    params: { object: { name: `User ${i}`, country: ['be', 'nl', 'fr'][i % 3], active: i % 2 === 0, email: `u${i}@x` }, sid: `u${String(i).padStart(3, '0')}` },
  }));
  const { body } = await t.post(calls);
  for (const r of body) resultOf(r);
}

/** The CSRF token in a page's forms. */
function csrfOf(page: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(page);
  if (!match) throw new Error('no CSRF token in the page');
  return match[1];
}

describe('web UI over HTTP', function () {
  this.timeout(30_000);

  describe('building blocks', () => {
    it('escapes every interpolated value and keeps nested fragments as markup', () => {
      const evil = `<img src=x onerror="alert('x')">&`;
      expect(html`<p title="${evil}">${evil}</p>`.text).to.equal(`<p title="${escapeHtml(evil)}">${escapeHtml(evil)}</p>`);
      expect(escapeHtml(evil)).to.not.match(/[<>"']/);
      expect(html`<ul>${['<a>', html`<li>ok</li>`]}</ul>`.text).to.equal('<ul>&lt;a&gt;<li>ok</li></ul>');
      expect(html`${null}${undefined}${false}${0}`.text).to.equal('0');
    });

    it('diffs two versions into added, removed and changed fields', () => {
      expect(diffObjects({ sid: 'a', x: 1, y: [1], z: 'k' }, { sid: 'a', x: 2, y: [1], w: null })).to.deep.equal({
        added: { w: null },
        removed: { z: 'k' },
        changed: { x: { from: 1, to: 2 } },
      });
      expect(diffObjects(null, { sid: 'a' }).added).to.deep.equal({ sid: 'a' });
      expect(diffObjects({ sid: 'a' }, null).removed).to.deep.equal({ sid: 'a' });
    });

    it('routes pages and their JSON twins; a sid ending in .json is reached as %2Ejson', () => {
      expect(parseRoute('/')).to.deep.equal({ page: 'home', json: false });
      expect(parseRoute('/index.json')).to.deep.equal({ page: 'home', json: true });
      expect(parseRoute('/t/user.json')).to.deep.equal({ page: 'type', type: 'user', json: true });
      expect(parseRoute('/t/user/u1')).to.deep.equal({ page: 'object', type: 'user', sid: 'u1', json: false });
      expect(parseRoute('/t/user/a%2Ejson')).to.deep.equal({ page: 'object', type: 'user', sid: 'a.json', json: false });
      expect(parseRoute('/t/user/a%2Ejson.json')).to.deep.equal({ page: 'object', type: 'user', sid: 'a.json', json: true });
      expect(parseRoute('/t/user/u1/x')).to.equal(undefined);
      expect(parseRoute('/t//u1')).to.equal(undefined);
      expect(parseRoute('/nope')).to.equal(undefined);
    });
  });

  describe('without a token', () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer({ schema: WEB_SCHEMA });
      await seed(t, 30);
    });
    after(() => t.close());

    it('serves every page with a strict CSP and no inline script', async () => {
      for (const path of ['/', '/t/user', '/t/user/u001', '/log', '/projections', '/login']) {
        const response = await fetch(`${t.url}${path}`);
        expect(response.status, path).to.equal(200);
        expect(response.headers.get('content-security-policy')).to.include("script-src 'self'").and.include("default-src 'none'");
        expect(response.headers.get('x-frame-options')).to.equal('DENY');
        const text = await response.text();
        expect(text.match(/<script[^>]*>/g), path).to.deep.equal(['<script src="/assets/osis.js" defer>']);
        expect(text, path).to.not.match(/\son[a-z]+=/i);
      }
      const script = await fetch(`${t.url}/assets/osis.js`);
      expect(script.headers.get('content-type')).to.match(/^text\/javascript/);
      expect(await script.text()).to.not.include('innerHTML');
    });

    it('answers each JSON twin from the same data as its page', async () => {
      const home = (await (await fetch(`${t.url}/index.json`)).json()) as any;
      expect(home).to.include({ context: 'default', backend: 'sqlite', head: 30 });
      expect(home.types).to.deep.include({ type: 'user', count: 30, declared: true, indexed: ['country', 'active', 'email'], text: ['name', 'bio'] });
      const page = await (await fetch(`${t.url}/`)).text();
      expect(page).to.include('<td class="num">30</td>');
      const type = (await (await fetch(`${t.url}/t/user.json?country=nl&limit=5`)).json()) as any;
      expect(type.matches).to.deep.equal({ count: 10, exact: true });
      expect(type.rows.map((r: any) => r.sid)).to.deep.equal(['u001', 'u004', 'u007', 'u010', 'u013']);
      expect(type.next_cursor).to.be.a('string');
      const object = (await (await fetch(`${t.url}/t/user/u001.json`)).json()) as any;
      expect(object.shown.object).to.deep.equal({ sid: 'u001', name: 'User 1', country: 'nl', active: false, email: 'u1@x' });
      const log = (await (await fetch(`${t.url}/log.json?type=user`)).json()) as any;
      expect(log.events.map((e: any) => e.position).slice(0, 3)).to.deep.equal([30, 29, 28]);
    });

    it('gives facet counts over the whole type from the maintained counts, and over the matches when filtered', async () => {
      const all = (await (await fetch(`${t.url}/t/user.json`)).json()) as any;
      const country = all.facets.find((f: any) => f.field === 'country');
      expect(country.scope).to.equal('type');
      expect(country.values.map((v: any) => [v.value, v.count])).to.have.deep.members([['be', 10], ['nl', 10], ['fr', 10]]);
      const filtered = (await (await fetch(`${t.url}/t/user.json?country=be&country=fr&active=true`)).json()) as any;
      expect(filtered.matches).to.deep.equal({ count: 10, exact: true });
      expect(filtered.facets.find((f: any) => f.field === 'country').values).to.have.deep.members([
        { value: 'be', count: 5, selected: true },
        { value: 'fr', count: 5, selected: true },
      ]);
    });

    it('shows bad input as a clear error page that writes nothing: unknown context, field, limit, at, sid', async () => {
      const unknown = await fetch(`${t.url}/?context=nope`);
      expect(unknown.status).to.equal(400);
      const text = await unknown.text();
      expect(text).to.include('unknown context &quot;nope&quot;').and.include('href="/"');
      expect(((await (await fetch(`${t.url}/index.json?context=nope`)).json()) as any).error.data.known).to.deep.equal(['default']);
      const field = await fetch(`${t.url}/t/user.json?name=x`);
      expect(field.status).to.equal(400);
      expect(((await field.json()) as any).error.message).to.equal('name is not an indexed field of user: filters take country, active, email');
      expect((await fetch(`${t.url}/t/user?limit=0`)).status).to.equal(400);
      expect((await fetch(`${t.url}/t/user/u001?at=yesterday`)).status).to.equal(400);
      expect((await fetch(`${t.url}/t/user/nobody`)).status).to.equal(404);
      expect((await fetch(`${t.url}/t/User`)).status).to.equal(400);
      expect((await fetch(`${t.url}/log?before=x`)).status).to.equal(400);
      expect((await fetch(`${t.url}/t/user/%E0%A4%A`)).status).to.equal(400);
      expect(((await (await fetch(`${t.url}/index.json`)).json()) as any).head).to.equal(30);
    });

    it('refuses a rebuild POST without the CSRF token or from another site, and starts it with one', async () => {
      const page = await (await fetch(`${t.url}/projections`)).text();
      const csrf = csrfOf(page);
      const form = (body: string, headers: Record<string, string> = {}) =>
        fetch(`${t.url}/projections/rebuild`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body });
      expect((await form('')).status).to.equal(401);
      expect((await form('_csrf=wrong')).status).to.equal(401);
      expect((await form(`_csrf=${csrf}`, { origin: 'http://evil.example' })).status).to.equal(401);
      expect((await form(`_csrf=${csrf}`, { 'sec-fetch-site': 'cross-site' })).status).to.equal(401);
      expect((await fetch(`${t.url}/projections/rebuild`)).status).to.equal(405);
      const started = await form(`_csrf=${encodeURIComponent(csrf)}`);
      expect(started.status).to.equal(303);
      expect(started.headers.get('location')).to.equal('/projections');
      let job: any;
      do job = ((await (await fetch(`${t.url}/projections/job.json`)).json()) as any).job;
      while (job.state === 'running');
      expect(job).to.include({ kind: 'rebuild', state: 'done', done: 30, total: 30 });
    });

    it('keeps the JSON-RPC edge as it was: unknown paths 404, /rpc, /health', async () => {
      expect((await fetch(`${t.url}/nope`)).status).to.equal(404);
      expect((await fetch(`${t.url}/health`)).status).to.equal(200);
      expect(resultOf(await t.call('user_exists', { sid: 'u001' }))).to.equal(true);
    });
  });

  describe('an erased object', () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer({ schema: { types: { user: { ...WEB_SCHEMA.types.user, personal: ['name', 'email'] } } } });
      resultOf((await t.post({ jsonrpc: '2.0', id: 1, method: 'user_new', params: { object: { name: 'Wilhelmina Erased', email: 'w@x', country: 'be' }, sid: 'w1' } })).body);
      resultOf((await t.post({ jsonrpc: '2.0', id: 2, method: 'user_erase', params: { sid: 'w1', reason: 'asked' } })).body);
    });
    after(() => t.close());

    it('is shown as erased, with its history and without its personal values, at every point in time', async () => {
      for (const path of ['/t/user/w1', '/t/user/w1?at=1']) {
        const page = await (await fetch(`${t.url}${path}`)).text();
        expect(page, path).to.not.include('Wilhelmina');
        expect(page, path).to.include('erased');
      }
      expect(await (await fetch(`${t.url}/t/user/w1`)).text()).to.include('This object is erased');
      const object = (await (await fetch(`${t.url}/t/user/w1.json?at=1`)).json()) as any;
      expect(object).to.include({ erased: true, shown: null, now: null });
      const log = await (await fetch(`${t.url}/log`)).text();
      expect(log).to.not.include('Wilhelmina');
    });
  });

  describe('with a token', () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer({ schema: WEB_SCHEMA, token: TOKEN });
      await seed(t, 3).catch(() => undefined);
      resultOf(await t.call('user_new', { object: { name: 'A' }, sid: 'a' }, { authorization: `Bearer ${TOKEN}` }));
    });
    after(() => t.close());

    it('sends pages to the login form and JSON twins a 401; a bearer token or the login cookie opens them', async () => {
      const page = await fetch(`${t.url}/t/user?q=a`, { redirect: 'manual' });
      expect(page.status).to.equal(303);
      expect(page.headers.get('location')).to.equal('/login?next=%2Ft%2Fuser%3Fq%3Da');
      expect((await fetch(`${t.url}/index.json`)).status).to.equal(401);
      expect((await fetch(`${t.url}/index.json`, { headers: { authorization: 'Bearer wrong' } })).status).to.equal(401);
      expect((await fetch(`${t.url}/index.json`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).to.equal(200);
      expect((await fetch(`${t.url}/events`)).status).to.equal(401);

      const loginPage = await (await fetch(`${t.url}/login`)).text();
      const csrf = csrfOf(loginPage);
      const login = (token: string, next: string) =>
        fetch(`${t.url}/login`, {
          method: 'POST',
          redirect: 'manual',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ _csrf: csrf, token, next }).toString(),
        });
      expect((await login('wrong', '/')).status).to.equal(401);
      const ok = await login(TOKEN, '//evil.example/');
      expect(ok.status).to.equal(303);
      expect(ok.headers.get('location')).to.equal('/');
      const cookie = ok.headers.get('set-cookie')!;
      expect(cookie).to.match(/^osis_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=43200$/);
      const session = cookie.split(';')[0];
      expect((await fetch(`${t.url}/index.json`, { headers: { cookie: session } })).status).to.equal(200);
      const events = await fetch(`${t.url}/events?from=1`, { headers: { cookie: session } });
      expect(events.status).to.equal(200);
      await events.body?.cancel();
      expect((await fetch(`${t.url}/rpc`, { method: 'POST', headers: { cookie: session, 'content-type': 'application/json' }, body: '{}' })).status).to.equal(401);

      const home = await (await fetch(`${t.url}/`, { headers: { cookie: session } })).text();
      const out = await fetch(`${t.url}/logout`, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie: session, 'content-type': 'application/x-www-form-urlencoded' },
        body: `_csrf=${encodeURIComponent(csrfOf(home))}`,
      });
      expect(out.status).to.equal(303);
      expect((await fetch(`${t.url}/index.json`, { headers: { cookie: session } })).status).to.equal(401);
    });

    it('lets a bearer client POST a rebuild without a CSRF token (no cookie is involved)', async () => {
      const response = await fetch(`${t.url}/projections/rebuild`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' },
        body: '',
      });
      expect(response.status).to.equal(202);
      expect(((await response.json()) as any).job).to.include({ kind: 'rebuild' });
    });
  });
});
