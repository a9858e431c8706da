import type { ContextLayout } from '../../projections/backend';
export type { ContextLayout } from '../../projections/backend';
import { backendFor } from './backends';

/** The default store when neither `--store` nor `OSIS_STORE` is given. */
export const DEFAULT_STORE_URL = 'sqlite:./data/osis.db';

/** Check a store URL (`memory:`, `sqlite:PATH`, `file:DIR`, `postgres://…`) and name its backend; INVALID_INPUT when malformed. */
export function checkStoreUrl(url: string): { backend: string; location: string } {
  const backend = backendFor(url);
  return { backend: backend.name, location: backend.parse(url) };
}

/** How the service lays out the contexts (tenants) of the store at `url`. */
export function contextLayoutOf(url: string): ContextLayout {
  const backend = backendFor(url);
  backend.parse(url);
  return backend.contexts(url);
}
