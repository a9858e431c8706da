import { expect } from 'chai';
import { networkFsType, networkFsWarning } from '../../../src/backends/file/network-fs';

const MOUNTINFO = [
  '22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw',
  '35 22 0:31 / /mnt/nfs rw,relatime shared:20 - nfs4 server:/export rw,vers=4.2',
  '36 22 0:32 / /mnt/smb\\040share rw - cifs //host/share rw',
  '37 22 0:33 / /mnt/gluster rw - fuse.glusterfs host:/vol rw',
  '38 22 0:34 / /mnt/ceph rw - ceph 10.0.0.1:/ rw',
  '39 35 8:2 / /mnt/nfs/local rw - ext4 /dev/sdb1 rw',
].join('\n');

describe('file backend: network filesystem detection', () => {
  it('finds the filesystem of the longest matching mount point', () => {
    expect(networkFsType('/home/me/data', MOUNTINFO)).to.equal(undefined);
    expect(networkFsType('/mnt/nfs/store', MOUNTINFO)).to.equal('nfs4');
    expect(networkFsType('/mnt/nfs', MOUNTINFO)).to.equal('nfs4');
    expect(networkFsType('/mnt/nfsx/store', MOUNTINFO)).to.equal(undefined);
    expect(networkFsType('/mnt/nfs/local/store', MOUNTINFO)).to.equal(undefined);
    expect(networkFsType('/mnt/smb share/x', MOUNTINFO)).to.equal('cifs');
    expect(networkFsType('/mnt/gluster/x', MOUNTINFO)).to.equal('fuse.glusterfs');
    expect(networkFsType('/mnt/ceph/x', MOUNTINFO)).to.equal('ceph');
  });

  it('warns that the lock is the only guard and points to PostgreSQL', () => {
    expect(networkFsWarning('/mnt/nfs/store', 'nfs4')).to.match(/network filesystem \(nfs4\).*only guard.*PostgreSQL/);
  });
});
