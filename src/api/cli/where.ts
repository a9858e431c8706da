import { InvalidInputError } from '../../log/errors';
import { parseScalar } from '../library/filter';

const OPERATORS: [string, string][] = [
  ['>=', 'gte'],
  ['<=', 'lte'],
  ['!=', 'ne'],
  ['>', 'gt'],
  ['<', 'lt'],
  ['=', 'eq'],
];

/**
 * Turn `--where` expressions into a filter object. A value that reads as a JSON number, boolean or
 * quoted string is taken as that; anything else is a plain string (`country=be`, `age>=18`, `zip="9000"`).
 */
export function parseWhere(expressions: readonly string[]): Record<string, Record<string, unknown>> {
  const filter: Record<string, Record<string, unknown>> = {};
  for (const expression of expressions) {
    const match = /^([a-z][a-z0-9_]*)(>=|<=|!=|>|<|=)(.*)$/s.exec(expression);
    if (!match) throw new InvalidInputError(`--where ${JSON.stringify(expression)}: expected FIELD=VALUE (or != > >= < <=)`);
    const [, field, symbol, raw] = match;
    const op = OPERATORS.find(([s]) => s === symbol)![1];
    const conditions = Object.prototype.hasOwnProperty.call(filter, field) ? filter[field] : (filter[field] = {});
    if (Object.prototype.hasOwnProperty.call(conditions, op)) throw new InvalidInputError(`--where: ${field} ${symbol} given twice`);
    conditions[op] = parseScalar(raw);
  }
  return filter;
}
