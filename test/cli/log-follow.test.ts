import { expect } from 'chai';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { openStore } from '../../src';
import { until } from '../helpers/feed';
import { tempDir } from '../helpers/temp';
import { OSIS_BIN } from './run-osis';

/** `osis log --follow` in a real process, its stdout split into NDJSON records as they arrive. */
function follow(url: string, extra: string[] = []) {
  const child = spawn(process.execPath, [OSIS_BIN, 'log', '--follow', '--store', url, ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  const records: { position: number; sid: string; type: string }[] = [];
  let partial = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop()!;
    for (const line of lines) records.push(JSON.parse(line));
  });
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  return { child, records, stderr: () => stderr, exited, partial: () => partial };
}

describe('osis log --follow', function () {
  this.timeout(60_000);

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`streams history then other processes' writes as NDJSON, and stops cleanly on ${signal}`, async () => {
      const url = `sqlite:${path.join(tempDir(), 'osis.db')}`;
      const store = await openStore(url);
      try {
        await store.collection('note')._new({ n: 1 }, { sid: 'n1' });
        await store.collection('user')._new({ n: 2 }, { sid: 'u1' });
        const run = follow(url, ['--type', 'note']);
        await until(() => run.records.length === 1, 'the history line', 30_000);
        for (let i = 2; i <= 6; i++) await store.collection('note')._new({ n: i }, { sid: `n${i}` });
        await until(() => run.records.length === 6, 'the live lines', 30_000);
        expect(run.records.map((r) => r.sid)).to.deep.equal(['n1', 'n2', 'n3', 'n4', 'n5', 'n6']);
        expect(run.records.map((r) => r.position)).to.deep.equal([1, 3, 4, 5, 6, 7]);
        run.child.kill(signal);
        expect(await run.exited).to.deep.equal({ code: 0, signal: null });
        expect(run.stderr()).to.equal('');
        expect(run.partial()).to.equal('');
      } finally {
        await store.close();
      }
    });
  }

  it('exits cleanly when its reader goes away (EPIPE)', async () => {
    const url = `sqlite:${path.join(tempDir(), 'osis.db')}`;
    const store = await openStore(url);
    try {
      await store.collection('note')._new({}, { sid: 'n1' });
      const run = follow(url);
      await until(() => run.records.length === 1, 'the first line', 30_000);
      run.child.stdout.destroy();
      for (let i = 2; i <= 4; i++) await store.collection('note')._new({}, { sid: `n${i}` });
      expect(await run.exited).to.deep.equal({ code: 0, signal: null });
      expect(run.stderr()).to.equal('');
    } finally {
      await store.close();
    }
  });
});
