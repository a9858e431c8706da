import { PgSchemas, pgUrl, postgresBackendFixture } from '../backends/postgres/pg-fixture';
import { conformance } from './suite';

const url = pgUrl();
if (url) {
  const schemas = new PgSchemas(url);
  describe('postgres backend (every store on its own schema, dropped after)', () => {
    after(() => schemas.dropAll());
    conformance(postgresBackendFixture(schemas));
  });
}
