import * as fs from 'node:fs';
import type { IntegrityProblem, IntegrityReport } from '../../log/event-log';
import { SegmentFiles, segmentFileName } from './segment-files';
import { scanSegment } from './segment-scan';

/** What `verifyLogDir` found: the integrity report plus where the log ends. */
export interface FileIntegrityReport extends IntegrityReport {
  segments: number;
  head: number;
  /** An incomplete tail of the newest segment (being written, or torn: the next writer repairs it). */
  incompleteTail?: { segment: string; offset: number; bytes: number };
}

/**
 * Check every frame of every segment of a log directory, without the sidecar and without changing
 * anything: segment headers and store ids, each frame's CRC and payload, positions running on from
 * segment to segment, append part numbering, and per-object versions running 1, 2, 3…
 * Each problem names the segment file and byte offset.
 */
export function verifyLogDir(dir: string, onProgress?: (done: number, total: number) => void): FileIntegrityReport {
  const files = new SegmentFiles(dir);
  const problems: IntegrityProblem[] = [];
  const report: FileIntegrityReport = { events: 0, problems, segments: 0, head: 0 };
  try {
    if (!fs.existsSync(dir)) {
      problems.push({ where: dir, message: 'no such log directory' });
      return report;
    }
    const segments = files.list();
    report.segments = segments.length;
    const total = segments.reduce((n, first) => n + files.size(first), 0);
    const versions = new Map<string, number>();
    let storeId: string | undefined;
    let done = 0;
    let expected = 1;
    let damagedBefore = false;
    segments.forEach((first, i) => {
      const name = segmentFileName(first);
      const size = files.size(first);
      let start: number;
      try {
        const header = files.header(first);
        start = header.length;
        storeId ??= header.header.storeId;
        if (header.header.storeId !== storeId) problems.push({ where: `${name} offset 0`, message: `segment of store ${header.header.storeId} in the log of store ${storeId}` });
      } catch (error) {
        problems.push({ where: `${name} offset 0`, message: (error as Error).message });
        damagedBefore = true;
        done += size;
        return;
      }
      if (first !== expected && !damagedBefore) {
        problems.push({ where: `${name} offset 0`, message: `segment starts at position ${first} but the log before it ends at ${expected - 1}` });
      }
      const end = scanSegment(files, first, start, first - 1, (records) => {
        for (const { event, offset } of records) {
          const key = `${event.type}\0${event.sid}`;
          const before = versions.get(key) ?? 0;
          if (event.version !== before + 1) {
            problems.push({ where: `${name} offset ${offset}`, message: `${event.type}/${event.sid} version ${event.version} follows version ${before}` });
          }
          versions.set(key, event.version);
          report.events++;
        }
        return true;
      });
      expected = end.position + 1;
      report.head = end.position;
      const newest = i === segments.length - 1;
      damagedBefore = end.status === 'corrupt' || end.status === 'incomplete';
      if (end.status === 'corrupt') {
        problems.push({ where: `${name} offset ${end.badOffset ?? end.offset}`, message: end.reason ?? 'damaged frame' });
      } else if (end.status === 'incomplete') {
        if (newest) report.incompleteTail = { segment: name, offset: end.offset, bytes: end.size - end.offset };
        else problems.push({ where: `${name} offset ${end.badOffset ?? end.offset}`, message: `${end.reason}, in a segment that is not the newest` });
      }
      done += size;
      onProgress?.(done, total);
    });
  } finally {
    files.closeAll();
  }
  return report;
}
