import { spawn, type ChildProcess } from 'node:child_process';
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

/** A running fixture process whose stdout is read line by line. */
export interface RunningFixture {
  child: ChildProcess;
  lines: string[];
  stderr(): string;
  /** Resolves with the first line (already read or to come) matching `test`. */
  line(test: (line: string) => boolean, ms?: number): Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Start a TypeScript file of test/fixtures in a real Node process and keep a handle on it. */
export function startFixture(name: string, args: string[]): RunningFixture {
  const script = path.resolve(__dirname, '../fixtures', name);
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', script, ...args], {
    cwd: path.resolve(__dirname, '../..'),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let partial = '';
  let stderr = '';
  const waiters = new Set<() => void>();
  child.stdout!.on('data', (chunk: Buffer) => {
    const parts = (partial + chunk.toString()).split('\n');
    partial = parts.pop()!;
    lines.push(...parts);
    for (const wake of [...waiters]) wake();
  });
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, signal) => {
      for (const wake of [...waiters]) wake();
      resolve({ code, signal });
    });
  });
  const line = (test: (line: string) => boolean, ms = 60_000) =>
    new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => finish(new Error(`no matching line from ${name} within ${ms} ms; stderr: ${stderr}`)), ms);
      const check = () => {
        const found = lines.find(test);
        if (found !== undefined) finish(undefined, found);
        else if (child.exitCode !== null || child.signalCode !== null) finish(new Error(`${name} exited without a matching line; stderr: ${stderr}`));
      };
      const finish = (error?: Error, found?: string) => {
        clearTimeout(timer);
        waiters.delete(check);
        if (error) reject(error);
        else resolve(found!);
      };
      waiters.add(check);
      check();
    });
  return { child, lines, stderr: () => stderr, line, exited };
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
