import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.resolve(__dirname, '../..');

describe('README examples', function () {
  this.timeout(60_000);

  it('shows examples/quickstart.ts verbatim, and that example runs with the printed results', () => {
    const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
    const example = fs.readFileSync(path.join(root, 'examples/quickstart.ts'), 'utf8');
    expect(readme).to.include(example.trim());
    const source = example.replace("from 'osis-store'", `from ${JSON.stringify(path.join(root, 'src'))}`);
    const script = path.join(root, 'examples/.quickstart.run.ts');
    fs.writeFileSync(script, source);
    try {
      const run = spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', script], { cwd: root, encoding: 'utf8' });
      expect(run.status, run.stderr).to.equal(0);
      expect(run.stdout).to.include("name: 'Ann L.'");
      expect(run.stdout).to.include("[ 'u1' ]");
      expect(run.stdout).to.include("[ 'created v1', 'updated v2', 'updated v3' ]");
      expect(run.stdout).to.include('UNIQUE_VIOLATION');
    } finally {
      fs.rmSync(script, { force: true });
    }
  });

  it('shows a schema file that the store accepts', () => {
    const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
    const toml = /```toml\n([\s\S]*?)```/.exec(readme)![1];
    const { loadSchema } = require('../../src/api/schema');
    const file = path.join(root, 'examples/.schema.run.toml');
    fs.writeFileSync(file, toml);
    try {
      expect(loadSchema(file).types.user.unique).to.deep.equal(['email']);
    } finally {
      fs.rmSync(file, { force: true });
    }
  });
});
