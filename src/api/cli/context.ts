import type { Command } from 'commander';
import { InvalidInputError } from '../../log/errors';
import { readInputStdin } from '../library/input-file';
import { parseJsonInput } from '../library/json-input';
import { MAX_OBJECT_BYTES } from '../library/validate';
import { openStore, type Store } from '../library/store';
import { DEFAULT_STORE_URL } from '../library/store-url';

/** Options every command accepts, before or after its own words. */
export interface GlobalOptions {
  store?: string;
  schema?: string;
  durability?: 'full' | 'normal';
  keys?: string;
}

/** The store URL a command uses: --store, then OSIS_STORE, then the default. */
export function storeUrlOf(command: Command): string {
  const options = command.optsWithGlobals() as GlobalOptions;
  return options.store ?? process.env.OSIS_STORE ?? DEFAULT_STORE_URL;
}

/** Open the store a command names, run `fn`, and always close it. */
export async function withStore<T>(command: Command, fn: (store: Store) => Promise<T>): Promise<T> {
  const options = command.optsWithGlobals() as GlobalOptions;
  const durability = options.durability;
  if (durability !== undefined && durability !== 'full' && durability !== 'normal') {
    throw new InvalidInputError(`--durability must be full or normal, got ${JSON.stringify(durability)}`);
  }
  const store = await openStore(storeUrlOf(command), {
    ...(options.schema ? { schema: options.schema } : {}),
    ...(durability ? { durability } : {}),
    ...(options.keys ? { keys: options.keys } : {}),
  });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/** Parse a JSON argument; `-` reads standard input. */
export function jsonArgument(text: string, what: string): unknown {
  const source = text === '-' ? readInputStdin(`${what} on standard input`, MAX_OBJECT_BYTES) : text;
  return parseJsonInput(source, what);
}

/** Parse an integer option within bounds, naming the option on error. */
export function intOption(value: string | undefined, name: string, min = 0): number | undefined {
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value) || Number(value) < min || !Number.isSafeInteger(Number(value))) {
    throw new InvalidInputError(`${name} must be an integer >= ${min}, got ${JSON.stringify(value)}`);
  }
  return Number(value);
}

/** Print one JSON value per line on stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}
