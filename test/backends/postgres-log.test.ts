import { eventLogCases } from '../conformance/event-log';
import { PgSchemas, pgUrl, postgresLogFixture } from './postgres/pg-fixture';
import { tailCases } from './postgres/tail-cases';
import { crossClientCases } from './postgres/cross-client-cases';
import { errorCases } from './postgres/error-cases';
import { watchCases } from './postgres/watch-cases';
import { inAppendCases } from './postgres/in-append-cases';

const base = pgUrl();

if (base) {
  describe('postgres: EventLog conformance', () => {
    const schemas = new PgSchemas(base);
    after(() => schemas.dropAll());
    eventLogCases(postgresLogFixture(schemas));
  });

  describe('postgres: log behaviour across clients', () => {
    const schemas = new PgSchemas(base);
    after(() => schemas.dropAll());
    tailCases(schemas);
    crossClientCases(schemas);
    watchCases(schemas);
    errorCases(schemas);
    inAppendCases(schemas);
  });
}
