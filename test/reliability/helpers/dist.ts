import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '../../..');

function newest(dir: string, ext: string): number {
  let latest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) latest = Math.max(latest, newest(full, ext));
    else if (entry.name.endsWith(ext)) latest = Math.max(latest, fs.statSync(full).mtimeMs);
  }
  return latest;
}

/**
 * Fixtures that must restart fast run the built dist/ (as the CLI tests do). Fail clearly when it is
 * missing or older than src/ (`npm test` builds first; when running mocha alone, `npm run build`).
 */
export function assertDistIsCurrent(): void {
  const dist = path.join(ROOT, 'dist');
  if (!fs.existsSync(path.join(dist, 'api', 'library', 'store.js'))) throw new Error('dist/ is missing: run npm run build first');
  if (newest(path.join(ROOT, 'src'), '.ts') > newest(dist, '.js')) throw new Error('dist/ is older than src/: run npm run build first');
}
