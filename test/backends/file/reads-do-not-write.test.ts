import { expect } from 'chai';
import * as path from 'node:path';
import { openStore } from '../../../src';
import { fileBackend } from '../../../src/backends/file';
import { FileEventLog } from '../../../src/backends/file/file-log';
import { parseSchema } from '../../../src/api/library/schema';
import { tempDir } from '../../helpers/temp';

describe('file backend: reads do not write projections', () => {
  it("head() indexes another writer's append into the log index, but leaves the projections to an explicit catch-up", async () => {
    const dir = path.join(tempDir(), 'log');
    const schema = parseSchema({ types: { user: { index: ['country'], unique: [], text: [] } } }, 'test');
    const reader = await fileBackend.open(`file:${dir}`, { schema, durability: 'normal' });
    // A writer that leaves its appends unindexed (no read in its process, a long index delay).
    const writer = await FileEventLog.open(dir, { durability: 'normal', indexDelayMs: 60_000 });
    try {
      await writer.append([{ type: 'user', sid: 'a', kind: 'created', data: { sid: 'a', country: 'be' } }]);
      expect(await reader.log.head()).to.equal(1);
      expect(await reader.projections.position(), 'head() must not apply projections').to.equal(0);
      expect(await reader.projections.object('user', 'a')).to.equal(undefined);
      await reader.projections.catchUp(reader.log);
      expect(await reader.projections.position()).to.equal(1);
      expect(await reader.projections.object('user', 'a')).to.deep.equal({ sid: 'a', country: 'be' });
    } finally {
      await writer.close();
      await reader.close();
    }
  });

  it("a store's reads still see another writer's acknowledged append (the api catches up before reading)", async () => {
    const url = `file:${path.join(tempDir(), 'log')}`;
    const a = await openStore(url, { schema: { types: {} } });
    const b = await openStore(url, { schema: { types: {} } });
    try {
      await a.collection('note')._new({ title: 'x' }, { sid: 'n1' });
      expect(await b.collection('note')._get('n1')).to.deep.equal({ sid: 'n1', title: 'x' });
      expect(await b.collection('note')._find({ text: 'x' })).to.deep.equal({ items: ['n1'] });
    } finally {
      await a.close();
      await b.close();
    }
  });
});
