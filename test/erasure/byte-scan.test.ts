import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openStore } from '../../src';
import { copyLog, exportTree } from '../../src/migrate';
import { filesUnder } from '../../src/log/personal/erased-scan';
import { tempDir } from '../helpers/temp';
import { PERSONAL_SCHEMA } from '../conformance/erasure';
import { NEEDLES, TARGET, fillWithTarget } from './erase-target';

/** Every needle found in the files under `paths`: `file: needle`. */
function grep(paths: string[], needles = NEEDLES): string[] {
  const hits: string[] = [];
  for (const file of filesUnder(paths)) {
    const bytes = fs.readFileSync(file);
    for (const needle of needles) if (bytes.includes(Buffer.from(needle, 'utf8'))) hits.push(`${path.basename(file)}: ${needle}`);
  }
  return hits;
}

for (const backend of ['sqlite', 'file'] as const) {
  describe(`erase leaves no byte of personal plaintext (${backend})`, function () {
    this.timeout(120_000);

    it('finds the values before the erase, and none in any file of the store, its export or its copies after', async () => {
      const root = tempDir('osis-erase-');
      const url = backend === 'sqlite' ? `sqlite:${path.join(root, 'store', 'osis.db')}` : `file:${path.join(root, 'store', 'log')}`;
      const storeDir = path.join(root, 'store');
      let store = await openStore(url, { schema: PERSONAL_SCHEMA, durability: 'full' });
      try {
        await fillWithTarget(store);
        expect(grep([storeDir]).length, 'the scan sees plaintext in the projections before the erase').to.be.greaterThan(0);
        await store.collection('user')._erase('target', { reason: 'byte-scan test' });
        expect(grep([storeDir]), 'store files while open, right after the erase').to.deep.equal([]);

        const exported = path.join(root, 'export');
        await exportTree(store, exported);
        const copies = [`sqlite:${path.join(root, 'copy-sqlite', 'copy.db')}`, `file:${path.join(root, 'copy-file', 'log')}`];
        for (const dest of copies) await copyLog(store, dest, { durability: 'normal' });
        const scanned = [storeDir, exported, path.join(root, 'copy-sqlite'), path.join(root, 'copy-file')];
        expect(filesUnder([exported]).length, 'the export holds the other objects').to.be.greaterThan(100);
        expect(grep(scanned)).to.deep.equal([]);

        const report = await store.verifyErased(scanned);
        expect(report.objects).to.equal(1);
        expect(report.hits).to.deep.equal([]);
        // ... and the scan does find a plaintext copy planted next to the store
        const planted = path.join(root, 'planted.txt');
        fs.writeFileSync(planted, `leaked: ${TARGET.email} and "${TARGET.name}"`);
        const found = await store.verifyErased([planted]);
        expect(found.hits.map((h) => [path.basename(h.file), h.type, h.sid])).to.deep.include(['planted.txt', 'user', 'target']);
        expect(found.hits.map((h) => h.offset)).to.include(8);

        // the live objects keep their values, here and in the copies
        expect(await store.collection('user')._get('f1')).to.include({ email: 'filler1@example.org' });
        for (const dest of copies) {
          const copy = await openStore(dest, { schema: PERSONAL_SCHEMA });
          try {
            expect(await copy.collection('user')._get('f7')).to.include({ name: 'Filler Person 7' });
            expect((await copy.collection('user')._history('target')).map((e) => e.kind)).to.deep.equal(['created', 'updated', 'erased']);
            expect(await copy.collection('user')._exists('target')).to.equal(false);
          } finally {
            await copy.close();
          }
        }
        await store.close();
        store = await openStore(url, { schema: PERSONAL_SCHEMA });
        await store.rebuild();
        expect(await store.collection('user')._exists('target')).to.equal(false);
      } finally {
        await store.close();
      }
      expect(grep([root]).filter((h) => !h.startsWith('planted.txt')), 'every file, after closing and a rebuild').to.deep.equal([]);
    });
  });
}
