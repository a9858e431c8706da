import { expect } from 'chai';
import { TRACKED_DF } from '../../src/projections/sqlite/champion-builder';
import { WORKER_FROM_OBJECTS, bulkChampions } from '../../src/projections/sqlite/champion-bulk';
import { prng } from '../../src/bench/data';
import { body } from './champion-helpers';

describe('champion lists of a rebuild: collected in line or on a worker thread', function () {
  this.timeout(60_000);

  const docs = (count: number) => {
    const random = prng(11);
    return Array.from({ length: count }, (_, i) => ({ type: i % 5 === 0 ? 'note' : 'doc', id: i + 1, body: body(random) }));
  };

  it('the worker collects exactly the lists collected in line, for every type', async () => {
    const all = docs(TRACKED_DF * 3);
    const inline = bulkChampions(0);
    const worker = bulkChampions(WORKER_FROM_OBJECTS);
    for (const d of all) {
      inline.add(d.type, d.id, d.body);
      worker.add(d.type, d.id, d.body);
    }
    const [fromInline, fromWorker] = await Promise.all([inline.finish(), worker.finish()]);
    expect([...fromInline.keys()].sort()).to.deep.equal(['doc', 'note']);
    const tracked = fromInline.get('doc')!;
    expect(tracked.size, 'the frequent words of the test bodies are tracked').to.be.greaterThan(0);
    expect(fromInline.get('note')!.size, 'no word is in TRACKED_DF notes').to.equal(0);
    for (const [type, lists] of fromInline) {
      const other = fromWorker.get(type)!;
      expect([...other.keys()].sort(), type).to.deep.equal([...lists.keys()].sort());
      for (const [term, list] of lists) expect(other.get(term), `${type}/${term}`).to.deep.equal(list);
    }
  });

  it('a disposed worker collector rejects instead of hanging', async () => {
    const worker = bulkChampions(WORKER_FROM_OBJECTS);
    worker.add('doc', 1, 'the cat');
    worker.dispose();
    let error: Error | undefined;
    await worker.finish().catch((e: Error) => (error = e));
    expect(error?.message).to.match(/worker exited/);
  });
});
