import { expect } from 'chai';
import { ChangeNotifier } from '../../src/log/change-notifier';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { until } from '../helpers/feed';
import { tempDir } from '../helpers/temp';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('ChangeNotifier (the building block of EventLog.watch)', () => {
  it('coalesces notifications made in one turn into one signal per watcher', async () => {
    const notifier = new ChangeNotifier();
    let a = 0;
    let b = 0;
    notifier.watch(() => a++);
    notifier.watch(() => b++);
    notifier.notify();
    notifier.notify();
    notifier.notify();
    await sleep(0);
    expect([a, b]).to.deep.equal([1, 1]);
    notifier.close();
  });

  it('polls its probe only while someone watches, and signals when the probe says so', async () => {
    let probes = 0;
    let changed = false;
    const notifier = new ChangeNotifier(() => {
      probes++;
      const result = changed;
      changed = false;
      return result;
    });
    await sleep(30);
    expect(probes).to.equal(0);
    let signals = 0;
    const watcher = notifier.watch(() => signals++, { intervalMs: 5 });
    await until(() => probes >= 3, 'a few probes');
    expect(signals).to.equal(0);
    changed = true;
    await until(() => signals === 1, 'a signal');
    await watcher.close();
    const after = probes;
    await sleep(30);
    expect(probes).to.equal(after);
    notifier.close();
  });

  it('ends every watcher with the error when the probe fails', async () => {
    const notifier = new ChangeNotifier(() => {
      throw Object.assign(new Error('disk gone'), { code: 'CORRUPT' });
    });
    const errors: unknown[] = [];
    notifier.watch(() => undefined, { intervalMs: 5, onError: (e) => errors.push(e) });
    notifier.watch(() => undefined, { intervalMs: 50, onError: (e) => errors.push(e) });
    await until(() => errors.length === 2, 'both watchers to end');
    expect((errors[0] as Error).message).to.equal('disk gone');
  });

  it('signals changes of the watched files at once through fs.watch, and ignores other files', async () => {
    const dir = tempDir();
    const notifier = new ChangeNotifier(undefined, { files: { dir, accept: (name) => name === 'log.db-wal' } });
    let signals = 0;
    const watcher = notifier.watch(() => signals++);
    fs.writeFileSync(path.join(dir, 'other.txt'), 'x');
    await sleep(50);
    expect(signals).to.equal(0);
    fs.writeFileSync(path.join(dir, 'log.db-wal'), 'frames');
    await until(() => signals > 0, 'a signal from fs.watch');
    await watcher.close();
    const after = signals;
    fs.appendFileSync(path.join(dir, 'log.db-wal'), 'more');
    await sleep(50);
    expect(signals).to.equal(after);
    notifier.close();
  });

  it('ends its watchers with CLOSED on close and refuses new ones', () => {
    const notifier = new ChangeNotifier();
    let ended: unknown;
    notifier.watch(() => undefined, { onError: (e) => (ended = e) });
    notifier.close();
    expect(ended).to.have.property('code', 'CLOSED');
    expect(() => notifier.watch(() => undefined)).to.throw().with.property('code', 'CLOSED');
  });
});
