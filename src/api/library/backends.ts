import { fileBackend } from '../../backends/file';
import { memoryBackend } from '../../backends/memory';
import { postgresBackend } from '../../backends/postgres';
import { sqliteBackend } from '../../backends/sqlite';
import { InvalidInputError } from '../../log/errors';
import type { Backend, BackendOpenOptions, OpenedBackend } from '../../projections/backend';

/** Every backend this build knows, looked up by the scheme of a store URL. A new backend is one line here. */
const BACKENDS: readonly Backend[] = [memoryBackend, sqliteBackend, fileBackend, postgresBackend];

/** The backend a store URL names; INVALID_INPUT, listing the known forms, when none does. */
export function backendFor(url: string): Backend {
  if (typeof url !== 'string' || url.length === 0) throw new InvalidInputError('store URL must be a non-empty string');
  const backend = BACKENDS.find((b) => b.schemes.some((scheme) => url.startsWith(scheme)));
  if (backend) return backend;
  const forms = BACKENDS.map((b) => b.example).join(', ');
  throw new InvalidInputError(`unknown store URL ${JSON.stringify(url)}: use ${forms}`);
}

/** Open the backend a store URL names: its log and projection store, wired together and level. */
export async function openBackend(url: string, options: BackendOpenOptions): Promise<OpenedBackend> {
  const backend = backendFor(url);
  backend.parse(url);
  return backend.open(url, options);
}
