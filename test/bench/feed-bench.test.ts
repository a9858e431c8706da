import { expect } from 'chai';
import { benchFeed } from '../../src/bench/feed-bench';

describe('feed benchmark', function () {
  this.timeout(120_000);

  for (const backend of ['sqlite', 'file'] as const) {
    it(`measures cross-process latency and catch-up on a small ${backend} run (figures not asserted)`, async () => {
      const result = await benchFeed({ backend, writes: 20, gapMs: [1, 3], catchUpEvents: 3000, durability: 'normal' });
      expect(result.backend).to.equal(backend);
      expect(result.crossProcessLatencyMs.samples).to.equal(20);
      expect(result.crossProcessLatencyMs.p50).to.be.at.most(result.crossProcessLatencyMs.p99);
      expect(result.catchUp.events).to.be.at.least(3020);
      expect(result.catchUp.eventsPerSecond).to.be.above(0);
    });
  }

  it('refuses a memory store, which no second process can see', async () => {
    const error = await benchFeed({ url: 'memory:' }).catch((e) => e);
    expect(error.code).to.equal('INVALID_INPUT');
  });
});
