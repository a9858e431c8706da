import { InvalidInputError } from '../../log/errors';

/** The default store when neither `--store` nor `OSIS_STORE` is given. */
export const DEFAULT_STORE_URL = 'sqlite:./data/osis.db';

export type ParsedStoreUrl =
  | { backend: 'memory' }
  | { backend: 'sqlite'; path: string }
  | { backend: 'file'; dir: string }
  | { backend: 'postgres'; url: string };

/** Parse a store URL: `memory:`, `sqlite:PATH`, `file:DIR` or `postgres://…`. */
export function parseStoreUrl(url: string): ParsedStoreUrl {
  if (typeof url !== 'string' || url.length === 0) throw new InvalidInputError('store URL must be a non-empty string');
  if (url === 'memory:' || url === 'memory://') return { backend: 'memory' };
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (!path) throw new InvalidInputError(`store URL ${url}: sqlite: needs a file path, as in sqlite:./data/osis.db`);
    if (path.includes('\0')) throw new InvalidInputError('store URL contains a NUL byte');
    return { backend: 'sqlite', path };
  }
  if (url.startsWith('file:')) {
    const dir = url.slice('file:'.length).replace(/^\/\/(?=\/)/, '');
    if (!dir) throw new InvalidInputError(`store URL ${url}: file: needs a directory, as in file:./data/log`);
    if (dir.includes('\0')) throw new InvalidInputError('store URL contains a NUL byte');
    return { backend: 'file', dir };
  }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) return { backend: 'postgres', url };
  throw new InvalidInputError(`unknown store URL ${JSON.stringify(url)}: use memory:, sqlite:PATH, file:DIR or postgres://…`);
}
