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
    const { loadSchema } = require('../../src/api/library/schema');
    const file = path.join(root, 'examples/.schema.run.toml');
    fs.writeFileSync(file, toml);
    try {
      expect(loadSchema(file).types.user.unique).to.deep.equal(['email']);
    } finally {
      fs.rmSync(file, { force: true });
    }
  });
});

/**
 * Every fenced block of the README, run as a reader would (as pyeventsourcing's docs tests do). An HTML
 * comment `<!-- readme-test: … -->` right before a block says how: `skip: REASON`, `file NAME` (written
 * for the blocks after it), `record` (a file-log frame the codec must produce byte for byte),
 * `with-server` / `streams` / `starts-server` (run against `npx osis serve`). Shell blocks run in one
 * fresh directory, in order, with `npx osis` as the built CLI; port 8787 and /tmp/osis.sock become free ones.
 */
describe('README: every block runs', function () {
  this.timeout(180_000);

  interface Block {
    line: number;
    lang: string;
    note: string;
    body: string;
  }
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
  const blocks: Block[] = [];
  for (const m of readme.matchAll(/(?:<!-- readme-test: ([^\n]*?) -->\n)?^```(\w*)\n([\s\S]*?)^```$/gm)) {
    blocks.push({ line: readme.slice(0, m.index).split('\n').length, lang: m[2], note: m[1] ?? '', body: m[3] });
  }

  const children: import('node:child_process').ChildProcess[] = [];
  after(() => {
    for (const child of children) child.kill('SIGKILL');
  });

  it('runs each block, or says why not', async () => {
    const { spawn } = await import('node:child_process');
    const net = await import('node:net');
    const { encodeFrame } = await import('../../src/log/otoml-record');
    const cwd = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'osis-readme-'));
    const shims = path.join(cwd, '.bin');
    fs.mkdirSync(shims);
    const osisBin = path.join(root, 'dist/api/cli/main.js');
    fs.writeFileSync(path.join(shims, 'npx'), `#!/bin/bash\nif [ "$1" = osis ]; then shift; exec "${process.execPath}" "${osisBin}" "$@"; fi\necho "unexpected npx $*" >&2; exit 127\n`, { mode: 0o755 });
    fs.mkdirSync(path.join(cwd, 'legacy', 'user'), { recursive: true });
    fs.writeFileSync(path.join(cwd, 'legacy', 'user', 'u9.otoml'), 'O:\nname = "Legacy"\n');
    const freePort = () =>
      new Promise<number>((resolve) => {
        const probe = net.createServer().listen(0, '127.0.0.1', () => {
          const { port } = probe.address() as import('node:net').AddressInfo;
          probe.close(() => resolve(port));
        });
      });
    const [servicePort, securePort] = [await freePort(), await freePort()];
    const socket = path.join(cwd, 'osis.sock');
    // The CLI demo exports OSIS_STORE; a reader's shell keeps it for the blocks after it.
    const env: Record<string, string> = { ...(process.env as Record<string, string>), PATH: `${shims}:${process.env.PATH}`, OSIS_STORE: '' };
    const sh = (script: string, port: number, timeoutMs = 60_000) =>
      spawnSync('bash', ['-e', '-c', script.replaceAll('8787', String(port)).replaceAll('/tmp/osis.sock', socket)], { cwd, env, encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGKILL' });
    const waitForPort = async (port: number) => {
      for (let i = 0; i < 200; i++) {
        if ((await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.status, () => 0)) === 200) return;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`nothing answers on port ${port}`);
    };
    /** curl -s prints JSON values back to back; each must parse, and none be a JSON-RPC error. */
    const noRpcErrors = (out: string, where: string) => {
      const values: string[] = [];
      let depth = 0;
      let start = -1;
      let inString = false;
      for (let i = 0; i < out.length; i++) {
        const c = out[i];
        if (inString) {
          if (c === '\\') i++;
          else if (c === '"') inString = false;
        } else if (c === '"') inString = true;
        else if (c === '{' || c === '[') {
          if (depth++ === 0) start = i;
        } else if ((c === '}' || c === ']') && --depth === 0) values.push(out.slice(start, i + 1));
      }
      expect(values.length, `${where}: ${out}`).to.be.above(0);
      // A JSON-RPC error object (or an HTTP error body) is {"error":{…}}; a job's "error": null is no error.
      for (const v of values) expect(JSON.stringify(JSON.parse(v)), `${where}: ${v}`).to.not.match(/"error":\{/);
    };
    let serviceStarted = false;
    const startService = async () => {
      if (serviceStarted) return;
      serviceStarted = true;
      // As the README says to start it, in a shell where the CLI demo's OSIS_STORE is still exported.
      const line = /`(npx osis serve --store [^`]+)`/.exec(readme)![1];
      const child = spawn('bash', ['-c', `exec ${line} --port ${servicePort}`], { cwd, env, stdio: 'ignore' });
      children.push(child);
      await waitForPort(servicePort);
    };

    const handled: string[] = [];
    for (const block of blocks) {
      const where = `README line ${block.line} (${block.lang || 'no language'}${block.note ? `, ${block.note}` : ''})`;
      if (block.note.startsWith('skip:')) {
        expect(block.note.length, `${where}: a skip needs a reason`).to.be.above(12);
      } else if (block.lang === 'text') {
        // a diagram, not code
      } else if (block.lang === 'ts' && !block.note) {
        const covered = ['examples/quickstart.ts', 'examples/change-feed.ts'].some((f) => fs.readFileSync(path.join(root, f), 'utf8').trim() === block.body.trim());
        expect(covered, `${where}: a TypeScript block must be an example run by a test`).to.equal(true);
      } else if (block.lang === 'toml' && !block.note) {
        expect(block.body, `${where}: the schema block (run above)`).to.include('[types.user]');
      } else if (block.note.startsWith('file ')) {
        fs.writeFileSync(path.join(cwd, block.note.slice(5)), block.body);
      } else if (block.note === 'record') {
        const event = { position: 7, id: '01J9Z3M0C8X2T4V6W8Y0A2B4C6', type: 'user', sid: 'u1', kind: 'updated' as const, version: 2, ts: '2025-05-01T12:00:00.000Z', data: { sid: 'u1', name: 'Ann', country: 'be', tags: ['a', 'b'], address: { city: 'Gent', zip: null }, $price: 3.5 }, meta: { actor: 'admin' } };
        expect(encodeFrame(event, { part: 1, parts: 1, idempotencyKey: 'order-42' }).bytes.toString('utf8'), where).to.equal(block.body);
      } else if (block.lang === 'ts' && block.note === 'with-server') {
        await startService();
        const script = path.join(root, 'examples/.readme-client.run.ts');
        fs.writeFileSync(script, block.body.replaceAll('8787', String(servicePort)));
        try {
          const run = spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', script], { cwd: root, encoding: 'utf8', timeout: 60_000 });
          expect(run.status, `${where}: ${run.stderr}`).to.equal(0);
          expect(run.stdout, where).to.include('items');
        } finally {
          fs.rmSync(script, { force: true });
        }
      } else if (block.lang === 'sh' && block.note === 'streams') {
        await startService();
        for (const line of block.body.trim().split('\n')) {
          const run = sh(`timeout 2 ${line} || true`, servicePort);
          expect(run.stdout, `${where}: ${line}`).to.match(/^id: 2$/m);
        }
      } else if (block.lang === 'sh' && block.note === 'starts-server') {
        const [first, ...rest] = block.body.trim().split('\n');
        const child = spawn('bash', ['-c', first.replaceAll('8787', String(securePort)).replaceAll('/tmp/osis.sock', socket).replace(/&$/, '')], { cwd, env, stdio: 'ignore', detached: false });
        children.push(child);
        await waitForPort(securePort);
        const run = sh(rest.join('\n'), securePort);
        expect(run.status, `${where}: ${run.stderr}`).to.equal(0);
        noRpcErrors(run.stdout, where);
      } else if (block.lang === 'sh' && !block.note) {
        const usesService = block.body.includes('localhost:8787');
        if (usesService) await startService();
        const run = sh(block.body, servicePort);
        expect(run.status, `${where}:\n${run.stderr}`).to.equal(0);
        if (usesService) noRpcErrors(run.stdout, where);
        const exported = /^export OSIS_STORE=(\S+)$/m.exec(block.body);
        if (exported) env.OSIS_STORE = exported[1];
      } else {
        throw new Error(`${where}: no rule to run this block`);
      }
      handled.push(where);
    }
    expect(handled.length).to.equal(blocks.length);
    expect(blocks.length).to.be.at.least(14);
  });
});
