import { indexValue } from '../../projections/config';
import { terms } from '../../projections/sqlite/bm25';
import { toFtsExpression } from '../../projections/sqlite/fts-query';

/**
 * A value as the PostgreSQL field index holds it: `(kind, num, txt)`, kind 0 for numbers (num holds the
 * value, txt is empty) and 1 for strings (txt holds its UTF-8 bytes, num is 0). Ordering rows by
 * `(kind, num, txt)` is SQLite's order of mixed values (every number before every string, strings by
 * their UTF-8 bytes, as SQLite's BINARY collation), so row comparisons give queries.ts's `= > >= < <=`
 * answers. `bytea`, not text, so a string holding U+0000 is indexed as SQLite indexes it.
 */
export type IndexKey = [kind: 0 | 1, num: number, txt: Buffer];

const NO_TEXT = Buffer.alloc(0);

/** SQLite's whitespace, as its numeric conversion skips it. */
const WELL_FORMED_NUMBER = /^[ \t\n\v\f\r]*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?[ \t\n\v\f\r]*$/;

/**
 * The index form of a value as the SQLite store keeps it: `indexValue`, and then the NUMERIC affinity of
 * its `value ANY` columns, which stores a string that is a well-formed integer or real literal (`'12'`,
 * `' 1e5 '`, `'00012'`) as that number, and converts a bound string the same way before comparing.
 * Undefined when the value is not indexable.
 */
export function indexKey(value: unknown): IndexKey | undefined {
  const v = indexValue(value);
  if (v === undefined) return undefined;
  if (typeof v === 'number') return [0, v === 0 ? 0 : v, NO_TEXT];
  if (WELL_FORMED_NUMBER.test(v)) {
    const n = Number(v.trim());
    return [0, n === 0 ? 0 : n, NO_TEXT];
  }
  return [1, 0, Buffer.from(v)];
}

/**
 * The key of a filter value compared with a field read from the object's JSON (a field without an
 * index), as SQLite compares `json_extract(data, ?)` with a bound value: no affinity, so a string
 * stays a string; booleans are 1 and 0.
 */
export function scanKey(value: unknown): IndexKey | undefined {
  const v = indexValue(value);
  if (v === undefined) return undefined;
  return typeof v === 'number' ? [0, v === 0 ? 0 : v, NO_TEXT] : [1, 0, Buffer.from(v)];
}

/** The index form of a stored index key (what facets and `countOf` return). */
export function keyValue(kind: number, num: number, txt: Buffer): string | number {
  return Number(kind) === 0 ? Number(num) : txt.toString('utf8');
}

/** tsvector limits: positions 1..16383, 256 positions per lexeme, 2047 bytes per lexeme, 1 MiB of lexemes. */
const MAX_POSITION = 16383;
const MAX_POSITIONS = 256;
const MAX_LEXEME_BYTES = 2047;
/** PostgreSQL refuses a tsvector over 1,048,575 bytes; stay under it with room to spare. */
const MAX_VECTOR_BYTES = 1_000_000;
/** What one lexeme costs in a tsvector besides its text: its entry (4), alignment (up to 1), its position count (2). */
const LEXEME_OVERHEAD = 7;
/** What one position costs. */
const POSITION_BYTES = 2;

/**
 * The `tsvector` input text of a document body: the terms FTS5's `unicode61 remove_diacritics 2` would
 * index (`terms` from the SQLite store, so both stores split and fold text alike), each with its token
 * positions. PostgreSQL's own parser is not used: it would split e-mail addresses, URLs and hyphenated
 * words differently and depends on the server's locale. Sent as a bound parameter and cast, never
 * interpolated. Within PostgreSQL's limits: positions past 16,383 are clamped, a lexeme keeps its first
 * 256 positions, lexemes over 2,047 bytes are left out, and so are lexemes and positions past about 1 MB of tsvector (its text, entries and positions counted as PostgreSQL stores them).
 */
export function documentVector(body: string): string {
  return documentVectorOf(body).text;
}

/** A document's tsvector input text, and what bounds its one-term scores (`scoreBound`). */
export interface DocumentVector {
  text: string;
  /** Positions per lexeme, as PostgreSQL will store them. */
  positions: ReadonlyMap<string, number>;
  /** Positions of the document as `ts_rank_cd` counts them (a lexeme without positions counts 1). */
  total: number;
}

