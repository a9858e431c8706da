import { InvalidInputError } from '../../log/errors';
import type { ExpectedVersion, ObjectData } from '../../log/event';
import type { StoreSchema } from '../library/schema';
import type { Collection, WriteOptions } from '../library/collection';
import type { PointInTime } from '../library/point-in-time';
import type { Store } from '../library/store';
import { assertTypeName, isPlainObject } from '../library/validate';
import { GENERIC_METHOD, STORE_METHOD_SPECS, TYPE_METHOD, genericMethodSpecs, typeMethodSpecs, type MethodSpec, type StoreMethod, type TypeOp } from './catalog';
import type { ContextRegistry } from './contexts';
import { namedParams, optionalBoolean, optionalInteger } from './params';
import { boundedLogRead, declaredRows } from './bounded-reads';
import type { ReadBudget } from '../library/collection';

/** What a call knows about the HTTP request it came in. */
export interface CallContext {
  /** The context named by `X-Hero-Context` (default `default`), not yet checked. */
  context: string;
  /** What the reads of this request may still take, and this call's abort signal. */
  budget?: ReadBudget;
}

/** A resolved method: validates its params and runs. */
export type MethodHandler = (params: unknown, call: CallContext) => Promise<unknown>;

/** Hooks the dispatcher calls, for metrics. */
export interface MethodHooks {
  /** A write committed `events` events in `context`. */
  onAppend?(context: string, events: number): void;
}

/** A method name resolved once. */
export interface ResolvedMethod {
  handler: MethodHandler | undefined;
  label: string;
  /** The rows a call may return, from its params (1 when absent). */
  rows?: (params: unknown) => number;
}

type TypeImpl = (collection: Collection, p: Record<string, unknown>, budget: ReadBudget | undefined) => Promise<unknown>;

const writeOptions = (p: Record<string, unknown>): WriteOptions => ({
  ...(p.expected_version !== undefined ? { expectedVersion: p.expected_version as ExpectedVersion } : {}),
  ...(p.idempotency_key !== undefined ? { idempotencyKey: p.idempotency_key as string } : {}),
  ...(p.meta !== undefined ? { meta: p.meta as WriteOptions['meta'] } : {}),
});

const pageOptions = (p: Record<string, unknown>, budget: ReadBudget | undefined) => {
  const options: Record<string, unknown> = budget ? { budget } : {};
  for (const key of ['limit', 'cursor', 'filter', 'text', 'at']) if (p[key] !== undefined) options[key] = p[key];
  return options;
};

function objectParam(p: Record<string, unknown>, name: string): ObjectData {
  const value = p[name];
  if (!isPlainObject(value)) throw new InvalidInputError(`${name} must be a JSON object`, { param: name });
  return value;
}

const TYPE_IMPLS: Record<TypeOp, TypeImpl> = {
  new: (c, p) => c._new(objectParam(p, 'object'), { ...writeOptions(p), ...(p.sid !== undefined ? { sid: p.sid as string } : {}) }),
  get: (c, p) => {
    const withMeta = optionalBoolean(p, 'with_meta');
    return c._get(p.sid as string, { ...(p.at !== undefined ? { at: p.at as PointInTime } : {}), ...(withMeta ? { withMeta } : {}) });
  },
  set: (c, p) => c._set(objectParam(p, 'object'), writeOptions(p)),
  update: (c, p) => c._update(p.sid as string, objectParam(p, 'patch'), writeOptions(p)),
  delete: async (c, p) => {
    await c._delete(p.sid as string, writeOptions(p));
    return null;
  },
  exists: (c, p) => c._exists(p.sid as string),
  list: (c, p, b) => c._list(pageOptions(p, b)),
  list_full: (c, p, b) => c._list_full(pageOptions(p, b)),
  find: (c, p, b) => c._find(pageOptions(p, b)),
  find_full: (c, p, b) => c._find_full(pageOptions(p, b)),
  history: (c, p) => c._history(p.sid as string),
  erase: async (c, p) => {
    const { expectedVersion: _ignored, ...options } = writeOptions(p);
    await c._erase(p.sid as string, { ...options, ...(p.reason !== undefined ? { reason: p.reason as string } : {}) });
    return null;
  },
};

const WRITES = new Set<TypeOp>(['new', 'set', 'update', 'delete', 'erase']);

/**
 * Resolves method names to handlers: `TYPE_OP` for any valid type name, the store-level methods, and
 * `rpc.discover`. Every handler checks its named params before touching a store.
 */
