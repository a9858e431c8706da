import type { BackendFixture } from './backends';
import { badInputCases } from './bad-input';
import { changeFeedCases } from './change-feed';
import { namedSubscriberCases } from './subscribers';
import { concurrencyCases } from './concurrency';
import { crudCases } from './crud';
import { erasureCases } from './erasure';
import { eventLogCases } from './event-log';
import { projectionFixtureOfUrl, projectionStoreCases } from './projection-store';
import { queryCases } from './queries';

/** The conformance suite: every backend runs all of it, adding only its fixture. */
export function conformance(fixture: BackendFixture): void {
  describe(`conformance: ${fixture.name}`, () => {
    eventLogCases(fixture.log);
    projectionStoreCases(projectionFixtureOfUrl(fixture.name, fixture.projections, fixture.freshUrl));
    crudCases(fixture);
    concurrencyCases(fixture);
    queryCases(fixture);
    badInputCases(fixture);
    changeFeedCases(fixture);
    namedSubscriberCases(fixture);
    erasureCases(fixture);
  });
}