/**
 * For a one-lexeme tsquery, `ts_rank_cd(tsv, q, 1)` is the sum of the float4 0.1 (weight D) over the
 * lexeme's positions, divided by ln(1 + the document's positions), in double, then rounded to float4. So
 * this is the score of a lexeme with `positions` positions before that rounding, to about 1e-13 (the
 * sum, the log and the division; the writers bracket it by ±1e-12). A lexeme without positions is scored by rules not copied here: Infinity, so it
 * is never filtered out. Champion lists use it to skip postings that cannot beat their term's frontier;
 * a test checks it against PostgreSQL's own ts_rank_cd.
 */
export function scoreBound(positions: number, total: number): number {
  return positions === 0 ? Infinity : (WEIGHT_D * positions) / Math.log(total + 1);
}

/** The default weight of an unlabelled position, as `ts_rank_cd` holds it: 0.1 as a float4. */
const WEIGHT_D = Math.fround(0.1);

/** `documentVector`, with the bound of its one-term scores. */
export function documentVectorOf(body: string): DocumentVector {
  if (body === '') return { text: '', positions: new Map(), total: 0 };
  const positions = new Map<string, number[]>();
  let bytes = 0;
  let at = 0;
  for (const term of terms(body)) {
    at++;
    let list = positions.get(term);
    if (!list) {
      const size = Buffer.byteLength(term);
      if (size > MAX_LEXEME_BYTES || bytes + size + LEXEME_OVERHEAD + POSITION_BYTES > MAX_VECTOR_BYTES) continue;
      bytes += size + LEXEME_OVERHEAD;
      positions.set(term, (list = []));
    }
    const position = Math.min(at, MAX_POSITION);
    if (list.length < MAX_POSITIONS && list[list.length - 1] !== position && bytes + POSITION_BYTES <= MAX_VECTOR_BYTES) {
      list.push(position);
      bytes += POSITION_BYTES;
    }
  }
  const parts: string[] = [];
  for (const [term, list] of positions) parts.push(`${quoteLexeme(term)}:${list.join(',')}`);
  const counts = new Map<string, number>();
  let total = 0;
  for (const [term, list] of positions) {
    counts.set(term, list.length);
    total += Math.max(1, list.length);
  }
  return { text: parts.join(' '), positions: counts, total };
}

/** A lexeme in tsvector/tsquery input syntax. */
function quoteLexeme(term: string): string {
  return `'${term.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

/**
 * Translate a user's search text into `tsquery` input text, with the syntax and the validation of the
 * SQLite store (`toFtsExpression`: words all match, `"a phrase"`, `pre*`, `OR` between two terms; the
 * same errors for the same input). Every term is split into lexemes as `documentVector` splits
 * documents: a phrase becomes `a <-> b`, a prefix `'pre':*` on its last lexeme. Undefined when no term
 * has a lexeme (nothing can match). The result is bound as a parameter and cast to tsquery.
 */
export function textQuery(text: string): string | undefined {
  const expression = toFtsExpression(text);
  // The expression is `group AND group …`, each group `"term"` or `("term" OR "term"*)`, quotes doubled inside terms.
  const groups: string[][] = [[]];
  for (let i = 0; i < expression.length; ) {
    if (expression.startsWith(' AND ', i)) {
      groups.push([]);
      i += 5;
    } else if (expression[i] === '"') {
      let term = '';
      let end = i + 1;
      for (;;) {
        const close = expression.indexOf('"', end);
        term += expression.slice(end, close);
        end = close + 1;
        if (expression[end] !== '"') break;
        term += '"';
        end++;
      }
      const prefix = expression[end] === '*';
      i = prefix ? end + 1 : end;
      const lexemes = terms(term).filter((t) => Buffer.byteLength(t) <= MAX_LEXEME_BYTES).map(quoteLexeme);
      if (lexemes.length === 0) continue;
      if (prefix) lexemes[lexemes.length - 1] += ':*';
      groups[groups.length - 1].push(lexemes.length === 1 ? lexemes[0] : `(${lexemes.join(' <-> ')})`);
    } else {
      i++; // '(', ')', or the spaces of ' OR ' (terms of one group are ORed)
    }
  }
  if (groups.some((g) => g.length === 0)) return undefined;
  return groups.map((g) => (g.length === 1 ? g[0] : `(${g.join(' | ')})`)).join(' & ');
}
