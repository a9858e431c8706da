import { openStore } from 'osis-store';

async function main() {
  const store = await openStore('memory:', {
    schema: { types: { user: { index: ['country'], unique: ['email'], text: ['name', 'bio'] } } },
  });
  const users = store.collection('user');

  const ann = await users._new({ name: 'Ann Lee', email: 'ann@example.com', country: 'be' }, { sid: 'u1' });
  await users._update('u1', { bio: 'gardening and chess' }, { expectedVersion: 1 });
  await users._set({ ...ann, name: 'Ann L.', bio: 'chess' }, { expectedVersion: 2 });

  console.log(await users._get('u1'));                            // the current object
  console.log(await users._get('u1', { at: 1 }));                 // as it was at log position 1
  console.log((await users._find({ filter: { country: 'be' } })).items); // ['u1']
  console.log((await users._find({ text: 'chess' })).items);      // ['u1'], ranked by BM25
  console.log((await users._history('u1')).map((e) => `${e.kind} v${e.version}`));

  try {
    await users._new({ name: 'Impostor', email: 'ann@example.com' });
  } catch (error) {
    console.log((error as { code: string }).code);                // UNIQUE_VIOLATION
  }
  await store.close();
}

main();
