import * as TOML from '@iarna/toml';
import { InvalidInputError } from './errors';

/**
 * The one place that knows which TOML library the store uses, so it can be swapped.
 * Parse errors become INVALID_INPUT with the library's line/column message.
 */
export function parseToml(text: string, what = 'TOML'): Record<string, unknown> {
  try {
    return TOML.parse(text) as Record<string, unknown>;
  } catch (error) {
    const message = ((error as Error).message ?? String(error)).split('\n')[0];
    throw new InvalidInputError(`${what} is not valid TOML: ${message}`);
  }
}

/** Serialise a JSON-compatible object as TOML. */
export function stringifyToml(value: Record<string, unknown>): string {
  return TOML.stringify(value as TOML.JsonMap);
}
