import { parentPort } from 'node:worker_threads';
import { ChampionBuilder } from './champion-builder';
import { listsOf, type ToWorker } from './champion-bulk';

/** The worker thread of `bulkChampions`: collects postings, then answers with the lists once. */
const builder = new ChampionBuilder();
parentPort!.on('message', (message: ToWorker) => {
  if ('finish' in message) {
    parentPort!.postMessage(listsOf(builder));
    return;
  }
  for (let i = 0; i < message.ids.length; i++) builder.add(message.types[i], message.ids[i], message.bodies[i]);
});
