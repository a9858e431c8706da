import { InvalidInputError } from '../../log/errors';
import type { FilterClause, FilterOp } from '../../projections/sqlite/queries';
import { assertFieldName, assertWellFormed, isPlainObject } from './validate';

const OPS = new Set<FilterOp>(['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in']);
/** Most conditions in one filter (SQLite bounds the depth of an expression). */
export const MAX_FILTER_CONDITIONS = 100;
/** Most values in one filter, `in` lists included (SQLite bounds the bound variables of a statement). */
export const MAX_FILTER_VALUES = 10_000;

/** Validate `{ field: value | { op: value } }` into clauses; field names and operators are checked. */
export function parseFilter(filter: unknown): FilterClause[] {
  if (filter === undefined || filter === null) return [];
  if (!isPlainObject(filter)) throw new InvalidInputError('filter must be an object of { field: value }');
  const clauses: FilterClause[] = [];
  for (const [field, condition] of Object.entries(filter)) {
    assertFieldName(field, 'filter field');
    if (isPlainObject(condition)) {
      const entries = Object.entries(condition);
      if (entries.length === 0) throw new InvalidInputError(`filter on ${field}: empty condition`);
      for (const [op, value] of entries) {
        if (!OPS.has(op as FilterOp)) {
          throw new InvalidInputError(`filter on ${field}: unknown operator ${JSON.stringify(op)} (expected ${[...OPS].join(', ')})`);
        }
        clauses.push(clause(field, op as FilterOp, value));
      }
    } else {
      clauses.push(clause(field, 'eq', condition));
    }
  }
  if (clauses.length > MAX_FILTER_CONDITIONS) {
    throw new InvalidInputError(`a filter may hold at most ${MAX_FILTER_CONDITIONS} conditions, got ${clauses.length}`, {
      limit: 'filter_conditions',
      max: MAX_FILTER_CONDITIONS,
    });
  }
  const values = clauses.reduce((n, c) => n + (Array.isArray(c.value) ? c.value.length : 1), 0);
  if (values > MAX_FILTER_VALUES) {
    throw new InvalidInputError(`a filter may hold at most ${MAX_FILTER_VALUES} values in all, "in" lists included, got ${values}`, {
      limit: 'filter_values',
      max: MAX_FILTER_VALUES,
    });
  }
  return clauses;
}

function clause(field: string, op: FilterOp, value: unknown): FilterClause {
  for (const v of Array.isArray(value) ? value : [value]) if (typeof v === 'string') assertWellFormed(v, `filter on ${field}`);
  const scalar = (v: unknown) => typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
  if (op === 'in') {
    if (!Array.isArray(value) || value.length === 0 || value.length > 1000 || !value.every(scalar)) {
      throw new InvalidInputError(`filter on ${field}: "in" needs an array of 1 to 1000 strings, numbers or booleans`);
    }
  } else if (!scalar(value)) {
    throw new InvalidInputError(`filter on ${field}: value must be a string, number or boolean`);
  }
  return { field, op, value };
}

/**
 * A value typed on a command line or in a URL: one that reads as a JSON number, boolean or quoted string
 * is taken as that (`18`, `true`, `"9000"`); anything else is the plain string.
 */
export function parseScalar(raw: string): unknown {
  if (/^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(raw) || raw === 'true' || raw === 'false' || /^".*"$/s.test(raw)) {
    try {
      return JSON.parse(raw);
    } catch {
      return raw;
    }
  }
  return raw;
}

/** The text `parseScalar` reads back as `value` (strings that would read as something else are quoted). */
export function formatScalar(value: string | number | boolean): string {
  if (typeof value !== 'string') return String(value);
  return parseScalar(value) === value ? value : JSON.stringify(value);
}
