import * as path from 'node:path';
import { expect } from 'chai';
import { tempDir } from '../helpers/temp';
import { RELIABILITY, figure } from './helpers/config';
import { crashLoop } from './helpers/crash-loop';
import { assertDistIsCurrent } from './helpers/dist';

/** Backends the crash loop runs on, at durability full: a fresh store URL each. */
const CRASH_BACKENDS: { name: string; freshUrl: () => string }[] = [{ name: 'sqlite', freshUrl: () => `sqlite:${path.join(tempDir(), 'osis.db')}` }];

describe('crash loop: a writer SIGKILLed at random moments loses nothing it acknowledged', function () {
  this.timeout(0);
  before(assertDistIsCurrent);

  for (const backend of CRASH_BACKENDS) {
    it(`${backend.name}: ${RELIABILITY.kills} kill points, every acknowledged write present exactly once, verify passes, projections equal the log`, async () => {
      const started = Date.now();
      const result = await crashLoop(backend.freshUrl(), RELIABILITY.kills);
      expect(result.kills).to.equal(RELIABILITY.kills);
      expect(result.lost).to.equal(0);
      figure(
        `crash loop ${backend.name}: ${result.kills} kill points survived (${result.killedWhileOpening} while opening), ` +
          `acknowledged ${result.created} creates, ${result.updated} updates, ${result.deleted} deletes, lost 0; ` +
          `${result.events} events; osis verify ran ${result.cliVerifies}×; ${((Date.now() - started) / 1000).toFixed(1)} s`,
      );
    });
  }
});
