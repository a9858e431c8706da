import { expect } from 'chai';
import { Coalescer } from '../../../src/backends/postgres/coalesce';

describe('Coalescer (purges of erasures at the same moment share rewrites)', () => {
  it('runs once for a lone call, and once more for all the calls made while it ran', async () => {
    let runs = 0;
    const starts: number[] = [];
    let release: (() => void) | undefined;
    const c = new Coalescer(async () => {
      runs++;
      starts.push(Date.now());
      await new Promise<void>((resolve) => (release = resolve));
    });
    const first = c.run();
    const during = [c.run(), c.run(), c.run()];
    expect(runs).to.equal(1);
    release!();
    await first;
    await new Promise((resolve) => setImmediate(resolve));
    expect(runs, 'the calls made during the first run share a second').to.equal(2);
    release!();
    await Promise.all(during);
    expect(runs).to.equal(2);
    const lone = c.run();
    expect(runs).to.equal(3);
    release!();
    await lone;
  });

  it('a failed run rejects its callers, and the next calls run again', async () => {
    let runs = 0;
    const c = new Coalescer(async () => {
      runs++;
      if (runs === 1) throw new Error('held off');
    });
    const first = c.run();
    const second = c.run();
    const error = await first.then(() => undefined, (e: Error) => e);
    expect(error?.message).to.equal('held off');
    await second;
    expect(runs).to.equal(2);
  });
});
