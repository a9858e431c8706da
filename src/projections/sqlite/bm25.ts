import type Database from 'better-sqlite3';

/** FTS5's `bm25()` constants. */
const K1 = 1.2;
const B = 0.75;

/**
 * The terms of a text as FTS5's `unicode61 remove_diacritics 2` tokenizer makes them: runs of letters,
 * numbers and private-use characters, case-folded, diacritics removed. Exact for the text the champion
 * lists are exact for (see champions.ts); any other text only makes a list less complete, never wrong,
 * because every answer is checked against the list's bound.
 */
export function terms(text: string): string[] {
  const plain = ASCII.test(text) ? text.toLowerCase() : text.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
  return plain.match(/[\p{L}\p{N}\p{Co}]+/gu) ?? [];
}

/** Term frequencies and the token count (FTS5's document length) of a text. */
export function termFrequencies(text: string): { tf: Map<string, number>; length: number } {
  const tf = new Map<string, number>();
  if (!ASCII.test(text)) {
    const list = terms(text);
    for (const term of list) tf.set(term, (tf.get(term) ?? 0) + 1);
    return { tf, length: list.length };
  }
  const lower = text.toLowerCase();
  let length = 0;
  let start = -1;
  for (let i = 0; i <= lower.length; i++) {
    const c = i < lower.length ? lower.charCodeAt(i) : 32;
    const word = (c >= 97 && c <= 122) || (c >= 48 && c <= 57);
    if (word && start < 0) start = i;
    else if (!word && start >= 0) {
      const term = lower.slice(start, i);
      tf.set(term, (tf.get(term) ?? 0) + 1);
      length++;
      start = -1;
    }
  }
  return { tf, length };
}

const ASCII = /^[\x00-\x7f]*$/;

/**
 * One term's BM25 weight in a document, computed in the order FTS5's `bm25()` computes it. For a
 * one-term query FTS5's rank is `-idf × weight` with the same idf for every match, so ordering by weight
 * (descending, then rowid) is ordering by `rank, rowid`.
 */
export function bm25Weight(tf: number, length: number, avgdl: number): number {
  return (tf * (K1 + 1.0)) / (tf + K1 * (1 - B + (B * length) / avgdl));
}

/** The average document length of an FTS5 table, from its averages record (`${table}_data`, id 1). */
export function averageLength(db: Database.Database, ftsTable: string): number | undefined {
  const block = db.prepare(`SELECT block FROM ${ftsTable}_data WHERE id = 1`).pluck().get() as Buffer | undefined;
  if (!block || block.length === 0) return undefined;
  const [rows, next] = varint(block, 0);
  if (rows === 0) return undefined;
  let tokens = 0;
  for (let at = next; at < block.length; ) {
    const [n, after] = varint(block, at);
    tokens += n;
    at = after;
  }
  return tokens / rows;
}

/** An SQLite varint (as FTS5 writes them) at `at`: its value and the offset after it. */
function varint(buffer: Buffer, at: number): [number, number] {
  let value = 0;
  for (let i = 0; i < 8; i++) {
    const byte = buffer[at + i];
    value = value * 128 + (byte & 0x7f);
    if ((byte & 0x80) === 0) return [value, at + i + 1];
  }
  return [value * 256 + buffer[at + 8], at + 9];
}
