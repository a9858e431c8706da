import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect } from 'chai';
import { OsisError } from '../../src';
import { loadSchema } from '../../src/api/library/schema';
import { readSeedFile } from '../../src/api/library/seed';
import { tempDir } from '../helpers/temp';
import { figure } from './helpers/config';
import { assertDistIsCurrent } from './helpers/dist';

const DEEP = 10_000;
const MiB = 1024 * 1024;

/** A bomb: a file the store reads (seed or schema) and the message its refusal must carry. */
interface Bomb {
  name: string;
  file: string;
  kind: 'seed' | 'schema';
  /** Write the file (sparse when large). */
  make: (file: string) => void;
  message: RegExp;
}

const text = (content: string) => (file: string) => fs.writeFileSync(file, content);
const sparse = (prefix: string, size: number) => (file: string) => {
  fs.writeFileSync(file, prefix);
  fs.truncateSync(file, size);
};

const BOMBS: Omit<Bomb, 'file'>[] = [
  { name: 'TOML arrays 10,000 deep', kind: 'seed', make: text(`[[user]]\nsid = "a"\nx = ${'['.repeat(DEEP)}${']'.repeat(DEEP)}\n`), message: /nested deeper than 64 at line 3/ },
  { name: 'TOML inline tables 10,000 deep', kind: 'seed', make: text(`[[user]]\nsid = "a"\nx = ${'{ a = '.repeat(DEEP)}1${' }'.repeat(DEEP)}\n`), message: /nested deeper than 64/ },
  { name: 'TOML dotted key of 10,000 parts', kind: 'seed', make: text(`[[user]]\nsid = "a"\n${Array(DEEP).fill('k').join('.')} = 1\n`), message: /more than 64 parts at line 3/ },
  { name: 'TOML table header of 10,000 parts', kind: 'schema', make: text(`[${Array(DEEP).fill('k').join('.')}]\nx = 1\n`), message: /more than 64 parts at line 1/ },
  { name: 'TOML 8,000 comment lines before a bad line', kind: 'seed', make: text(`${'# a comment line\n'.repeat(8000)}[[user]]\nsid = \n`), message: /not valid TOML: .*line 8002/ },
  { name: 'TOML 2 MiB string', kind: 'seed', make: text(`[[user]]\nsid = "a"\nbio = "${'x'.repeat(2 * MiB)}"\n`), message: /string is longer than 1048576 characters at line 3/ },
  { name: 'TOML 2 MiB multi-line literal string', kind: 'seed', make: text(`[[user]]\nsid = "a"\nbio = '''${'xy\n'.repeat(700_000)}'''\n`), message: /string is longer than 1048576/ },
  { name: 'TOML 100 MiB file', kind: 'seed', make: sparse('[[user]]\nsid = "a"\nbio = "', 100 * MiB), message: /larger than/ },
  { name: 'schema file of 2 MiB', kind: 'schema', make: text(`[types.user]\nindex = [${'"a", '.repeat(MiB / 2)}]\n`), message: /larger than 1048576 bytes/ },
  { name: 'schema TOML nested 10,000 deep', kind: 'schema', make: text(`x = ${'['.repeat(DEEP)}${']'.repeat(DEEP)}\n`), message: /nested deeper than 64/ },
  { name: 'JSON arrays 10,000 deep', kind: 'seed', make: text(`{"user":[{"sid":"a","x":${'['.repeat(DEEP)}${']'.repeat(DEEP)}}]}`), message: /nested deeper than 64/ },
  { name: 'JSON objects 10,000 deep', kind: 'seed', make: text(`{"user":[{"sid":"a","x":${'{"a":'.repeat(DEEP)}1${'}'.repeat(DEEP)}}]}`), message: /nested deeper than 64/ },
  { name: 'JSON 8,000 comment lines', kind: 'seed', make: text(`{"user":[\n${'// a comment line\n'.repeat(8000)}]}`), message: /not valid JSON/ },
  { name: 'JSON 30 MiB string', kind: 'seed', make: text(`{"user":[{"sid":"a","bio":"${'x'.repeat(30 * MiB)}"}]}`), message: /string longer than 1048576 characters/ },
  { name: 'JSON 100 MiB file', kind: 'seed', make: sparse('{"user":[{"sid":"a","bio":"', 100 * MiB), message: /larger than 67108864 bytes/ },
];

