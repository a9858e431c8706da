import { InvalidInputError } from '../../log/errors';
import { checkJsonValue, isPlainObject } from '../library/validate';
import { echo } from './errors';

/** The JSON Schema of one named parameter, or a function of the object type it applies to. */
export type SchemaFor = Record<string, unknown> | ((type: string) => Record<string, unknown>);

/** One named parameter of a method: validated at the edge and described in the OpenRPC document. */
export interface ParamSpec {
  name: string;
  required?: boolean;
  description: string;
  schema: SchemaFor;
}

/**
 * Check that `params` is absent, a by-name object, or a by-position array (in the order of `specs`; a
 * `null` stands for an absent param, as JSON has no `undefined`), whose keys are all declared and whose
 * required keys are present; prototype keys and over-deep values are refused at any depth. Returns the
 * params by name.
 */
export function namedParams(params: unknown, specs: readonly ParamSpec[], method: string): Record<string, unknown> {
  if (params === undefined) params = {};
  if (Array.isArray(params)) params = byPosition(params, specs, method);
  if (!isPlainObject(params)) throw new InvalidInputError(`${method}: params must be an object`);
  const known = new Set(specs.map((s) => s.name));
  for (const key of Object.keys(params)) {
    if (!known.has(key)) {
      throw new InvalidInputError(`${method}: unknown param ${JSON.stringify(echo(key))} (${expected(specs)})`, {
        param: echo(key),
        expected: specs.map((s) => s.name),
      });
    }
  }
  for (const spec of specs) {
    if (spec.required && params[spec.name] === undefined) {
      throw new InvalidInputError(`${method}: missing param ${JSON.stringify(spec.name)}`, { param: spec.name });
    }
  }
  // Depth -1: each param value is then checked as a root value of its own, as the store checks objects.
  checkJsonValue(params, '', -1);
  return params;
}

function byPosition(params: unknown[], specs: readonly ParamSpec[], method: string): Record<string, unknown> {
  if (params.length > specs.length) {
    throw new InvalidInputError(`${method} takes at most ${specs.length} params by position, got ${params.length} (${expected(specs)})`, {
      expected: specs.map((s) => s.name),
    });
  }
  const out: Record<string, unknown> = {};
  params.forEach((value, i) => {
    if (value !== null) out[specs[i].name] = value;
  });
  return out;
}

/** An optional boolean param. */
export function optionalBoolean(params: Record<string, unknown>, name: string): boolean | undefined {
  const value = params[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw new InvalidInputError(`${name} must be true or false`, { param: name });
  return value;
}

/** An optional integer param within [min, max]. */
export function optionalInteger(params: Record<string, unknown>, name: string, min: number, max: number): number | undefined {
  const value = params[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidInputError(`${name} must be an integer from ${min} to ${max}`, { param: name });
  }
  return value;
}

/** A required string param. */
export function requiredString(params: Record<string, unknown>, name: string): string {
  const value = params[name];
  if (typeof value !== 'string') throw new InvalidInputError(`${name} must be a string`, { param: name });
  return value;
}

function expected(specs: readonly ParamSpec[]): string {
  if (specs.length === 0) return 'it takes no params';
  return `expected ${specs.map((s) => (s.required ? s.name : `${s.name}?`)).join(', ')}`;
}
