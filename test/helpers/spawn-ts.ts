import { spawn } from 'node:child_process';
import * as path from 'node:path';

/** Run a TypeScript file of test/fixtures in a real Node process; resolves with its exit code and output. */
export function runFixture(name: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const script = path.resolve(__dirname, '../fixtures', name);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', script, ...args], {
      cwd: path.resolve(__dirname, '../..'),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
