import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { expect } from 'chai';
import { openStore } from '../../../src';
import { osis } from '../../cli/run-osis';
import { expectProjectionsMatchLog } from './parity';

/** The schema of the crash loop: an index, a unique key and a full-text field, so every projection is exercised. */
export const CRASH_SCHEMA = { types: { item: { index: ['n', 'tag'], unique: ['email'], text: ['title'] } } };

const SCRIPT = path.resolve(__dirname, '../../fixtures/crash-writer.js');

interface Writer {
  child: ChildProcess;
  lines: string[];
  loaded: Promise<void>;
  /** Resolves when the store is open and writing (or the process ended). */
  ready: Promise<void>;
  closed: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr: () => string;
}

function spawnWriter(url: string, prefix: string): Writer {
  const child = spawn(process.execPath, [SCRIPT, url, prefix, JSON.stringify(CRASH_SCHEMA), 'full'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let buffer = '';
  let stderr = '';
  let onLoaded: () => void = () => undefined;
  const loaded = new Promise<void>((resolve) => (onLoaded = resolve));
  let onReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    buffer += chunk;
    let newline: number;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      if (line === 'loaded') onLoaded();
      else lines.push(line);
      if (line === 'ready') onReady();
    }
  });
  child.stderr!.on('data', (d) => (stderr += d));
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('close', (code, signal) => {
      onLoaded();
      onReady();
      resolve({ code, signal });
    }),
  );
  return { child, lines, loaded, ready, closed, stderr: () => stderr };
}

/** What one crash loop survived. */
export interface CrashLoopResult {
  kills: number;
  killedWhileOpening: number;
  created: number;
  updated: number;
  deleted: number;
  events: number;
  lost: number;
  cliVerifies: number;
}

/** Writers loading ahead of their turn, so a restart does not wait for Node to load the store code. */
const SPARES = 3;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Start a writer, SIGKILL it at a random moment, reopen the store and check it; `kills` times. Spare
 * writers load while the previous one runs and while the store is checked, so restarts cost little.
 * Every check: each acknowledged create is in the log exactly once, each acknowledged update exactly
 * once, each acknowledged delete is the object's last event, verify passes, and every projection equals
 * a fresh derivation from the log. `osis verify` (the CLI) runs every 25th kill point and at the end.
 */
export async function crashLoop(url: string, kills: number, options: { maxDelayMs?: number; afterKill?: () => void } = {}): Promise<CrashLoopResult> {
  const maxDelayMs = options.maxDelayMs ?? 250;
  const created = new Set<string>();
  const updated = new Map<string, number[]>();
  const deleted = new Set<string>();
  const result: CrashLoopResult = { kills: 0, killedWhileOpening: 0, created: 0, updated: 0, deleted: 0, events: 0, lost: 0, cliVerifies: 0 };
  const spares: Writer[] = [];
  let spawned = 0;
  const topUp = () => {
    while (spares.length < SPARES && spawned < kills) spares.push(spawnWriter(url, `g${spawned++}`));
  };
  try {
    for (let k = 0; k < kills; k++) {
      topUp();
      const writer = spares.shift()!;
      await writer.loaded;
      topUp();
      writer.child.stdin!.write('go\n');
      // One kill in four lands within 30 ms of the start, while the store opens, catches up and repairs;
      // the others at a random moment of the writing that follows (timed from "ready", so a slow open
      // on a loaded machine does not turn every kill point into an open).
      if (Math.random() < 0.25) await sleep(Math.random() * 30);
      else {
        await writer.ready;
        await sleep(Math.random() * maxDelayMs);
      }
      writer.child.kill('SIGKILL');
      const exit = await writer.closed;
      options.afterKill?.();
      const failure = writer.lines.find((l) => l.startsWith('E '));
      expect(failure, `writer g${k} failed by itself: ${writer.stderr()}`).to.equal(undefined);
      expect(exit.signal, `writer g${k} exit`).to.equal('SIGKILL');
      if (!writer.lines.includes('ready')) result.killedWhileOpening++;
      for (const line of writer.lines) {
        const [op, sid, rev] = line.split(' ');
        if (op === 'N') created.add(sid);
        else if (op === 'U') updated.set(sid, [...(updated.get(sid) ?? []), Number(rev)]);
        else if (op === 'D') deleted.add(sid);
      }
      result.lost = await checkStore(url, created, updated, deleted, `kill point ${k + 1}`);
      expect(result.lost, `acknowledged writes lost at kill point ${k + 1}`).to.equal(0);
      result.kills++;
      if (result.kills % 100 === 0 && kills >= 200) {
        // eslint-disable-next-line no-console
        console.log(`      [progress] ${url.split(':')[0]}: ${result.kills} kill points survived, ${created.size} creates acknowledged, lost 0`);
      }
      if ((k + 1) % 25 === 0 || k === kills - 1) {
        const run = osis(['verify', '--store', url]);
        expect(run.code, `osis verify at kill point ${k + 1}: ${run.stdout}${run.stderr}`).to.equal(0);
        result.cliVerifies++;
      }
    }
  } finally {
    for (const spare of spares) spare.child.kill('SIGKILL');
    await Promise.all(spares.map((s) => s.closed));
  }
  result.created = created.size;
  result.updated = [...updated.values()].reduce((n, revs) => n + revs.length, 0);
  result.deleted = deleted.size;
  const store = await openStore(url, { schema: CRASH_SCHEMA });
  result.events = await store.log.head();
  await store.close();
  return result;
}

/** Reopen the store and check it against what was acknowledged; returns the number of lost acknowledgements. */
async function checkStore(url: string, created: Set<string>, updated: Map<string, number[]>, deleted: Set<string>, label: string): Promise<number> {
  const store = await openStore(url, { schema: CRASH_SCHEMA, durability: 'full' });
  try {
    const streams = new Map<string, { kind: string; rev?: unknown }[]>();
    for (const e of await store.log.readAll(1)) {
      if (e.type !== 'item') continue;
      let stream = streams.get(e.sid);
      if (!stream) streams.set(e.sid, (stream = []));
      stream.push({ kind: e.kind, rev: e.data.rev });
    }
    let lost = 0;
    for (const sid of created) {
      const n = (streams.get(sid) ?? []).filter((e) => e.kind === 'created').length;
      if (n !== 1) lost++;
      expect(n, `${label}: acknowledged create of ${sid} appears ${n} times`).to.equal(1);
    }
    for (const [sid, revs] of updated) {
      for (const rev of revs) {
        const n = (streams.get(sid) ?? []).filter((e) => e.kind === 'updated' && e.rev === rev).length;
        if (n !== 1) lost++;
        expect(n, `${label}: acknowledged update ${sid} rev ${rev} appears ${n} times`).to.equal(1);
      }
    }
    for (const sid of deleted) {
      const stream = streams.get(sid) ?? [];
      const last = stream[stream.length - 1]?.kind;
      if (last !== 'deleted') lost++;
      expect(last, `${label}: acknowledged delete of ${sid}`).to.equal('deleted');
    }
    const report = await store.verify();
    expect(report.problems, `${label}: verify`).to.deep.equal([]);
    await expectProjectionsMatchLog(store, label);
    return lost;
  } finally {
    await store.close();
  }
}
