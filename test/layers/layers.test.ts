import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tempDir } from '../helpers/temp';

const root = path.join(__dirname, '..', '..');
const depcruise = path.join(root, 'node_modules', '.bin', 'depcruise');

/** Run the project's dependency rules over a copy of `src` with `planted` files added; returns the report. */
function cruiseWith(planted: Record<string, string>): { status: number | null; report: string } {
  const dir = tempDir();
  fs.cpSync(path.join(root, 'src'), path.join(dir, 'src'), { recursive: true });
  for (const file of ['tsconfig.json', '.dependency-cruiser.cjs']) fs.copyFileSync(path.join(root, file), path.join(dir, file));
  for (const [file, text] of Object.entries(planted)) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), text);
  }
  const run = spawnSync(depcruise, ['src', '--config', '.dependency-cruiser.cjs', '--output-type', 'err'], { cwd: dir, encoding: 'utf8' });
  return { status: run.status, report: `${run.stdout}${run.stderr}` };
}

describe('layers (dependency-cruiser rules in .dependency-cruiser.cjs)', function () {
  this.timeout(120_000);

  it('find nothing to report in the project as it is', () => {
    const { status, report } = cruiseWith({});
    expect(report).to.include('no dependency violations found');
    expect(status).to.equal(0);
  });

  it('fail on planted violations, naming each rule and file', () => {
    const { status, report } = cruiseWith({
      'src/backends/memory/planted-backend.ts': "export { SqliteEventLog } from '../sqlite/sqlite-log';\n",
      'src/api/cli/planted-cli.ts': "export { SqliteProjectionStore } from '../../projections/sqlite/sqlite-projection-store';\n",
      'src/log/planted-up.ts': "export { openStore } from '../api/library/store';\n",
      'src/api/library/planted-a.ts': "import { b } from './planted-b';\nexport const a = () => b;\n",
      'src/api/library/planted-b.ts': "import { a } from './planted-a';\nexport const b = () => a;\n",
      'src/bench/planted-bench.ts': "export { Collection } from '../api/library/collection';\n",
      'test/planted-helper.ts': 'export const helper = 1;\n',
      'src/api/library/planted-test.ts': "export { helper } from '../../../test/planted-helper';\n",
    });
    expect(status).to.not.equal(0);
    for (const [rule, file] of [
      ['no-backend-imports-another', 'src/backends/memory/planted-backend.ts'],
      ['front-ends-use-the-library', 'src/api/cli/planted-cli.ts'],
      ['log-is-the-bottom', 'src/log/planted-up.ts'],
      ['no-circular', 'src/api/library/planted-a.ts'],
      ['bench-uses-the-public-entries', 'src/bench/planted-bench.ts'],
      ['src-never-imports-test', 'src/api/library/planted-test.ts'],
    ]) {
      expect(report, `${rule} on ${file}`).to.match(new RegExp(`error ${rule}: ${file.replace(/[.]/g, '\\.')}`));
    }
  });
});
