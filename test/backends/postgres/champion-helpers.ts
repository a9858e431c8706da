import type { ProposedEvent } from '../../../src';
import { parseSchema } from '../../../src/api/library/schema';
import type { ChampionSettings } from '../../../src/backends/postgres/champion-lists';
import { PostgresEventLog } from '../../../src/backends/postgres/postgres-log';
import { PostgresProjectionStore } from '../../../src/backends/postgres/projection-store';
import { textQuery } from '../../../src/backends/postgres/projection-values';
import { prng } from '../../../src/bench/data';
import { body } from '../../projections/champion-helpers';

export const SCHEMA = parseSchema({ types: { doc: { text: ['body'], index: ['n'] } } }, 'test');
/** Small thresholds, so a few hundred objects have lists and pages 1–3 (61 rows) come from them, also once a promotion pass refreshed a list thinned below half (65). */
export const SETTINGS: ChampionSettings = { minDf: 40, champions: 130, checkEvery: 1_000_000 };

/** One host of a store: its own pool (log) and projection store on `url`'s schema, wired as the backend wires them. */
export interface Host {
  log: PostgresEventLog;
  projections: PostgresProjectionStore;
  close(): Promise<void>;
}

export async function openHost(url: string, settings: ChampionSettings = SETTINGS): Promise<Host> {
  const log = await PostgresEventLog.open(url, {});
  const projections = await PostgresProjectionStore.open(log.pool, log.schema, SCHEMA, settings);
  log.applyInAppend(async (client, events) => {
    if (!(await projections.applyInAppend(client, events, log))) throw new Error('projections behind');
  });
  await projections.openLevel(log);
  return {
    log,
    projections,
    async close() {
      await projections.close();
      await log.close();
    },
  };
}

/** A deterministic stream of bodies (2..30 words of a 12-word Zipf vocabulary: tf > 1 and lengths vary). */
export function bodies(seed: number): () => string {
  const random = prng(seed);
  return () => body(random);
}

/** Create `n` objects `prefix0..` in batches of `batch` appends. */
export async function createDocs(host: Host, prefix: string, n: number, next: () => string, batch = 50): Promise<string[]> {
  const sids: string[] = [];
  for (let i = 0; i < n; i += batch) {
    const events: ProposedEvent[] = [];
    for (let j = i; j < Math.min(n, i + batch); j++) {
      const sid = `${prefix}${j}`;
      sids.push(sid);
      events.push({ type: 'doc', sid, kind: 'created', data: { sid, body: next(), n: j } });
    }
    await host.log.append(events);
  }
  return sids;
}

/** The exact ranked page of the store's ORDER BY (every match scored), as sids. */
export async function exactPage(host: Host, text: string, limit: number, offset: number): Promise<string[]> {
  const result = await host.log.pool.query(
    `SELECT sid FROM "${host.log.schema}".objects WHERE type = 'doc' AND tsv @@ $1::tsquery ORDER BY ts_rank_cd(tsv, $1::tsquery, 1) DESC, id LIMIT $2 OFFSET $3`,
    [textQuery(text), limit, offset],
  );
  return result.rows.map((r) => r.sid as string);
}

/** Pages 1..`pages` of 20 through the store's find (by offset), and how many of them the lists answered. */
export async function storePages(host: Host, text: string, pages: number): Promise<{ items: string[][]; fromLists: number }> {
  const before = host.projections.rankedPaths().champions;
  const items: string[][] = [];
  for (let p = 0; p < pages; p++) {
    const page = await host.projections.find('doc', { text, limit: 20, offset: p * 20, filter: [] }, false);
    items.push(page.items as string[]);
  }
  return { items, fromLists: host.projections.rankedPaths().champions - before };
}

/** The terms of the test vocabulary with a ready list, from the tables. */
export async function readyTerms(host: Host): Promise<string[]> {
  const result = await host.log.pool.query(`SELECT term FROM "${host.log.schema}".champion_terms WHERE type = 'doc' AND ready ORDER BY term`);
  return result.rows.map((r) => r.term as string);
}
