/** Names of one generation of projection tables: the live one, or the shadow a rebuild fills. */
export interface TableNames {
  objects: string;
  index: string;
  /** FTS5 tables are `typeTable(ftsPrefix, type)`. */
  ftsPrefix: string;
  /** Live objects per type, kept by triggers on `objects` (see counts.ts). */
  counts: string;
  /** Rows per (type, field, value) of `index`, kept by triggers: the facet counts. */
  facets: string;
  /** Champion-list tables (see champions.ts) are `typeTable(championPrefix, type)`. */
  championPrefix: string;
}

/** The tables reads are served from. */
export const LIVE: TableNames = { objects: 'objects', index: 'object_index', ftsPrefix: 'fts_', counts: 'object_counts', facets: 'object_facets', championPrefix: 'ftstop_' };
/** The tables a blue-green rebuild fills before swapping them in (prefixes never collide with LIVE's). */
export const SHADOW: TableNames = {
  objects: 'objects_next',
  index: 'object_index_next',
  ftsPrefix: 'ftsnext_',
  counts: 'object_counts_next',
  facets: 'object_facets_next',
  championPrefix: 'ftstopnext_',
};