export class MethodTable {
  private readonly typeSpecs;
  private readonly genericSpecs = genericMethodSpecs();
  private readonly known = new Map<string, ResolvedMethod>();

  constructor(
    private readonly contexts: ContextRegistry,
    private readonly schema: StoreSchema,
    private readonly discover: () => unknown,
    private readonly hooks: MethodHooks = {},
  ) {
    this.typeSpecs = typeMethodSpecs((type) => type in schema.types);
  }

  /** The handler of a method (undefined when no such method exists) and its metrics label; cached per name. */
  lookup(method: string): ResolvedMethod {
    let found = this.known.get(method);
    if (!found) {
      found = { handler: this.resolve(method), label: this.label(method), rows: declaredRows(method) };
      if (this.known.size >= 1024) this.known.clear();
      this.known.set(method, found);
    }
    return found;
  }

  /** The handler of a method, or undefined when no such method exists. */
  resolve(method: string): MethodHandler | undefined {
    if (method === 'rpc.discover') {
      return async (params) => {
        namedParams(params, [], method);
        return this.discover();
      };
    }
    if (Object.prototype.hasOwnProperty.call(STORE_METHOD_SPECS, method)) return this.storeMethod(method as StoreMethod);
    const generic = GENERIC_METHOD.exec(method);
    if (generic) return this.typeMethod(method, generic[1] as TypeOp, this.genericSpecs[generic[1] as TypeOp]);
    const match = TYPE_METHOD.exec(method);
    if (!match) return undefined;
    const [, type, op] = match as unknown as [string, string, TypeOp];
    return this.typeMethod(method, op, this.typeSpecs[op], type);
  }

  /** A per-type method; without `type`, the type is the call's `type` param (the generic methods). */
  private typeMethod(method: string, op: TypeOp, spec: MethodSpec, type?: string): MethodHandler {
    return async (params, call) => {
      const p = namedParams(params, spec.params, method);
      const name = type ?? p.type;
      assertTypeName(name);
      const context = contextOf(p, call);
      const result = await this.contexts.using(context, (store) => TYPE_IMPLS[op](store.collection(name), p, call.budget));
      if (WRITES.has(op)) this.hooks.onAppend?.(context, 1);
      return result;
    };
  }

  /** A metrics label for a method name, bounded: undeclared types collapse into `*_OP`. */
  label(method: string): string {
    if (method === 'rpc.discover' || GENERIC_METHOD.test(method) || Object.prototype.hasOwnProperty.call(STORE_METHOD_SPECS, method)) return method;
    const match = TYPE_METHOD.exec(method);
    if (!match) return 'unknown';
    return match[1] in this.schema.types ? method : `*_${match[2]}`;
  }

  private storeMethod(method: StoreMethod): MethodHandler {
    const specs = STORE_METHOD_SPECS[method].params;
    switch (method) {
      case 'context_list':
        return async (params) => {
          namedParams(params, specs, method);
          return this.contexts.list();
        };
      case 'context_create':
        return async (params) => {
          const p = namedParams(params, specs, method);
          return this.contexts.create(p.name);
        };
      case 'stats':
        return async (params, call) => {
          const context = contextOf(namedParams(params, specs, method), call);
          return this.contexts.using(context, async (store) => ({ context, ...(await store.stats()) }));
        };
      case 'log_read':
        return async (params, call) => {
          const p = namedParams(params, specs, method);
          const from = optionalInteger(p, 'from', 1, Number.MAX_SAFE_INTEGER) ?? 1;
          const limit = optionalInteger(p, 'limit', 1, 10_000) ?? 1000;
          const types = typesParam(p.types);
          return this.contexts.using(contextOf(p, call), (store: Store) => boundedLogRead(store, from, limit, types, call.budget));
        };
    }
  }
}

/**
 * The context of a call: the `context` param when given, else the X-Hero-Context header (default
 * `default`). A param that contradicts a header naming another context than `default` is refused.
 */
function contextOf(p: Record<string, unknown>, call: CallContext): string {
  if (p.context === undefined) return call.context;
  if (typeof p.context !== 'string') throw new InvalidInputError('context must be a string', { param: 'context' });
  if (call.context !== 'default' && p.context !== call.context) {
    throw new InvalidInputError(`the context param ${JSON.stringify(p.context)} contradicts the X-Hero-Context header ${JSON.stringify(call.context)}`, {
      param: 'context',
    });
  }
  return p.context;
}

function typesParam(value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length > 1000) throw new InvalidInputError('types must be an array of type names', { param: 'types' });
  for (const type of value) assertTypeName(type);
  return value as string[];
}
