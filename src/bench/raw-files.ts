import * as fs from 'node:fs';
import * as path from 'node:path';
import { stringifyToml } from '../log/toml-codec';
import { BENCH_TYPE } from './data';
import { fastUlid } from './fast-ulid';

/**
 * The file baselines of issue 3: a file-per-object store (today's OSIS layout, `TYPE/SID.otoml`) that
 * writes each object via temp file + fsync + rename, and an append-only file with one write + fdatasync
 * per record (the fsync limit of the disk).
 */

function otoml(sid: string, doc: object): Buffer {
  return Buffer.from(`O:\n${stringifyToml({ sid, ...doc })}`);
}

/** Today's OSIS layout: one `SID.otoml` per object, each written durably on its own. */
export class FilePerObjectStore {
  private readonly dir: string;

  constructor(root: string) {
    this.dir = path.join(root, BENCH_TYPE);
    fs.mkdirSync(this.dir, { recursive: true });
  }

  /** Write one object: temp file, fsync, rename (synchronous, the fastest single writer). */
  writeSync(doc: object): void {
    const sid = fastUlid();
    const file = path.join(this.dir, `${sid}.otoml`);
    const temp = `${file}.tmp`;
    const fd = fs.openSync(temp, 'w');
    try {
      fs.writeSync(fd, otoml(sid, doc));
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(temp, file);
  }

  /** The same through the async fs API, so concurrent writes overlap in libuv's thread pool. */
  async write(doc: object): Promise<void> {
    const sid = fastUlid();
    const file = path.join(this.dir, `${sid}.otoml`);
    const temp = `${file}.tmp`;
    const handle = await fs.promises.open(temp, 'w');
    try {
      await handle.writeFile(otoml(sid, doc));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.promises.rename(temp, file);
  }
}

/** An append-only file: one positioned write plus one fdatasync per record, nothing else. */
export class AppendOnlyFile {
  private readonly fd: number;
  private offset = 0;

  constructor(file: string) {
    this.fd = fs.openSync(file, 'w');
  }

  append(doc: object): void {
    const now = Date.now();
    const sid = fastUlid(now);
    const record = Buffer.from(`${JSON.stringify({ id: fastUlid(now), type: BENCH_TYPE, sid, ts: now, data: { sid, ...doc } })}\n`);
    fs.writeSync(this.fd, record, 0, record.length, this.offset);
    this.offset += record.length;
    fs.fdatasyncSync(this.fd);
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}
