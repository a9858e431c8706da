import { expect } from 'chai';
import type { Store } from '../../src';

/** Distinctive personal values of the object the byte-scan tests erase, and the full-text terms its name becomes. */
export const TARGET = {
  name: 'Xylophrax Quendelmoor',
  email: 'xylophrax.quendelmoor@erase-test.example',
  phone: '+99 0123 456 789',
  country: 'be',
  bio: 'tends bees',
};
/** The target's email before its update (the log holds both). */
export const OLD_EMAIL = 'old.xylophrax@erase-test.example';
export const NEEDLES = [TARGET.name, TARGET.email, TARGET.phone, OLD_EMAIL, 'Xylophrax', 'Quendelmoor', 'xylophrax', 'quendelmoor'];

/**
 * Fill a store of `PERSONAL_SCHEMA` (test/conformance/erasure.ts): 300 filler users, the target (sid
 * `target`, created with OLD_EMAIL, then updated), `live` (sid `live`) when given, 50 filler updates; then
 * wait until the full-text index has the target (it is filled in batches after commit).
 */
export async function fillWithTarget(store: Store, live?: Record<string, unknown>): Promise<void> {
  const users = store.collection('user');
  for (let i = 0; i < 300; i++) {
    await users._new({ name: `Filler Person ${i}`, email: `filler${i}@example.org`, phone: `+32 ${i}`, country: i % 2 ? 'be' : 'nl', bio: `note ${i}` }, { sid: `f${i}` });
  }
  await users._new({ ...TARGET, email: OLD_EMAIL }, { sid: 'target' });
  await users._update('target', { email: TARGET.email });
  if (live) await users._new(live, { sid: 'live' });
  for (let i = 0; i < 50; i++) await users._update(`f${i}`, { bio: `updated ${i}` });
  expect((await users._find({ text: 'quendelmoor' })).items).to.deep.equal(['target']);
}
