import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect } from 'chai';
import { openStore, type Store } from '../../src';
import { tempDir } from '../helpers/temp';
import { PERSONAL_SCHEMA } from '../conformance/erasure';
import { RELIABILITY, figure } from './helpers/config';
import { assertDistIsCurrent } from './helpers/dist';
import { PgSchemas, pgUrl } from '../backends/postgres/pg-fixture';
import { grepRelations, schemaRelationFiles } from '../backends/postgres/relation-files';

const ERASER = path.resolve(__dirname, '../fixtures/erase-crasher.js');
const OBJECTS = 60;
// no value is a substring of another object's value, so a hit of the scan is a leak, never a neighbour
const userOf = (i: number) => ({ name: `Crashy Person ${String(i).padStart(3, '0')}`, email: `crashy${i}@erase.example`, phone: `+1 555 ${1000 + i}`, country: i % 2 ? 'be' : 'nl', bio: `bio ${i}` });

/** Run the eraser on `sids`; kill it with SIGKILL `delayMs` after it is ready. Returns the sids it acknowledged. */
function eraseUntilKilled(url: string, sids: string[], delayMs: number): Promise<{ acknowledged: string[]; killed: boolean; erasingMs: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [ERASER, url, JSON.stringify(PERSONAL_SCHEMA), sids.join(',')], { stdio: ['ignore', 'pipe', 'pipe'] });
    const acknowledged: string[] = [];
    let buffer = '';
    let stderr = '';
    let killed = false;
    let ready = 0;
    let done = 0;
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.stdout.on('data', (chunk) => {
      buffer += chunk;
      for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (line === 'done') done = Date.now();
        if (line === 'ready') {
          ready = Date.now();
          setTimeout(() => {
            killed = child.kill('SIGKILL');
          }, delayMs);
        } else if (line.startsWith('E ')) acknowledged.push(line.slice(2));
        else if (line.startsWith('X ')) reject(new Error(`eraser failed: ${line} ${stderr}`));
      }
    });
    child.on('exit', () => resolve({ acknowledged, killed, erasingMs: (done || Date.now()) - ready }));
    child.on('error', reject);
  });
}

/** Each object is whole (exactly as written, personal values readable) or erased (nothing personal anywhere in reads). */
async function checkWholeOrErased(store: Store, acknowledged: Set<string>): Promise<{ erased: number; intact: number }> {
  const users = store.collection('user');
  let erased = 0;
  let intact = 0;
  for (let i = 0; i < OBJECTS; i++) {
    const sid = `u${i}`;
    const history = await users._history(sid);
    const last = history[history.length - 1];
    if (last.kind === 'erased') {
      erased++;
      expect(await users._exists(sid), `${sid} erased but readable`).to.equal(false);
      for (const event of history) {
        expect(event.shredded, `${sid} v${event.version} not shredded`).to.equal(true);
        expect(event.data, `${sid} v${event.version} keeps a personal value`).to.not.have.any.keys('name', 'email', 'phone');
      }
      expect((await users._find({ filter: { email: userOf(i).email } })).items, `${sid}: its email is still indexed`).to.deep.equal([]);
    } else {
      intact++;
      expect(acknowledged.has(sid), `${sid} was acknowledged erased but is not`).to.equal(false);
      expect(await users._get(sid), `${sid} is neither whole nor erased`).to.deep.equal({ sid, ...userOf(i) });
      expect(history.map((e) => e.data.email)).to.deep.equal([userOf(i).email]);
    }
  }
  return { erased, intact };
}

const pg = pgUrl();
const schemas = pg ? new PgSchemas(pg) : undefined;

interface CrashBackend {
  name: string;
  url(dir: string): string;
  afterKill(dir: string): void;
  /** A byte scan of the store where `verifyErased` has no files to scan: the hits for `needles`. */
  scan?(url: string, needles: string[]): Promise<string[]>;
}

