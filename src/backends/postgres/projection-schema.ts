import { quoteIdent, type Queryable } from './sql';

export { quoteIdent, type Queryable } from './sql';

/** Checkpoint names (the same as the SQLite store's). */
export const CURRENT_STATE = 'objects';
export const FULL_TEXT = 'fulltext';

/**
 * The fully qualified names of one generation of projection tables in one PostgreSQL schema: the live
 * generation (`objects`, …) or the shadow a blue-green rebuild builds (`shadow_objects`, …). The trigger
 * functions find a generation's count tables from the table they fire on, so the names keep the shape
 * `${prefix}objects` / `${prefix}object_index` / `${prefix}object_counts` / `${prefix}object_facets`.
 */
export interface ProjectionTables {
  /** The quoted schema. */
  schema: string;
  prefix: '' | 'shadow_';
  objects: string;
  index: string;
  counts: string;
  facets: string;
  /** Champion postings of frequent terms (champion-lists.ts): (type, term, score, id). */
  champions: string;
  /** The terms with champion lists: their tsquery, state and frontier bound. */
  championTerms: string;
  /** Per type, the object count at its last promotion check. */
  championChecks: string;
  checkpoints: string;
  subscribers: string;
}

/** The tables of generation `prefix` in `schemaName`. */
export function projectionTables(schemaName: string, prefix: '' | 'shadow_' = ''): ProjectionTables {
  const schema = quoteIdent(schemaName);
  const name = (table: string) => `${schema}.${quoteIdent(prefix + table)}`;
  return {
    schema,
    prefix,
    objects: name('objects'),
    index: name('object_index'),
    counts: name('object_counts'),
    facets: name('object_facets'),
    champions: name('champions'),
    championTerms: name('champion_terms'),
    championChecks: name('champion_checks'),
    checkpoints: `${schema}.projection_checkpoints`,
    subscribers: `${schema}.subscriber_checkpoints`,
  };
}

/**
 * Statement-level triggers with transition tables keep the maintained counts in the statement that
 * changes the rows (history-independent: a count is the number of rows, whatever wrote them). One
 * function per schema serves both generations: it derives the count table's name from the table it
 * fires on, so the triggers stay right when a shadow generation is renamed to live.
 */
function triggerFunctions(schema: string): string {
  const counter = (fn: string, from: string, to: string, keys: string[]) => {
    const key = keys.join(', ');
    const same = (a: string, b: string) => `(${keys.map((k) => `${a}.${k}`).join(', ')}) = (${keys.map((k) => `${b}.${k}`).join(', ')})`;
    return `
CREATE OR REPLACE FUNCTION ${schema}.${fn}() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE target text := format('%I.%I', TG_TABLE_SCHEMA, replace(TG_TABLE_NAME, '${from}', '${to}'));
BEGIN
  IF TG_OP = 'INSERT' THEN
    EXECUTE format('INSERT INTO %s AS c (${key}, n) SELECT ${key}, count(*) FROM new_rows GROUP BY ${key} ORDER BY ${key}
      ON CONFLICT (${key}) DO UPDATE SET n = c.n + excluded.n', target);
  ELSE
    EXECUTE format('UPDATE %s c SET n = c.n - g.n FROM (SELECT ${key}, count(*) AS n FROM old_rows GROUP BY ${key} ORDER BY ${key}) g
      WHERE ${same('c', 'g')}', target);
    EXECUTE format('DELETE FROM %s c USING (SELECT DISTINCT ${key} FROM old_rows) g WHERE c.n <= 0 AND ${same('c', 'g')}', target);
  END IF;
  RETURN NULL;
END $fn$;`;
  };
  return counter('osis_count_objects', 'objects', 'object_counts', ['type']) + counter('osis_count_values', 'object_index', 'object_facets', ['type', 'field', 'kind', 'num', 'txt']);
}

