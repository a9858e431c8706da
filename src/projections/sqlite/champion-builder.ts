import { termFrequencies } from './bm25';

/** Postings kept per (term, term frequency): the most a ranked page can reach through the lists. */
export const CHAMPIONS = 200;
/** Terms in at least this many objects of a type get a champion list at a rebuild (rarer ones are fast in FTS5). */
export const TRACKED_DF = 2000;

/**
 * A point of a term's frontier: every posting left out of the list at term frequency `tf` is longer than
 * `length`, or as long with an id of at least `id` (so it ranks at or after the point).
 */
export interface Point {
  tf: number;
  length: number;
  id: number;
}

/** A term's lists as written: its frontier and the postings (id, tf, length) it keeps. */
export type TermLists = Map<string, { frontier: Point[]; postings: Array<[number, number, number]> }>;

/** Per (term, tf): the CHAMPIONS shortest postings so far, flattened (length, id), and the first (length, id) left out. */
interface Group {
  flat: number[];
  outLength: number;
  outId: number;
}

/**
 * Collects the postings of a rebuild in id order. Per term and term frequency it keeps the CHAMPIONS
 * shortest documents (earliest id on equal length), which hold every term's top CHAMPIONS under any
 * average length; what it leaves out becomes the frontier.
 */
export class ChampionBuilder {
  private readonly byType = new Map<string, Map<string, { df: number; groups: Array<Group | undefined> }>>();

  constructor(private readonly only?: ReadonlySet<string>) {}

  add(type: string, id: number, body: string): void {
    let terms = this.byType.get(type);
    if (!terms) this.byType.set(type, (terms = new Map()));
    const { tf, length } = termFrequencies(body);
    for (const [term, n] of tf) {
      if (this.only && !this.only.has(term)) continue;
      let entry = terms.get(term);
      if (!entry) terms.set(term, (entry = { df: 0, groups: [] }));
      entry.df++;
      let group = entry.groups[n];
      if (!group) entry.groups[n] = group = { flat: [], outLength: Infinity, outId: 0 };
      if (length > group.outLength || (length === group.outLength && id >= group.outId)) continue;
      group.flat.push(length, id);
      if (group.flat.length >= 4 * CHAMPIONS) trim(group);
    }
  }

  /** The types seen so far. */
  types(): string[] {
    return [...this.byType.keys()];
  }

  /** The lists collected for `type`, of the terms in at least `minDf` of its objects. */
  termLists(type: string, minDf = 0): TermLists {
    const lists: TermLists = new Map();
    for (const [term, entry] of this.byType.get(type) ?? []) {
      if (entry.df < minDf) continue;
      const frontier: Point[] = [];
      const postings: Array<[number, number, number]> = [];
      for (const [tf, group] of entry.groups.entries()) {
        if (!group) continue;
        trim(group);
        if (group.outLength !== Infinity) frontier.push({ tf, length: group.outLength, id: group.outId });
        for (let i = 0; i < group.flat.length; i += 2) postings.push([group.flat[i + 1], tf, group.flat[i]]);
      }
      lists.set(term, { frontier, postings });
    }
    return lists;
  }
}

/** Keep a group's CHAMPIONS shortest (then earliest) postings; the first dropped becomes the group's `out` point. */
function trim(group: Group): void {
  if (group.flat.length <= 2 * CHAMPIONS) return;
  const pairs: Array<[number, number]> = [];
  for (let i = 0; i < group.flat.length; i += 2) pairs.push([group.flat[i], group.flat[i + 1]]);
  pairs.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const [length, id] = pairs[CHAMPIONS];
  if (length < group.outLength || (length === group.outLength && id < group.outId)) {
    group.outLength = length;
    group.outId = id;
  }
  group.flat = pairs.slice(0, CHAMPIONS).flat();
}