const BACKENDS: CrashBackend[] = [
  { name: 'sqlite', url: (dir: string) => `sqlite:${path.join(dir, 'osis.db')}`, afterKill: (_dir: string) => {} },
  {
    name: 'file',
    url: (dir: string) => `file:${path.join(dir, 'log')}`,
    // as in the crash loop: remove the killed writer's lock instead of waiting 10 s for it to go stale
    afterKill: (dir: string) => fs.rmSync(path.join(dir, 'log', 'writer.lock'), { recursive: true, force: true }),
  },
  ...(schemas
    ? [
        {
          name: 'postgres',
          url: () => schemas.freshUrl(),
          // the server ends a killed client's session (and rolls back its transaction) when its socket closes
          afterKill: () => {},
          scan: async (url: string, needles: string[]) => grepRelations(await schemaRelationFiles(schemas, new URL(url).searchParams.get('schema')!), needles),
        },
      ]
    : []),
];

describe('erase crash test: an eraser SIGKILLed at random moments leaves each object whole or erased, never half', function () {
  this.timeout(0);
  before(assertDistIsCurrent);
  after(() => schemas?.dropAll());

  for (const backend of BACKENDS) {
    it(`${backend.name}: ${RELIABILITY.eraseKills} kill points during erasures`, async () => {
      const dir = tempDir('osis-erase-crash-');
      const url = backend.url(dir);
      let store = await openStore(url, { schema: PERSONAL_SCHEMA, durability: 'full' });
      for (let i = 0; i < OBJECTS; i++) await store.collection('user')._new(userOf(i), { sid: `u${i}` });
      await store.close();
      const acknowledged = new Set<string>();
      let killedMidway = 0;
      // Measure one erase, so kill delays spread over the erasures of each child's run.
      const measured = await eraseUntilKilled(url, [`u${OBJECTS - 1}`], 10_000);
      acknowledged.add(`u${OBJECTS - 1}`);
      const eraseMs = Math.max(2, measured.erasingMs);
      for (let kill = 0; kill < RELIABILITY.eraseKills; kill++) {
        const order = Array.from({ length: OBJECTS }, (_, i) => `u${i}`).sort(() => Math.random() - 0.5);
        const delay = Math.random() * 4 * eraseMs;
        const run = await eraseUntilKilled(url, order.slice(0, 4), delay);
        for (const sid of run.acknowledged) acknowledged.add(sid);
        if (run.killed && run.acknowledged.length < 4) killedMidway++;
        backend.afterKill(dir);
        store = await openStore(url, { schema: PERSONAL_SCHEMA, durability: 'full' });
        try {
          await checkWholeOrErased(store, acknowledged);
        } finally {
          await store.close();
        }
      }
      store = await openStore(url, { schema: PERSONAL_SCHEMA });
      try {
        const final = await checkWholeOrErased(store, acknowledged);
        const report = await store.verify();
        expect(report.problems).to.deep.equal([]);
        const scan = await store.verifyErased();
        expect(scan.hits).to.deep.equal([]);
        expect(scan.objects).to.equal(final.erased);
        let relations = '';
        if (backend.scan) {
          const erased: string[] = [];
          const intact: string[] = [];
          for (let i = 0; i < OBJECTS; i++) {
            const history = await store.collection('user')._history(`u${i}`);
            if (history[history.length - 1].kind === 'erased') erased.push(userOf(i).name, userOf(i).email);
            else intact.push(userOf(i).name);
          }
          expect(await backend.scan(url, erased), 'relation files of the schema').to.deep.equal([]);
          expect((await backend.scan(url, intact)).length, 'intact objects stay visible to the scan').to.be.at.least(intact.length);
          relations = `; relation-file scan 0 hits for ${erased.length / 2} erased objects`;
        }
        figure(
          `erase crash ${backend.name}: ${RELIABILITY.eraseKills} kills (${killedMidway} before the child finished), ${final.erased} erased, ` +
            `${final.intact} intact, 0 half; verify --erased 0 hits over ${scan.files.length} files${relations}`,
        );
      } finally {
        await store.close();
      }
    });
  }
});
