import { expect } from 'chai';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { resultOf, startTestServer, type TestServer } from '../service/helpers';
import { launchChromium, snap, tableText } from './browser';

const TOKEN = 'browser-token-0123456789';
const SCHEMA = { types: { user: { index: ['country', 'active'], unique: ['email'], text: ['name', 'bio'] } } };
const XSS = `<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>"'&`;

async function rpc(t: TestServer, method: string, params: unknown, headers: Record<string, string> = {}): Promise<any> {
  return resultOf(await t.call(method, params, headers));
}

/** `n` users in batches: names, three countries, every other one active. */
async function seedUsers(t: TestServer, n: number, first = 0): Promise<void> {
  for (let start = first; start < first + n; start += 500) {
    const calls = [];
    for (let i = start; i < Math.min(first + n, start + 500); i++) {
      calls.push({
        jsonrpc: '2.0',
        id: i,
        method: 'user_new',
        params: { object: { name: `Person ${i}`, country: ['be', 'nl', 'fr'][i % 3], active: i % 2 === 0, email: `p${i}@x` }, sid: `p${String(i).padStart(5, '0')}` },
      });
    }
    const { body } = await t.post(calls);
    for (const r of body) resultOf(r);
  }
}

describe('web UI in headless Chromium', function () {
  this.timeout(120_000);
  let browser: Browser;
  let t: TestServer;
  let context: BrowserContext;
  let page: Page;

  before(async () => {
    browser = await launchChromium();
    t = await startTestServer({ schema: SCHEMA });
    await seedUsers(t, 120);
    await rpc(t, 'user_new', { object: { name: XSS, bio: XSS, country: 'be', email: 'x@x' }, sid: 'xss' });
    await rpc(t, 'user_update', { sid: 'p00001', patch: { country: 'de', bio: 'likes chess' } });
    await rpc(t, 'user_update', { sid: 'p00001', patch: { active: null, name: 'Person One' } });
  });
  after(async () => {
    await browser?.close();
    await t?.close();
  });
  beforeEach(async () => {
    context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
    page = await context.newPage();
    page.on('pageerror', (error) => {
      throw error;
    });
  });
  afterEach(() => context.close());

  it('goes from / to a type, searches, filters by a facet and pages', async () => {
    await page.goto(t.url);
    const types = await tableText(page, '#types');
    const home = (await (await fetch(`${t.url}/index.json`)).json()) as any;
    expect(types.map((r) => [r[0], r[1]])).to.deep.equal(home.types.map((x: any) => [x.type, x.count.toLocaleString('en-US')]));
    await snap(page, 'home');
    await page.click('#types a:text("user")');
    await page.waitForURL(/\/t\/user$/);
    let rows = await tableText(page, '#objects');
    expect(rows).to.have.length(50);
    expect(rows[0][0]).to.equal('p00000');
    await snap(page, 'type');

    await page.click('nav.pager a[rel="next"]');
    await page.waitForURL(/cursor=/);
    rows = await tableText(page, '#objects');
    expect(rows[0][0]).to.equal('p00050');
    const twin = (await (await fetch(`${t.url}/t/user.json?${new URL(page.url()).searchParams}`)).json()) as any;
    expect(rows.map((r) => r[0])).to.deep.equal(twin.rows.map((r: any) => r.sid));

    await page.fill('input[name="q"]', 'chess');
    await page.click('form.search button');
    await page.waitForURL(/q=chess/);
    rows = await tableText(page, '#objects');
    expect(rows.map((r) => r[0])).to.deep.equal(['p00001']);

    await page.goto(`${t.url}/t/user`);
    await page.click('.facet[data-field="country"] a:text("nl")');
    await page.waitForURL(/country=nl/);
    expect(await page.textContent('#match-count')).to.equal('39'); // p00001 moved to de
    rows = await tableText(page, '#objects');
    expect(rows.every((r) => r.includes('nl'))).to.equal(true);
    const activeFacet = await page.$$eval('.facet[data-field="active"] li', (lis) => lis.map((li) => li.textContent?.replace(/\s+/g, ' ').trim()));
    const filtered = (await (await fetch(`${t.url}/t/user.json?country=nl`)).json()) as any;
    expect(activeFacet).to.deep.equal(filtered.facets.find((f: any) => f.field === 'active').values.map((v: any) => `${v.value} ${v.count}`));
    await page.click('.facet[data-field="active"] a:text("1")');
    await page.waitForURL(/active=1/);
    expect(await page.textContent('#match-count')).to.equal('20');
    await snap(page, 'type-filtered');
  });

  it('opens an object with its diff and travels back in time', async () => {
    await page.goto(`${t.url}/t/user`);
    await page.click('#objects a:text("p00001")');
    await page.waitForURL(/\/t\/user\/p00001$/);
    const fields = Object.fromEntries(await tableText(page, '#fields'));
    const twin = (await (await fetch(`${t.url}/t/user/p00001.json`)).json()) as any;
    expect(fields).to.deep.equal(Object.fromEntries(Object.entries(twin.shown.object).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)])));
    expect(fields.name).to.equal('Person One');
    const newest = await page.$$eval('#v3 .diff li', (lis) => lis.map((li) => li.textContent?.replace(/\s+/g, ' ').trim()));
    expect(newest).to.deep.equal(['− active false', '~ name Person 1 → Person One']);
    const second = await page.$$eval('#v2 .diff li', (lis) => lis.map((li) => li.className));
    expect(second).to.deep.equal(['added', 'changed']);
    await snap(page, 'object');

    await page.click('a[rel="prev"]');
    await page.waitForURL(/at=\d+/);
    expect(await page.textContent('#time-travel')).to.include('(version 2)');
    expect(Object.fromEntries(await tableText(page, '#fields'))).to.include({ country: 'de', name: 'Person 1', active: 'false' });
    await page.click('a[rel="prev"]');
    expect(Object.fromEntries(await tableText(page, '#fields'))).to.include({ country: 'nl' });
    expect(await page.$('a[rel="prev"]')).to.equal(null);
    await snap(page, 'object-at');
    await page.fill('input[name="at"]', '1');
    await page.click('.stepper button');
    expect(await page.textContent('#time-travel')).to.include('it did not exist then');
  });

  it('shows a write made over JSON-RPC in the live log, and holds it back while paused', async () => {
    await page.goto(`${t.url}/log`);
    await page.waitForSelector('#live[data-state="live"]');
    const before = await tableText(page, '#log');
    const logTwin = (await (await fetch(`${t.url}/log.json`)).json()) as any;
    expect(before.map((r) => Number(r[0]))).to.deep.equal(logTwin.events.map((e: any) => e.position));
    await rpc(t, 'user_new', { object: { name: `live ${XSS}`, country: 'be' }, sid: 'live1' });
    await page.waitForSelector('#log tbody tr[data-position] >> text=live1');
    const top = (await tableText(page, '#log'))[0];
    expect(top.slice(2, 6)).to.deep.equal(['user', 'live1', 'created', '1']);
    expect(top[6]).to.include('<img src=x');

    await page.click('#pause');
    await page.waitForSelector('#live[data-state="paused"]');
    await rpc(t, 'user_update', { sid: 'live1', patch: { country: 'nl' } });
    await new Promise((r) => setTimeout(r, 400));
    expect((await tableText(page, '#log'))[0][3]).to.equal('live1');
    expect((await tableText(page, '#log'))[0][4]).to.equal('created');
    await snap(page, 'log');
    await page.click('#resume');
    await page.waitForSelector('#log tbody tr.updated >> text=live1');
    const rows = await tableText(page, '#log');
    expect(rows.filter((r) => r[3] === 'live1').map((r) => r[4])).to.deep.equal(['updated', 'created']);
    expect(await page.evaluate(() => (globalThis as any).__xss)).to.equal(undefined);
  });

  it('keeps an XSS payload as text on every page', async () => {
    for (const path of ['/t/user?q=onerror', '/t/user/xss', '/log', '/t/user?country=be']) {
      await page.goto(`${t.url}${path}`);
      expect(await page.evaluate(() => (globalThis as any).__xss), path).to.equal(undefined);
      expect(await page.$$('main img, main script'), path).to.have.length(0);
    }
    await page.goto(`${t.url}/t/user/xss`);
    const fields = Object.fromEntries(await tableText(page, '#fields'));
    expect(fields.name).to.equal(XSS);
  });

  it('rebuilds the projections from the projections page, with progress', async () => {
    await seedUsers(t, 6000, 1000);
    const head = ((await (await fetch(`${t.url}/index.json`)).json()) as any).head;
    let twin: any;
    do twin = await (await fetch(`${t.url}/projections.json`)).json(); // the full-text index catches up in the background
    while (twin.projections.some((p: any) => p.lag_events > 0));
    await page.goto(`${t.url}/projections`);
    const rows = await tableText(page, '#projections');
    expect(rows.map((r) => [r[0], r[1], Number(r[2].replace(/,/g, ''))])).to.deep.equal(twin.projections.map((p: any) => [p.name, p.kind, p.position]));
    const polled: any[] = [];
    page.on('response', async (response) => {
      if (response.url().includes('/projections/job.json')) polled.push(((await response.json()) as any).job);
    });
    await page.click('button:text("Rebuild projections")');
    await page.waitForURL(/\/projections$/);
    await page.waitForSelector('#job-outcome', { timeout: 60_000 });
    expect(await page.textContent('#job-outcome')).to.match(/^Rebuilt 6,1\d\d objects from [\d,]+ events up to position [\d,]+; parity [0-9a-f]+\.$/);
    expect(await page.getAttribute('#job-progress', 'value')).to.equal(String(head));
    expect(await page.getAttribute('#job-progress', 'max')).to.equal(String(head));
    for (let i = 1; i < polled.length; i++) expect(polled[i].done).to.be.at.least(polled[i - 1].done);
    await snap(page, 'projections');

    await page.click('button:text("Check parity")');
    await page.waitForSelector('#job-outcome.ok >> text=Parity holds');
  });

  it('asks for the token, signs in with a cookie, and goes live with it', async () => {
    const secured = await startTestServer({ schema: SCHEMA, token: TOKEN });
    try {
      const auth = { authorization: `Bearer ${TOKEN}` };
      await rpc(secured, 'user_new', { object: { name: 'Secret', country: 'be' }, sid: 's1' }, auth);
      await page.goto(`${secured.url}/t/user`);
      expect(new URL(page.url()).pathname).to.equal('/login');
      await snap(page, 'login');
      await page.fill('input[name="token"]', 'wrong-token');
      await page.click('form.login button');
      expect(await page.textContent('#login-error')).to.equal('That token is not right.');
      await page.fill('input[name="token"]', TOKEN);
      await page.click('form.login button');
      await page.waitForURL(/\/t\/user$/);
      expect((await tableText(page, '#objects'))[0][0]).to.equal('s1');
      const [cookie] = await context.cookies();
      expect(cookie).to.include({ name: 'osis_session', httpOnly: true, sameSite: 'Strict' });

      await page.goto(`${secured.url}/log`);
      await page.waitForSelector('#live[data-state="live"]');
      await rpc(secured, 'user_new', { object: { name: 'Later' }, sid: 's2' }, auth);
      await page.waitForSelector('#log tbody tr >> text=s2');

      await page.click('button:text("Sign out")');
      await page.waitForURL(/\/login$/);
      await page.goto(`${secured.url}/`);
      expect(new URL(page.url()).pathname).to.equal('/login');
    } finally {
      await secured.close();
    }
  });

  it('works in a narrow window', async () => {
    await page.setViewportSize({ width: 390, height: 800 });
    await page.goto(`${t.url}/t/user`);
    const overflow = await page.evaluate(() => {
      const root = (globalThis as any).document.documentElement;
      return root.scrollWidth - root.clientWidth;
    });
    expect(overflow).to.be.at.most(0);
    await snap(page, 'type-narrow');
  });
});
