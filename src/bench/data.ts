/**
 * Deterministic test objects. Filler words are consonant-vowel syllables (so they always end in a
 * vowel) drawn with a Zipf-like law; the query terms are planted words ending in a consonant, so no
 * filler word can be one of them and their frequencies are exactly the planted ones.
 */

/** The benchmark's object type and its schema (text over title and body, as a declared type would). */
export const BENCH_TYPE = 'doc';
export const BENCH_SCHEMA = { types: { [BENCH_TYPE]: { text: ['title', 'body'] } } };

/** A term in `COMMON_P` of objects: raw FTS5 must score every match. */
export const COMMON_TERM = 'report';
export const COMMON_P = 0.8;
/** Terms each in `RARE_P` of objects (the "at most 1%" queries). */
export const RARE_TERMS = ['quasar', 'zephyr', 'walrus', 'cobalt', 'saffron', 'lantern', 'glacier', 'obsidian'];
export const RARE_P = 0.01;
/** Pairs of terms each in `PAIR_P` of objects, queried together (two-term AND). */
export const PAIR_TERMS: [string, string][] = [
  ['amber', 'harbor'],
  ['copper', 'falcon'],
  ['timber', 'meadow'],
];
export const PAIR_P = 0.06;

/** A term in exactly the first `NEEDLE_COUNT` objects of any dataset (bulk objects 0..19). */
export const NEEDLE_TERM = 'lodestar';
export const NEEDLE_COUNT = 20;

const CONSONANTS = 'bdfgklmnprstvz';
const VOWELS = 'aeiou';
const VOCABULARY_SIZE = 20_000;
const TAGS = ['alpha', 'beta', 'gamma', 'delta', 'omega'];

/** A small fast PRNG (mulberry32): the same seed gives the same data on every machine. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

let vocabulary: string[] | undefined;

function words(): string[] {
  if (vocabulary) return vocabulary;
  const syllables: string[] = [];
  for (const c of CONSONANTS) for (const v of VOWELS) syllables.push(c + v);
  const random = prng(7);
  const seen = new Set<string>();
  while (seen.size < VOCABULARY_SIZE) {
    const n = 2 + Math.floor(random() * 3);
    let word = '';
    for (let i = 0; i < n; i++) word += syllables[Math.floor(random() * syllables.length)];
    seen.add(word);
  }
  vocabulary = [...seen];
  return vocabulary;
}

/** Generates benchmark objects `{ title, body, n, tag }` (about 150 bytes of JSON). */
export class DocGenerator {
  private readonly random: () => number;
  private readonly vocab = words();
  private readonly logSize = Math.log(VOCABULARY_SIZE + 1);

  constructor(seed = 1) {
    this.random = prng(seed);
  }

  /** One object; `i` feeds the `n` field, and objects 0..NEEDLE_COUNT-1 carry `NEEDLE_TERM`. */
  doc(i = NEEDLE_COUNT): { title: string; body: string; n: number; tag: string } {
    const r = this.random;
    const title = [this.filler(), this.filler(), this.filler()];
    if (r() < COMMON_P) title.push(COMMON_TERM);
    const body: string[] = [];
    for (let k = 0; k < 12; k++) body.push(this.filler());
    for (const term of RARE_TERMS) if (r() < RARE_P) body.push(term);
    for (const pair of PAIR_TERMS) for (const term of pair) if (r() < PAIR_P) body.push(term);
    if (i < NEEDLE_COUNT) body.push(NEEDLE_TERM);
    return { title: title.join(' '), body: body.join(' '), n: i, tag: TAGS[Math.floor(r() * TAGS.length)] };
  }

  docs(count: number, first = NEEDLE_COUNT): ReturnType<DocGenerator['doc']>[] {
    const out = new Array(count);
    for (let i = 0; i < count; i++) out[i] = this.doc(first + i);
    return out;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.random() * n);
  }

  /** A Zipf-like draw: word k has probability about 1/(k+1). */
  private filler(): string {
    return this.vocab[Math.min(VOCABULARY_SIZE - 1, Math.floor(Math.exp(this.random() * this.logSize)) - 1)];
  }
}

/** The sid of the i-th bulk-loaded object: fixed width, so sid order is load order. */
export function bulkSid(i: number): string {
  return `d${i.toString(36).padStart(7, '0')}`;
}

/** `1000` → `1K`, `1000000` → `1M`. */
export function countLabel(n: number): string {
  if (n >= 1_000_000 && n % 100_000 === 0) return `${n / 1_000_000}M`;
  if (n >= 1000 && n % 100 === 0) return `${n / 1000}K`;
  return String(n);
}
