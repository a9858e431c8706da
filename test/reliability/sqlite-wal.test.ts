import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect } from 'chai';
import { SqliteEventLog } from '../../src/backends/sqlite/sqlite-log';
import { tempDir } from '../helpers/temp';
import { RELIABILITY, figure } from './helpers/config';

const MiB = 1024 * 1024;

/**
 * Append 4 KiB events as fast as group commit takes them while another process keeps overlapping read
 * transactions open; sample the WAL size. Returns the largest WAL seen and what was written.
 */
async function starve(limitBytes: number, seconds: number): Promise<{ maxWal: number; appended: number; reads: string; checkpoints: unknown }> {
  const file = path.join(tempDir(), 'osis.db');
  const log = await SqliteEventLog.open(file, { durability: 'normal', walCheckpoint: { limitBytes, intervalMs: 50 } });
  await log.append([{ type: 'item', sid: 'first', kind: 'created', data: { sid: 'first' } }]);
  const readers = spawn(process.execPath, [path.resolve(__dirname, '../fixtures/wal-readers.js'), file, String(seconds)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  readers.stdout.on('data', (d) => (out += d));
  await new Promise<void>((resolve) => readers.stdout.once('data', () => resolve()));
  const body = 'x'.repeat(4096);
  let maxWal = 0;
  let appended = 0;
  const end = Date.now() + seconds * 1000;
  try {
    while (Date.now() < end) {
      await Promise.all(
        Array.from({ length: 50 }, () => log.append([{ type: 'item', sid: `i${appended++}`, kind: 'created', data: { sid: `i${appended}`, body } }])),
      );
      maxWal = Math.max(maxWal, fs.statSync(`${file}-wal`, { throwIfNoEntry: false })?.size ?? 0);
    }
  } finally {
    await new Promise((resolve) => readers.once('close', resolve));
    await log.close();
  }
  return { maxWal, appended, reads: out.trim().split('\n').pop() ?? '', checkpoints: log.checkpointer?.counts };
}

describe('sqlite: checkpoint starvation', function () {
  this.timeout(0);

  it(`keeps the WAL bounded while other processes keep overlapping readers open (${RELIABILITY.starvationSeconds} s)`, async () => {
    const limit = 2 * MiB;
    const result = await starve(limit, RELIABILITY.starvationSeconds);
    const written = result.appended * 4096;
    expect(written, 'the writer wrote many times the limit').to.be.above(4 * limit);
    expect(result.maxWal, `largest WAL with the store checkpointing (${JSON.stringify(result.checkpoints)})`).to.be.below(3 * limit + 4 * MiB);
    const control = await starve(0, Math.min(RELIABILITY.starvationSeconds, 6));
    figure(
      `checkpoint starvation: ${RELIABILITY.starvationSeconds} s of overlapping readers (${result.reads} read transactions), ${(written / MiB).toFixed(0)} MiB appended: ` +
        `largest WAL ${(result.maxWal / MiB).toFixed(1)} MiB with the store's checkpointer (limit ${limit / MiB} MiB, ${JSON.stringify(result.checkpoints)}); ` +
        `without it the WAL reached ${(control.maxWal / MiB).toFixed(1)} MiB after ${((control.appended * 4096) / MiB).toFixed(0)} MiB appended`,
    );
  });
});
