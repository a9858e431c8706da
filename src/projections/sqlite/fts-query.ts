import { InvalidInputError } from '../../log/errors';

/**
 * Translate a user's search text into an FTS5 expression in which every term is a quoted string, so
 * no FTS5 operator, column filter or SQL can be injected. Supported syntax:
 * `word` (all words must match), `"a phrase"`, `pre*` (prefix), `OR` between two terms.
 */
export function toFtsExpression(query: string): string {
  if (typeof query !== 'string') throw new InvalidInputError('text must be a string');
  if (query.length > 1000) throw new InvalidInputError('text query is longer than 1000 characters');
  const control = /[\u0000-\u0008\u000b\u000e-\u001f\u007f]/.exec(query);
  if (control) throw new InvalidInputError(`text query contains the control character U+${control[0].charCodeAt(0).toString(16).padStart(4, '0')} at position ${control.index + 1}`);
  const parts: string[] = [];
  let i = 0;
  let pendingOr = false;
  while (i < query.length) {
    const ch = query[i];
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    let term: string;
    let prefix = false;
    if (ch === '"') {
      const end = query.indexOf('"', i + 1);
      if (end < 0) throw new InvalidInputError(`text query has an unterminated phrase starting at character ${i + 1}`);
      term = query.slice(i + 1, end);
      i = end + 1;
      if (query[i] === '*') {
        prefix = true;
        i++;
      }
    } else {
      let end = i;
      while (end < query.length && !/\s/.test(query[end]) && query[end] !== '"') end++;
      term = query.slice(i, end);
      i = end;
      if (term === 'OR') {
        if (parts.length === 0 || pendingOr) throw new InvalidInputError('text query has OR without a term before it');
        pendingOr = true;
        continue;
      }
      if (term.endsWith('*')) {
        prefix = true;
        term = term.replace(/\*+$/, '');
      }
    }
    if (!/[\p{L}\p{N}]/u.test(term)) continue;
    const quoted = `"${term.replace(/"/g, '""')}"${prefix ? '*' : ''}`;
    if (pendingOr) {
      parts[parts.length - 1] = `${parts[parts.length - 1]} OR ${quoted}`;
      pendingOr = false;
    } else {
      parts.push(quoted);
    }
  }
  if (pendingOr) throw new InvalidInputError('text query ends with OR');
  if (parts.length === 0) throw new InvalidInputError('text query has no searchable term');
  return parts.map((p) => (p.includes(' OR ') ? `(${p})` : p)).join(' AND ');
}
