import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

/** The built CLI, as `npx osis` runs it (npm ci and npm test build dist/ first). */
export const OSIS_BIN = path.resolve(__dirname, '../../dist/api/cli/main.js');

export interface OsisRun {
  code: number;
  stdout: string;
  stderr: string;
  lines: string[];
}

/** Run `osis ARGS` in `cwd` and capture everything. */
export function osis(args: string[], options: { cwd?: string; env?: Record<string, string>; input?: string } = {}): OsisRun {
  const result = spawnSync(process.execPath, [OSIS_BIN, ...args], {
    cwd: options.cwd,
    env: { ...process.env, OSIS_STORE: '', ...options.env },
    input: options.input,
    encoding: 'utf8',
  });
  const stdout = result.stdout ?? '';
  return { code: result.status ?? -1, stdout, stderr: result.stderr ?? '', lines: stdout.split('\n').filter((l) => l !== '') };
}
