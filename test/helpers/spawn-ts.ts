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

/** A long-lived fixture process answering one stdout line per stdin line. */
export interface FixtureWorker {
  ask(request: unknown): Promise<string>;
  stop(): Promise<void>;
}

/** Start a fixture that serves requests line by line (one answer line per request, in order). */
export function startWorker(name: string, args: string[] = []): FixtureWorker {
  const script = path.resolve(__dirname, '../fixtures', name);
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', script, ...args], {
    cwd: path.resolve(__dirname, '../..'),
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const waiting: ((line: string) => void)[] = [];
  let buffer = '';
  child.stdout!.on('data', (chunk) => {
    buffer += chunk;
    let newline: number;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      waiting.shift()?.(line);
    }
  });
  return {
    ask(request) {
      return new Promise((resolve) => {
        waiting.push(resolve);
        child.stdin!.write(`${JSON.stringify(request)}\n`);
      });
    },
    stop() {
      return new Promise((resolve) => {
        child.once('close', () => resolve());
        child.stdin!.end();
      });
    },
  };
}
