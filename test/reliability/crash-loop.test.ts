import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect } from 'chai';
import { tempDir } from '../helpers/temp';
import { RELIABILITY, figure } from './helpers/config';
import { crashLoop } from './helpers/crash-loop';
import { assertDistIsCurrent } from './helpers/dist';

/** Backends the crash loop runs on, at durability full: a fresh store URL each. */
const CRASH_BACKENDS: { name: string; location: () => string; url: (at: string) => string; afterKill?: (at: string) => void }[] = [
  { name: 'sqlite', location: () => path.join(tempDir(), 'osis.db'), url: (at) => `sqlite:${at}` },
  {
    name: 'file',
    location: () => path.join(tempDir(), 'log'),
    url: (at) => `file:${at}`,
    // The killed writer's lock is taken over only once it is stale (10 s without refresh). Removing the
    // lock of the process just killed is what that wait would do, without spending it at every kill point.
    afterKill: (at) => fs.rmSync(path.join(at, 'writer.lock'), { recursive: true, force: true }),
  },
];

describe('crash loop: a writer SIGKILLed at random moments loses nothing it acknowledged', function () {
  this.timeout(0);
  before(assertDistIsCurrent);

  for (const backend of CRASH_BACKENDS) {
    it(`${backend.name}: ${RELIABILITY.kills} kill points, every acknowledged write present exactly once, verify passes, projections equal the log`, async () => {
      const started = Date.now();
      const at = backend.location();
      const result = await crashLoop(backend.url(at), RELIABILITY.kills, { afterKill: backend.afterKill && (() => backend.afterKill!(at)) });
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
