import * as fs from 'node:fs';
import * as path from 'node:path';
import type { PgSchemas } from './pg-fixture';

/** One relation of a schema and the files that hold it (every segment and fork). */
export interface RelationFiles {
  relation: string;
  files: string[];
}

/**
 * Every relation of `schema` (tables, indexes, sequences, and their TOAST tables and TOAST indexes) with
 * its files under the server's data directory, after a CHECKPOINT (so dirty pages are on disk). Needs a
 * superuser on the same machine with read access to the data directory (the test server).
 */
export async function schemaRelationFiles(schemas: PgSchemas, schema: string): Promise<RelationFiles[]> {
  await schemas.sql('CHECKPOINT');
  const [{ data_directory: dataDir }] = await schemas.sql('SHOW data_directory');
  const rows = await schemas.sql(
    `WITH own AS (SELECT c.oid, c.reltoastrelid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1),
          toast AS (SELECT reltoastrelid AS oid FROM own WHERE reltoastrelid <> 0),
          toast_idx AS (SELECT indexrelid AS oid FROM pg_index WHERE indrelid IN (SELECT oid FROM toast)),
          every AS (SELECT oid FROM own UNION SELECT oid FROM toast UNION SELECT oid FROM toast_idx)
     SELECT e.oid::regclass::text AS relation, pg_relation_filepath(e.oid) AS file FROM every e WHERE pg_relation_filepath(e.oid) IS NOT NULL ORDER BY 1`,
    [schema],
  );
  return rows.map((row) => {
    const base = path.join(String(dataDir), String(row.file));
    const dir = path.dirname(base);
    const name = path.basename(base);
    const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f === name || f.startsWith(`${name}.`) || f.startsWith(`${name}_`)).map((f) => path.join(dir, f)) : [];
    return { relation: String(row.relation), files };
  });
}

/** Each needle found in a relation's files: `relation: needle`. */
export function grepRelations(relations: readonly RelationFiles[], needles: ReadonlyArray<string | Buffer>): string[] {
  const hits: string[] = [];
  for (const { relation, files } of relations) {
    for (const file of files) {
      const bytes = fs.readFileSync(file);
      for (const needle of needles) {
        const b = typeof needle === 'string' ? Buffer.from(needle, 'utf8') : needle;
        const label = typeof needle === 'string' ? needle : `<${b.length} bytes ${b.subarray(0, 4).toString('hex')}…>`;
        if (bytes.includes(b) && !hits.includes(`${relation}: ${label}`)) hits.push(`${relation}: ${label}`);
      }
    }
  }
  return hits;
}
