import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.resolve(__dirname, '../..');

describe('README change feed example', function () {
  this.timeout(60_000);

  it('shows examples/change-feed.ts verbatim, and that example runs with the printed results', () => {
    const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
    const example = fs.readFileSync(path.join(root, 'examples/change-feed.ts'), 'utf8');
    expect(readme).to.include(example.trim());
    const script = path.join(root, 'examples/.change-feed.run.ts');
    fs.writeFileSync(script, example.replace("from 'osis-store'", `from ${JSON.stringify(path.join(root, 'src'))}`));
    try {
      const run = spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', script], { cwd: root, encoding: 'utf8' });
      expect(run.status, run.stderr).to.equal(0);
      for (const line of ['change 1 created n1', 'change 2 created n2', 'change 3 deleted n1', 'mail about n1', 'mail about n2']) {
        expect(run.stdout).to.include(line);
      }
      expect(run.stdout).to.include('{"name":"mailer","kind":"subscriber","position":3,"head":3,"events":0,"ms":0}');
      expect(run.stdout).to.include("[ 'second' ]");
    } finally {
      fs.rmSync(script, { force: true });
    }
  });
});
