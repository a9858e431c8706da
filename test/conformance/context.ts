import { openStore, type Store } from '../../src';
import type { BackendFixture } from './backends';

/** The schema every conformance case runs with; `note` stays undeclared (schemaless). */
export const SCHEMA = {
  types: {
    user: { index: ['country', 'age'], unique: ['email'], text: ['name', 'bio'] },
  },
};

/** Opens a fresh store per test and closes it after. */
export function useStore(fixture: BackendFixture): { store: () => Store; url: () => string; reopen: () => Promise<Store> } {
  let current: Store | undefined;
  let url = '';
  beforeEach(async () => {
    url = fixture.freshUrl();
    current = await openStore(url, { schema: SCHEMA, durability: 'normal' });
  });
  afterEach(async () => {
    await current?.close();
    current = undefined;
  });
  return {
    store: () => current!,
    url: () => url,
    reopen: async () => {
      await current?.close();
      current = await openStore(url, { schema: SCHEMA, durability: 'normal' });
      return current;
    },
  };
}
