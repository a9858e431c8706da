import { eventLogCases } from '../conformance/event-log';
import { PgSchemas, pgUrl, postgresLogFixture } from './postgres/pg-fixture';

const base = pgUrl();

if (base) {
  describe('postgres: EventLog conformance', () => {
    const schemas = new PgSchemas(base);
    after(() => schemas.dropAll());
    eventLogCases(postgresLogFixture(schemas));
  });
}
