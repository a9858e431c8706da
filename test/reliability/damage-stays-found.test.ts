import * as fs from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'chai';
import { openStore } from '../../src';
import { DAMAGE_FILE } from '../../src/backends/file/damage-record';
import { osis } from '../cli/run-osis';
import { tempDir } from '../helpers/temp';

/** Flip one byte in the middle of frame `n` (1-based) of a segment. */
function flipInFrame(segment: string, n: number): void {
  const bytes = fs.readFileSync(segment);
  let at = -1;
  for (let i = 0; i < n; i++) at = bytes.indexOf('#@ pos=', at + 1);
  const next = bytes.indexOf('#@ pos=', at + 1);
  const middle = Math.floor((at + next) / 2);
  bytes[middle] ^= 0x04;
  fs.writeFileSync(segment, bytes);
}

/** A store at `url` holding `count` users, closed. */
async function writeUsers(url: string, count: number): Promise<void> {
  const store = await openStore(url);
  for (let i = 0; i < count; i++) await store.collection('user')._new({ name: `user ${i}` }, { sid: `u${i}` });
  await store.close();
}

describe('damage that was found stays found', function () {
  this.timeout(60_000);

  it('file: after verify finds a flipped byte in frame 9 of 20, every writer refuses with CORRUPT naming segment and offset, with or without the sidecar, until the segment is restored', async () => {
    const dir = path.join(tempDir(), 'log');
    const url = `file:${dir}`;
    await writeUsers(url, 20);
    const segment = path.join(dir, '00000000000000000001.otoml');
    const original = fs.readFileSync(segment);
    flipInFrame(segment, 9);

    const verify = osis(['verify', '--store', url]);
    expect(verify.code, verify.stderr).to.equal(5);
    expect(fs.existsSync(path.join(dir, DAMAGE_FILE)), 'damage recorded').to.equal(true);
    const write = osis(['new', 'user', '{"name":"after"}', '--store', url]);
    expect(write.code, `${write.stdout}${write.stderr}`).to.equal(5);
    expect(write.stderr).to.match(/^osis: CORRUPT: the log in .* is damaged at 00000000000000000001\.otoml offset \d+: .*DAMAGED\.json is deleted to accept the loss/);
    for (const f of fs.readdirSync(dir).filter((f) => f.startsWith('projections.db'))) fs.rmSync(path.join(dir, f));
    const withoutSidecar = osis(['new', 'user', '{"name":"after"}', '--store', url]);
    expect(withoutSidecar.code, withoutSidecar.stderr).to.equal(5);
    expect(withoutSidecar.stderr).to.match(/^osis: CORRUPT: .*00000000000000000001\.otoml.* offset \d+/);

    fs.writeFileSync(segment, original);
    const clean = osis(['verify', '--store', url]);
    expect(clean.code, clean.stderr).to.equal(0);
    expect(fs.existsSync(path.join(dir, DAMAGE_FILE)), 'record cleared by a clean verify').to.equal(false);
    expect(JSON.parse(clean.stdout).events, 'nothing was appended after the damage').to.equal(20);
    expect(osis(['new', 'user', '{"name":"after"}', '--store', url]).code).to.equal(0);
  });

  it('file: damage met by a read is recorded too; deleting the record accepts the loss and writes resume', async () => {
    const dir = path.join(tempDir(), 'log');
    const url = `file:${dir}`;
    await writeUsers(url, 20);
    flipInFrame(path.join(dir, '00000000000000000001.otoml'), 9);
    const read = osis(['log', '--store', url]);
    expect(read.code, read.stderr).to.equal(5);
    expect(JSON.parse(fs.readFileSync(path.join(dir, DAMAGE_FILE), 'utf8')).found_by).to.match(/read|catch-up|opening/);
    expect(osis(['new', 'user', '{"name":"after"}', '--store', url]).code).to.equal(5);
    fs.rmSync(path.join(dir, DAMAGE_FILE));
    expect(osis(['new', 'user', '{"name":"after"}', '--store', url]).code).to.equal(0);
  });

  it('sqlite: an event row that is not valid JSON is CORRUPT (exit 5) in verify and in reads, naming its position', async () => {
    const file = path.join(tempDir(), 'osis.db');
    const store = await openStore(`sqlite:${file}`);
    for (let i = 0; i < 5; i++) await store.collection('user')._new({ name: `user ${i}` }, { sid: `u${i}` });
    await store.close();
    const db = new Database(file);
    db.prepare("UPDATE events SET data = '{\"name\": broken' WHERE position = 3").run();
    db.close();
    const verify = osis(['verify', '--store', `sqlite:${file}`]);
    expect(verify.code, verify.stderr).to.equal(5);
    expect(verify.stderr).to.match(/osis: CORRUPT: events position 3: data or meta is not valid JSON/);
    const read = osis(['log', '--store', `sqlite:${file}`]);
    expect(read.code, read.stderr).to.equal(5);
    expect(read.stderr).to.match(/events row at position 3/);
  });

  it('sqlite: damage found by verify or a read is recorded; appends refuse with CORRUPT until a clean verify or DELETE FROM log_damage', async () => {
    const file = path.join(tempDir(), 'osis.db');
    const url = `sqlite:${file}`;
    await writeUsers(url, 5);
    const db = new Database(file);
    const original = db.prepare('SELECT data FROM events WHERE position = 3').pluck().get() as string;
    db.prepare("UPDATE events SET data = '{\"name\": broken' WHERE position = 3").run();
    db.close();
    expect(osis(['log', '--store', url]).code, 'a read finds it').to.equal(5);
    const refused = osis(['new', 'user', '{"name":"after"}', '--store', url]);
    expect(refused.code, refused.stderr).to.equal(5);
    expect(refused.stderr).to.match(/^osis: CORRUPT: the log in .* is damaged at events position 3: .*found by a read/);
    const repair = new Database(file);
    repair.prepare('UPDATE events SET data = ? WHERE position = 3').run(original);
    repair.close();
    expect(osis(['new', 'user', '{"name":"after"}', '--store', url]).code, 'still refused until verified').to.equal(5);
    expect(osis(['verify', '--store', url]).code).to.equal(0);
    expect(osis(['new', 'user', '{"name":"after"}', '--store', url]).code).to.equal(0);
    const accept = new Database(file);
    accept.prepare("UPDATE events SET meta = 'nope' WHERE position = 1").run();
    accept.close();
    expect(osis(['verify', '--store', url]).code).to.equal(5);
    expect(osis(['new', 'user', '{"name":"after"}', '--store', url]).code).to.equal(5);
    const accepted = new Database(file);
    accepted.prepare('DELETE FROM log_damage').run();
    accepted.close();
    expect(osis(['new', 'user', '{"name":"accepted"}', '--store', url]).code, 'the loss accepted').to.equal(0);
  });
});
