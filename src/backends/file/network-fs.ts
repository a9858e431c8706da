import * as fs from 'node:fs';
import * as path from 'node:path';

const NETWORK_TYPES = /^(nfs|nfs4|cifs|smb3|smbfs|glusterfs|ceph|fuse\.glusterfs|fuse\.ceph|fuse\.cephfs|ceph-fuse)$/;

/**
 * The network filesystem type (`nfs4`, `cifs`, `glusterfs`, `ceph`…) that holds `dir`, according to
 * `/proc/self/mountinfo` text, or undefined for a local one. The mount whose mount point is the longest
 * prefix of the directory's real path wins.
 */
export function networkFsType(realDir: string, mountinfo: string): string | undefined {
  let best: { point: string; type: string } | undefined;
  for (const line of mountinfo.split('\n')) {
    const fields = line.split(' ');
    const dash = fields.indexOf('-');
    if (fields.length < 5 || dash < 0 || dash + 1 >= fields.length) continue;
    const point = unescapeMount(fields[4]);
    const inside = point === '/' || realDir === point || realDir.startsWith(`${point}/`);
    if (inside && (!best || point.length >= best.point.length)) best = { point, type: fields[dash + 1] };
  }
  return best && NETWORK_TYPES.test(best.type) ? best.type : undefined;
}

/** Look `dir` up in this process's mount table; undefined when local or when the table is unavailable. */
export function detectNetworkFs(dir: string): string | undefined {
  let mountinfo: string;
  try {
    mountinfo = fs.readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return undefined;
  }
  return networkFsType(fs.realpathSync(path.resolve(dir)), mountinfo);
}

/** The warning printed when a log directory is on a network filesystem. */
export function networkFsWarning(dir: string, type: string): string {
  return (
    `${dir} is on a network filesystem (${type}): the writer lock is then the only guard against two hosts ` +
    'writing at once, and a host that loses the mount can leave a torn tail. For several hosts, share a PostgreSQL store instead.'
  );
}

function unescapeMount(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}