function load(kind: 'seed' | 'schema', file: string): void {
  if (kind === 'seed') readSeedFile(file);
  else loadSchema(file);
}

/** Fastest of `n` runs of `fn` in milliseconds (the minimum is what load on a shared machine distorts least). */
function fastest(n: number, fn: () => void): number {
  let best = Infinity;
  for (let i = 0; i < n; i++) {
    const start = process.hrtime.bigint();
    fn();
    best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e6);
  }
  return best;
}

describe('bombs: deep nesting, comment floods and huge strings get a clear error at once and bounded memory', function () {
  this.timeout(120_000);
  const dir = tempDir('osis-bombs-');
  const bombs: Bomb[] = BOMBS.map((b, i) => ({ ...b, file: path.join(dir, `bomb${i}.${b.name.startsWith('JSON') ? 'json' : 'toml'}`) }));
  const trivial = { seed: path.join(dir, 'trivial.toml'), schema: path.join(dir, 'trivial-schema.toml'), json: path.join(dir, 'trivial.json') };
  before(() => {
    for (const bomb of bombs) bomb.make(bomb.file);
    fs.writeFileSync(trivial.seed, '[[user]]\nsid = "a"\nname = "Ann"\n');
    fs.writeFileSync(trivial.schema, '[types.user]\nindex = ["name"]\n');
    fs.writeFileSync(trivial.json, '{"user":[{"sid":"a","name":"Ann"}]}');
  });

  it('each is refused with INVALID_INPUT naming the problem, within 100 ms plus 10× a trivial file read the same way', () => {
    const base = {
      seed: fastest(5, () => readSeedFile(trivial.seed)),
      json: fastest(5, () => readSeedFile(trivial.json)),
      schema: fastest(5, () => loadSchema(trivial.schema)),
    };
    const lines: string[] = [];
    for (const bomb of bombs) {
      let error: unknown;
      const ms = fastest(3, () => {
        try {
          load(bomb.kind, bomb.file);
          error = undefined;
        } catch (e) {
          error = e;
        }
      });
      expect(error instanceof OsisError && error.code === 'INVALID_INPUT', `${bomb.name}: ${String(error)}`).to.equal(true);
      expect((error as Error).message, bomb.name).to.match(bomb.message);
      const trivialMs = bomb.kind === 'schema' ? base.schema : bomb.file.endsWith('.json') ? base.json : base.seed;
      expect(ms, `${bomb.name}: ${ms.toFixed(1)} ms against ${trivialMs.toFixed(2)} ms for a trivial file`).to.be.below(100 + 10 * trivialMs);
      lines.push(`${bomb.name} ${ms.toFixed(1)} ms`);
    }
    figure(`bombs refused (fastest of 3; trivial seed ${base.seed.toFixed(2)} ms): ${lines.join('; ')}`);
  });

  it('refusing every bomb in one process with a 64 MiB heap keeps its peak RSS under 200 MB', () => {
    assertDistIsCurrent();
    const script = `
      const { readSeedFile } = require('./dist/api/library/seed');
      const { loadSchema } = require('./dist/api/library/schema');
      const bombs = JSON.parse(process.argv[1]);
      const codes = bombs.map((b) => { try { b.kind === 'seed' ? readSeedFile(b.file) : loadSchema(b.file); return 'accepted'; } catch (e) { return e.code || String(e); } });
      process.stdout.write(JSON.stringify({ codes, maxRssMb: process.resourceUsage().maxRSS / 1024 }));
    `;
    const run = spawnSync(process.execPath, ['--max-old-space-size=64', '-e', script, JSON.stringify(bombs.map(({ file, kind }) => ({ file, kind })))], {
      cwd: path.resolve(__dirname, '../..'),
      encoding: 'utf8',
    });
    expect(run.status, run.stderr).to.equal(0);
    const { codes, maxRssMb } = JSON.parse(run.stdout) as { codes: string[]; maxRssMb: number };
    expect(codes).to.deep.equal(bombs.map(() => 'INVALID_INPUT'));
    expect(maxRssMb).to.be.below(200);
    figure(`bombs: ${bombs.length} refused in one process, peak RSS ${maxRssMb.toFixed(0)} MB with a 64 MiB heap`);
  });
});
