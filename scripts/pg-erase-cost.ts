// Issue 14 on PostgreSQL: the cost of personal fields (sealing, keys in the store's schema) and of an erasure
// (its purge rewrites the touched tables with VACUUM FULL), as same-run ratios against the same store without
// personal fields (ratios, not absolute numbers, are what carry over between machines).
//   OSIS_PG_URL=postgres://postgres@127.0.0.1:5432/postgres npx ts-node --transpile-only scripts/pg-erase-cost.ts [objects] [rounds]
// `_new` one at a time (durability full and normal), `_get`, `_history` and `_find` of random objects, rebuild (3 each), alternating the
// two stores for `rounds` rounds (default 4) of `objects`/rounds each (default 2000); then `_erase` against
// `_delete` of 5 objects in each store of that size. Schemas bench_<hex>, dropped at the end.
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { performance } from 'node:perf_hooks';
import { openStore, type Durability, type Store } from '../src';

const base = process.env.OSIS_PG_URL;
if (!base) {
  console.error('set OSIS_PG_URL, e.g. postgres://postgres@127.0.0.1:5432/postgres');
  process.exit(2);
}
const OBJECTS = Number(process.argv[2] ?? 2000);
const ROUNDS = Number(process.argv[3] ?? 4);
const schemas: string[] = [];
const PLAIN = { types: { person: { index: ['country'], unique: ['email'], text: ['name'] } } };
const PERSONAL = { types: { person: { ...PLAIN.types.person, personal: ['name', 'email', 'phone'] } } };

function freshUrl(): string {
  const schema = `bench_${randomBytes(5).toString('hex')}`;
  schemas.push(schema);
  const url = new URL(base!);
  url.searchParams.set('schema', schema);
  return url.toString();
}

const doc = (i: number) => ({ name: `Person Number${i} Surname${i % 97}`, email: `person${i}@example.org`, phone: `+32 470 ${i}`, country: i % 3 ? 'be' : 'nl', note: `n${i}` });

async function timed(n: number, step: (i: number) => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await step(i);
  return (performance.now() - t0) / n;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function pair(label: string, stores: [Store, Store], perRound: number, step: (store: Store, i: number) => Promise<unknown>): Promise<void> {
  const ms: [number[], number[]] = [[], []];
  for (let r = 0; r < ROUNDS; r++) for (const s of [0, 1] as const) ms[s].push(await timed(perRound, (i) => step(stores[s], r * perRound + i)));
  const [plain, personal] = ms.map(median);
  console.log(`${label.padEnd(34)} plain ${plain.toFixed(3)} ms/op  personal ${personal.toFixed(3)} ms/op  ratio ${(personal / plain).toFixed(3)}`);
}

async function main(): Promise<void> {
  const perRound = Math.ceil(OBJECTS / ROUNDS);
  for (const durability of ['full', 'normal'] as Durability[]) {
    const stores: [Store, Store] = [await openStore(freshUrl(), { schema: PLAIN, durability }), await openStore(freshUrl(), { schema: PERSONAL, durability })];
    try {
      await pair(`_new (durability ${durability})`, stores, perRound, (s, i) => s.collection('person')._new(doc(i), { sid: `p${i}` }));
      if (durability === 'normal') {
        const pick = (i: number) => `p${(i * 7919) % (perRound * ROUNDS)}`;
        await pair('_get', stores, perRound, (s, i) => s.collection('person')._get(pick(i)));
        await pair('_history', stores, perRound, (s, i) => s.collection('person')._history(pick(i)));
        await pair('_find text', stores, Math.ceil(perRound / 10), (s, i) => s.collection('person')._find({ text: `number${i}` }));
        const rebuilds: [number[], number[]] = [[], []];
        for (let r = 0; r < 3; r++) {
          for (const s of [0, 1] as const) {
            const t0 = performance.now();
            await stores[s].rebuild();
            rebuilds[s].push(performance.now() - t0);
          }
        }
        const [rp, rq] = rebuilds.map(median);
        console.log(`${`rebuild (${perRound * ROUNDS} objects)`.padEnd(34)} plain ${rp.toFixed(0)} ms  personal ${rq.toFixed(0)} ms  ratio ${(rq / rp).toFixed(3)}`);
        const ms: [number[], number[]] = [[], []];
        for (let i = 0; i < 5; i++) {
          const t0 = performance.now();
          await stores[0].collection('person')._delete(`p${i}`);
          ms[0].push(performance.now() - t0);
          const t1 = performance.now();
          await stores[1].collection('person')._erase(`p${i}`);
          ms[1].push(performance.now() - t1);
        }
        console.log(`${`_erase vs _delete (${perRound * ROUNDS} objects)`.padEnd(34)} _delete ${median(ms[0]).toFixed(1)} ms  _erase ${median(ms[1]).toFixed(1)} ms (personal store)`);
      }
    } finally {
      for (const s of stores) await s.close();
    }
  }
}

main()
  .catch((error) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(async () => {
    const client = new Client({ connectionString: base });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS ${schemas.map((s) => `"${s}"`).join(', ')} CASCADE`);
    await client.end();
  });
