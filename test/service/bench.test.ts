import { expect } from 'chai';
import { runServiceBench } from '../../src/bench/service-bench';

describe('service: benchmark (smoke, tiny sizes)', function () {
  this.timeout(60_000);

  it('measures user_get against a minimal node:http server and write-to-SSE latency', async () => {
    const result = await runServiceBench({ concurrency: 4, durationMs: 400, rounds: 2, objects: 20, sseWrites: 10 });
    expect(result.get.requests).to.be.greaterThan(0);
    expect(result.baseline.requests).to.be.greaterThan(0);
    expect(result.get.errors).to.equal(0);
    expect(result.baseline.errors).to.equal(0);
    expect(result.ratio.reqPerSec).to.be.greaterThan(0);
    expect(result.sse.writes).to.equal(10);
    expect(result.sse.p99Ms).to.be.at.least(result.sse.p50Ms);
  });
});