/** The tables of one generation (inside the caller's transaction, under the DDL lock). */
function generationDdl(t: ProjectionTables): string {
  return `
CREATE TABLE IF NOT EXISTS ${t.objects} (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  type       text COLLATE "C" NOT NULL,
  sid        text COLLATE "C" NOT NULL,
  data       text   NOT NULL,
  version    integer NOT NULL,
  position   bigint NOT NULL,
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL,
  tsv        tsvector NOT NULL,
  UNIQUE (type, sid)
);
CREATE INDEX IF NOT EXISTS ${quoteIdentTail(t, 'objects_tsv')} ON ${t.objects} USING gin (tsv);
CREATE TABLE IF NOT EXISTS ${t.index} (
  type  text COLLATE "C" NOT NULL,
  field text COLLATE "C" NOT NULL,
  kind  smallint NOT NULL,
  num   double precision NOT NULL,
  txt   bytea NOT NULL,
  sid   text COLLATE "C" NOT NULL,
  PRIMARY KEY (type, field, kind, num, txt, sid)
);
CREATE INDEX IF NOT EXISTS ${quoteIdentTail(t, 'object_index_sid')} ON ${t.index} (type, sid);
CREATE TABLE IF NOT EXISTS ${t.counts} (type text COLLATE "C" PRIMARY KEY, n bigint NOT NULL);
CREATE TABLE IF NOT EXISTS ${t.facets} (
  type  text COLLATE "C" NOT NULL,
  field text COLLATE "C" NOT NULL,
  kind  smallint NOT NULL,
  num   double precision NOT NULL,
  txt   bytea NOT NULL,
  n     bigint NOT NULL,
  PRIMARY KEY (type, field, kind, num, txt)
);
${championDdl(t)}
CREATE OR REPLACE TRIGGER count_add AFTER INSERT ON ${t.objects} REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ${t.schema}.osis_count_objects();
CREATE OR REPLACE TRIGGER count_remove AFTER DELETE ON ${t.objects} REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION ${t.schema}.osis_count_objects();
CREATE OR REPLACE TRIGGER facet_add AFTER INSERT ON ${t.index} REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ${t.schema}.osis_count_values();
CREATE OR REPLACE TRIGGER facet_remove AFTER DELETE ON ${t.index} REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION ${t.schema}.osis_count_values();`;
}

/**
 * The champion tables of one generation (champion-lists.ts). `champions` is read best first by
 * (type, term, score DESC, id), the order of the ranked page; its (id, type, term) index serves the
 * deletions of an object's postings and keeps one posting per (object, term).
 */
function championDdl(t: ProjectionTables): string {
  return `
CREATE TABLE IF NOT EXISTS ${t.champions} (
  type  text COLLATE "C" NOT NULL,
  term  text COLLATE "C" NOT NULL,
  score real   NOT NULL,
  id    bigint NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS ${quoteIdentTail(t, 'champions_rank')} ON ${t.champions} (type, term, score DESC, id);
CREATE UNIQUE INDEX IF NOT EXISTS ${quoteIdentTail(t, 'champions_id')} ON ${t.champions} (id, type, term);
CREATE TABLE IF NOT EXISTS ${t.championTerms} (
  type     text COLLATE "C" NOT NULL,
  term     text COLLATE "C" NOT NULL,
  query    tsquery NOT NULL,
  ready    boolean NOT NULL,
  bound    real,
  bound_id bigint,
  PRIMARY KEY (type, term)
);
CREATE TABLE IF NOT EXISTS ${t.championChecks} (type text COLLATE "C" PRIMARY KEY, objects bigint NOT NULL);`;
}

/**
 * Index names are per schema in PostgreSQL and stay with a table when it is renamed: a generation's
 * indexes carry a random tag so a new shadow never collides with the live generation's.
 */
function quoteIdentTail(t: ProjectionTables, what: string): string {
  return quoteIdent(`${t.prefix}${what}_${Math.random().toString(36).slice(2, 10)}`);
}

