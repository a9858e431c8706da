import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';

const root = path.join(__dirname, '..', '..');

/** Load `entry` (by package name, through package.json "exports") in a fresh node and say what came with it. */
function loaded(entry: string): { exports: string[]; modules: string[]; builtins: string[] } {
  const script = `
    const api = require(${JSON.stringify(entry)});
    const modules = Object.keys(require.cache).map((f) => f.split('node_modules/').slice(1).join('node_modules/').split('/')[0]).filter(Boolean);
    const builtins = process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice(13));
    console.log(JSON.stringify({ exports: Object.keys(api), modules: [...new Set(modules)], builtins }));`;
  return JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: root, encoding: 'utf8' }));
}

describe('package entries (built dist/, as an installed package resolves them)', function () {
  this.timeout(30_000);

  it("import 'osis-store' loads the library only: no HTTP server, no logger, no metrics", () => {
    const entry = loaded('osis-store');
    expect(entry.exports).to.include.members(['openStore', 'Store', 'Collection', 'OsisError']);
    expect(entry.exports).to.not.include.members(['startServer', 'importTree']);
    expect(entry.modules).to.not.include.members(['pino', 'prom-client', 'json-rpc-2.0']);
    expect(entry.builtins).to.not.include.members(['http', 'https']);
  });

  it("'osis-store/service' and 'osis-store/migrate' are entries of their own", () => {
    const service = loaded('osis-store/service');
    expect(service.exports).to.include('startServer');
    expect(service.modules).to.include.members(['pino', 'prom-client']);
    expect(loaded('osis-store/migrate').exports).to.include.members(['importTree', 'exportTree', 'copyLog']);
  });
});
