/**
 * Regenerates the README's screenshots of the web UI (docs/web/*.png):
 * `npx ts-node --transpile-only test/web/docs-screenshots.ts`. Needs /usr/bin/chromium.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { resultOf, startTestServer } from '../service/helpers';
import { launchChromium } from './browser';

const OUT = path.join(__dirname, '..', '..', 'docs', 'web');
const SCHEMA = { types: { user: { index: ['country', 'plan'], unique: ['email'], text: ['name', 'bio'] }, invoice: { index: ['status'], unique: [] } } };
const NAMES = ['Ann Lee', 'Bo Chen', 'Cleo Diaz', 'Dev Patel', 'Eva Novak', 'Finn Berg', 'Gia Rossi', 'Hugo Blanc', 'Ines Moreau', 'Jan de Vries'];

async function main(): Promise<void> {
  const t = await startTestServer({ schema: SCHEMA });
  const browser = await launchChromium();
  try {
    const calls = [];
    for (let i = 0; i < 240; i++) {
      const name = `${NAMES[i % NAMES.length]}${i >= NAMES.length ? ` ${Math.floor(i / NAMES.length) + 1}` : ''}`;
      calls.push({
        jsonrpc: '2.0',
        id: i,
        method: 'user_new',
        params: { object: { name, email: `user${i}@example.org`, country: ['be', 'nl', 'fr', 'de'][i % 4], plan: ['free', 'pro', 'team'][i % 3], bio: i % 5 === 0 ? 'gardening and chess' : 'reads a lot' }, sid: `u${String(i).padStart(3, '0')}` },
      });
    }
    for (let i = 0; i < 60; i++) calls.push({ jsonrpc: '2.0', id: 1000 + i, method: 'invoice_new', params: { object: { total: 100 + i, status: i % 4 ? 'paid' : 'open' }, sid: `inv${i}` } });
    for (const r of (await t.post(calls)).body) resultOf(r);
    resultOf(await t.call('user_update', { sid: 'u001', patch: { plan: 'team', bio: 'gardening, chess and <b>tea</b>' } }));
    resultOf(await t.call('user_update', { sid: 'u001', patch: { country: 'se', nickname: 'Bo' } }));
    resultOf(await t.call('context_create', { name: 'staging' }));
    fs.mkdirSync(OUT, { recursive: true });
    const context = await browser.newContext({ viewport: { width: 1000, height: 620 } });
    const page = await context.newPage();
    const shot = async (name: string, url: string, before?: () => Promise<void>) => {
      await page.goto(`${t.url}${url}`);
      if (before) await before();
      await page.screenshot({ path: path.join(OUT, `${name}.png`) });
    };
    await shot('home', '/');
    await shot('type', '/t/user?country=be&q=chess');
    await shot('object', '/t/user/u001');
    await shot('log', '/log', async () => {
      await page.waitForSelector('#live[data-state="live"]');
      resultOf(await t.call('invoice_update', { sid: 'inv3', patch: { status: 'paid' } }));
      await page.waitForSelector('#log tbody tr.fresh');
    });
    await shot('projections', '/projections', async () => {
      await page.click('button:text("Check parity")');
      await page.waitForSelector('#job-outcome');
    });
    await context.close();
  } finally {
    await browser.close();
    await t.close();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
