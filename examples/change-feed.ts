import { openStore } from 'osis-store';

async function main(): Promise<void> {
  const store = await openStore('memory:');
  const notes = store.collection('note');
  await notes._new({ title: 'first' }, { sid: 'n1' });

  // History from position 1, then live events: an RxJS Observable.
  const live = store.changes({ from: 1 }).subscribe((e) => console.log('change', e.position, e.kind, e.sid));

  // A named subscriber: durable checkpoint, at-least-once, resumes where it stopped.
  const mailer = await store.subscribe('mailer', async (events) => {
    for (const e of events) console.log('mail about', e.sid);
  });

  // A user projection: its writes and its checkpoint commit in one transaction (exactly once).
  const titles = await store.project('note_titles', (events, { db }) => {
    db.exec('CREATE TABLE IF NOT EXISTS app_note_titles (sid TEXT PRIMARY KEY, title TEXT)');
    for (const e of events) {
      if (e.kind === 'deleted') db.prepare('DELETE FROM app_note_titles WHERE sid = ?').run(e.sid);
      else db.prepare('INSERT OR REPLACE INTO app_note_titles (sid, title) VALUES (?, ?)').run(e.sid, e.data.title);
    }
  });

  await notes._new({ title: 'second' }, { sid: 'n2' });
  await notes._delete('n1');
  while ((await mailer.lag()).events > 0 || (await titles.lag()).events > 0) await new Promise((r) => setTimeout(r, 5));
  console.log(JSON.stringify(await mailer.lag())); // {"name":"mailer","kind":"subscriber","position":3,"head":3,"events":0,"ms":0}
  console.log(await store.withProjectionDb((db) => db.prepare('SELECT title FROM app_note_titles').pluck().all()));
  live.unsubscribe();
  await store.close();
}

main();
