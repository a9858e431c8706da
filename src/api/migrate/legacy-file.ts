import { InvalidInputError } from '../../log/errors';
import { encodeTableBody, fromParsedToml } from '../../log/otoml-value';
import { parseToml } from '../../log/toml-codec';
import { isPlainObject } from '../library/validate';

/**
 * One object file of the legacy OSIS file-per-object tree (`TYPE/…/SID.otoml`): a first line starting
 * with `O:`, then the object as TOML with sorted keys and nested objects as inline tables.
 */

/** The first line of a legacy object file. */
export const OBJECT_FILE_MARKER = 'O:';
/** Legacy object files end with this. */
export const OBJECT_FILE_SUFFIX = '.otoml';

/** The text of an object file for `object`. */
export function formatObjectFile(object: Record<string, unknown>): string {
  return `${OBJECT_FILE_MARKER}\n${encodeTableBody(object)}`;
}

/**
 * Parse an object file's text into a JSON object. INVALID_INPUT (naming the problem) when the first line
 * is not `O:`, the rest is not TOML, or a value has no JSON form. Anything after `O:` on the first line is
 * ignored; TOML dates become their ISO text.
 */
export function parseObjectFile(text: string): Record<string, unknown> {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const nl = body.indexOf('\n');
  const first = (nl < 0 ? body : body.slice(0, nl)).replace(/\r$/, '');
  if (!first.startsWith(OBJECT_FILE_MARKER)) {
    throw new InvalidInputError(`the first line is ${JSON.stringify(first.slice(0, 40))}, not ${OBJECT_FILE_MARKER}`);
  }
  const parsed = fromParsedToml(parseToml(nl < 0 ? '' : body.slice(nl + 1), 'the object'));
  if (!isPlainObject(parsed)) throw new InvalidInputError('the object is not a TOML table');
  return parsed;
}
