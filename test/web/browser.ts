import * as fs from 'node:fs';
import * as path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Debian's Chromium (`apt-get install chromium`); nothing downloads a browser. */
export const CHROMIUM = '/usr/bin/chromium';
/** Screenshots of test runs (git-ignored). */
export const ARTIFACTS = path.join(__dirname, '..', '..', 'artifacts', 'web');

/** Launch headless Chromium the way CI does. Fails with the install command when it is missing. */
export async function launchChromium(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's browser with apt-get install -y chromium (.ci/run does)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

/** Save a screenshot of the page as a test artifact. */
export async function snap(page: Page, name: string): Promise<void> {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** Text of every cell of a table's body, row by row. */
export async function tableText(page: Page, selector: string): Promise<string[][]> {
  return page.$$eval(`${selector} tbody tr`, (rows) => rows.map((row) => [...(row as any).cells].map((c: any) => String(c.textContent ?? ''))));
}