/** The tables no rebuild touches: checkpoints of the projections and of named subscribers. */
function sharedDdl(t: ProjectionTables): string {
  return `
CREATE TABLE IF NOT EXISTS ${t.checkpoints} (name text COLLATE "C" PRIMARY KEY, position bigint NOT NULL, config text, champions bigint NOT NULL DEFAULT 0);
INSERT INTO ${t.checkpoints} (name, position) VALUES ('${CURRENT_STATE}', 0), ('${FULL_TEXT}', 0) ON CONFLICT (name) DO NOTHING;
CREATE TABLE IF NOT EXISTS ${t.subscribers} (
  name       text COLLATE "C" PRIMARY KEY,
  kind       text NOT NULL CHECK (kind IN ('subscriber', 'projection')),
  position   bigint NOT NULL CHECK (position >= 0),
  updated_at bigint NOT NULL
);`;
}

/**
 * Take a transaction-scoped advisory lock named by `what` and this schema (DDL at open, the rebuild's
 * swap): hosts that reach the same point together do it one after another.
 */
export async function advisoryXactLock(client: Queryable, schemaName: string, what: string): Promise<void> {
  await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`osis-projections:${what}:${schemaName}`]);
}

/** The key of a session-level advisory lock (see `advisoryXactLock`). */
export function advisoryKey(schemaName: string, what: string): string {
  return `osis-projections:${what}:${schemaName}`;
}

/**
 * Create the schema, the shared tables, the trigger functions and the live generation, idempotently:
 * in one transaction under an advisory lock, so many hosts opening one store at once do it once.
 */
export async function ensureProjectionSchema(client: Queryable, schemaName: string): Promise<void> {
  const live = projectionTables(schemaName);
  await client.query('BEGIN');
  try {
    await advisoryXactLock(client, schemaName, 'ddl');
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${live.schema}`);
    const exists = await client.query('SELECT to_regclass($1) IS NOT NULL AS ok', [`${live.schema}.${quoteIdent('object_facets')}`]);
    if (!exists.rows[0].ok) await client.query(triggerFunctions(live.schema) + sharedDdl(live) + generationDdl(live));
    else {
      // A store created before champion lists: add their (empty) tables to the live generation.
      const champions = await client.query('SELECT to_regclass($1) IS NOT NULL AS ok', [`${live.schema}.${quoteIdent('champion_checks')}`]);
      if (!champions.rows[0].ok) await client.query(`${championDdl(live)}
ALTER TABLE ${live.checkpoints} ADD COLUMN IF NOT EXISTS champions bigint NOT NULL DEFAULT 0;`);
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/** Drop and recreate the shadow generation (inside the caller's transaction). */
export async function freshShadow(client: Queryable, schemaName: string): Promise<ProjectionTables> {
  const shadow = projectionTables(schemaName, 'shadow_');
  await client.query(dropGenerationSql(shadow));
  await client.query(generationDdl(shadow));
  return shadow;
}

/** The SQL that drops one generation's tables. */
export function dropGenerationSql(t: ProjectionTables): string {
  return `DROP TABLE IF EXISTS ${t.objects}, ${t.index}, ${t.counts}, ${t.facets}, ${t.champions}, ${t.championTerms}, ${t.championChecks}`;
}

/** Inside the caller's transaction: drop the live generation and rename the shadow to live. */
export async function swapShadowIn(client: Queryable, schemaName: string): Promise<void> {
  const live = projectionTables(schemaName);
  const shadow = projectionTables(schemaName, 'shadow_');
  await client.query(dropGenerationSql(live));
  const renames = [
    ['objects', shadow.objects],
    ['object_index', shadow.index],
    ['object_counts', shadow.counts],
    ['object_facets', shadow.facets],
    ['champions', shadow.champions],
    ['champion_terms', shadow.championTerms],
    ['champion_checks', shadow.championChecks],
  ].map(([to, from]) => `ALTER TABLE ${from} RENAME TO ${quoteIdent(to)};`);
  await client.query(renames.join('\n'));
}
