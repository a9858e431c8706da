import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openStore } from '../../src';
import { exportTree, importTree } from '../../src/migrate';
import { parseObjectFile } from '../../src/api/migrate/legacy-file';
import { tempDir } from '../helpers/temp';

/** TOML 1.0 documents that import refused or altered with the previous parser (@iarna/toml, TOML 0.5). */
describe('import reads TOML 1.0 as written', () => {
  it('reads a file with Windows line endings and comments (was: "Control characters … not allowed in comments")', () => {
    expect(parseObjectFile('O:\r\n# written on Windows\r\nname = "Ann" # a comment\r\ncount = 2\r\n')).to.deep.equal({ name: 'Ann', count: 2 });
  });

  it('reads 0e2 and other exponents without a fraction', () => {
    expect(parseObjectFile('O:\na = 0e2\nb = 1E2\nc = -2e-2\n')).to.deep.equal({ a: 0, b: 100, c: -0.02 });
  });

  it('keeps dates and times exactly: lower-case t and z, a space separator, local times and dates, year 0001, microseconds, offsets', () => {
    const text = [
      'O:',
      'lower = 1987-07-05t17:45:00z',
      'space = 1987-07-05 17:45:00Z',
      'micro = 1979-05-27T00:32:00.999999-07:00',
      'offset = 1979-05-27T07:32:00+05:30',
      'local_dt = 1979-05-27T07:32:00.5',
      'local_date = 0001-01-01',
      'local_time = 00:32:00.999999',
      'nested = { when = 2000-02-29T23:59:60Z, times = [07:32:00, 1979-05-27] }',
      '',
    ].join('\n');
    expect(parseObjectFile(text)).to.deep.equal({
      lower: '1987-07-05T17:45:00Z',
      space: '1987-07-05T17:45:00Z',
      micro: '1979-05-27T00:32:00.999999-07:00',
      offset: '1979-05-27T07:32:00+05:30',
      local_dt: '1979-05-27T07:32:00.5',
      local_date: '0001-01-01',
      local_time: '00:32:00.999999',
      nested: { when: '2000-02-29T23:59:60Z', times: ['07:32:00', '1979-05-27'] },
    });
  });

  it('refuses dates and times that do not exist, naming the line', () => {
    for (const bad of ['2023-02-29', '1979-13-01T00:00:00Z', '1979-05-27T24:00:00', '25:00:00', '1979-05-27T07:32:00+24:00']) {
      expect(() => parseObjectFile(`O:\nx = 1\nwhen = ${bad}\n`), bad).to.throw(/not valid TOML: .*not a valid .* at line 2/);
    }
  });

  it('refuses inf and nan with the reason, never stores them altered', () => {
    for (const bad of ['inf', '-inf', '+nan', 'nan']) expect(() => parseObjectFile(`O:\nx = ${bad}\n`)).to.throw(/\/x: .*\(inf or nan\) has no JSON form/);
  });

  it('imports and exports such a file: the dates come back as the same text', async () => {
    const root = path.join(tempDir(), 'tree');
    fs.mkdirSync(path.join(root, 'event'), { recursive: true });
    fs.writeFileSync(path.join(root, 'event', 'e1.otoml'), 'O:\r\nat = 1979-05-27 00:32:00.999999-07:00\r\nday = 0001-01-01\r\n');
    const store = await openStore(`file:${path.join(tempDir(), 'log')}`);
    try {
      expect((await importTree(store, root)).bad).to.deep.equal([]);
      expect(await store.collection('event')._get('e1')).to.deep.equal({ at: '1979-05-27T00:32:00.999999-07:00', day: '0001-01-01', sid: 'e1' });
      const out = path.join(tempDir(), 'out');
      await exportTree(store, out);
      expect(parseObjectFile(fs.readFileSync(path.join(out, 'event', 'e1.otoml'), 'utf8'))).to.deep.equal({ at: '1979-05-27T00:32:00.999999-07:00', day: '0001-01-01', sid: 'e1' });
    } finally {
      await store.close();
    }
  });
});
