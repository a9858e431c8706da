import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tempDir } from '../helpers/temp';
import { osis } from './run-osis';

describe('osis import, export, copy and verify on a file store', function () {
  this.timeout(120_000);

  it('imports a legacy tree (listing bad files, exit 1), exports it back, copies the log and verifies', () => {
    const dir = tempDir();
    const tree = path.join(dir, 'tree');
    fs.mkdirSync(path.join(tree, 'user', 'a'), { recursive: true });
    fs.writeFileSync(path.join(tree, 'user', 'a', 'u1.otoml'), 'O:\naddress = { city = "Gent" }\nname = "Ann \\"A\\""\n');
    fs.writeFileSync(path.join(tree, 'user', 'u2.otoml'), 'not an object file\n');
    const store = `file:${path.join(dir, 'log')}`;
    const imported = osis(['import', tree, '--store', store]);
    expect(imported.code).to.equal(1);
    expect(JSON.parse(imported.stdout)).to.deep.equal({ files: 2, created: 1, updated: 0, unchanged: 0, bad: 1 });
    expect(imported.stderr).to.contain(`osis: INVALID_INPUT: ${path.join(tree, 'user', 'u2.otoml')}: the first line is "not an object file", not O:`);
    expect(JSON.parse(osis(['import', tree, '--store', store]).stdout)).to.include({ created: 0, unchanged: 1 });

    const out = path.join(dir, 'out');
    expect(osis(['export', out, '--store', store]).code).to.equal(0);
    expect(fs.readFileSync(path.join(out, 'user', 'u1.otoml'), 'utf8')).to.equal('O:\naddress = { city = "Gent" }\nname = "Ann \\"A\\""\nsid = "u1"\n');
    expect(osis(['export', out, '--store', store]).code).to.equal(2);

    const copyUrl = `sqlite:${path.join(dir, 'copy.db')}`;
    const copied = osis(['copy', copyUrl, '--store', store]);
    expect(copied.code, copied.stderr).to.equal(0);
    expect(JSON.parse(copied.stdout)).to.deep.include({ events: 1, head: 1, verified: true });
    expect(osis(['log', '--store', copyUrl]).lines).to.deep.equal(osis(['log', '--store', store]).lines);
    expect(osis(['verify', '--store', store]).code).to.equal(0);
  });

  it('exits 5 from verify naming the segment and offset of a damaged record', () => {
    const dir = path.join(tempDir(), 'log');
    const store = `file:${dir}`;
    for (let i = 0; i < 5; i++) osis(['new', 'note', `{"body":"note ${i}"}`, '--sid', `n${i}`, '--store', store]);
    const segment = path.join(dir, '00000000000000000001.otoml');
    const bytes = fs.readFileSync(segment);
    const at = bytes.indexOf('#@ pos=2 ');
    bytes[at + 80] ^= 0x01;
    fs.writeFileSync(segment, bytes);
    const run = osis(['verify', '--store', store]);
    expect(run.code).to.equal(5);
    expect(run.stderr).to.contain(`osis: CORRUPT: 00000000000000000001.otoml offset ${at}: CRC mismatch`);
  });
});
