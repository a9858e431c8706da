import type { ParamSpec, SchemaFor } from './params';

/**
 * What every method takes and returns, written once: the dispatcher validates params against it and the
 * OpenRPC document is generated from it.
 */

/** The per-type OSIS operations, as in `user_get`. */
export const TYPE_OPS = ['new', 'get', 'set', 'update', 'delete', 'exists', 'list', 'list_full', 'find', 'find_full', 'history', 'erase'] as const;
export type TypeOp = (typeof TYPE_OPS)[number];

/**
 * The generic OSIS methods: the operation names themselves (`_new`, `_get`, …) with the type as their first
 * param, so a client generated from the document reaches every type, declared or not. No type method can
 * have these names: type names start with a letter.
 */
export const GENERIC_METHOD = new RegExp(`^_(${[...TYPE_OPS].join('|')})$`);

/** Store-level methods (besides `rpc.discover`). */
export const STORE_METHODS = ['log_read', 'stats', 'context_create', 'context_list'] as const;
export type StoreMethod = (typeof STORE_METHODS)[number];

/** Splits `TYPE_OP` into its type and operation; the longest type wins (`a_list_full` is `a` + `list_full`). */
export const TYPE_METHOD = new RegExp(`^([a-z][a-z0-9_]{0,62})_(${[...TYPE_OPS].sort((a, b) => b.length - a.length).join('|')})$`);

export interface MethodSpec {
  summary: string;
  /** Longer text for the document. */
  description?: string;
  params: ParamSpec[];
  result: { name: string; schema: SchemaFor };
  /** JSON-RPC error codes this method can answer with, besides -32602/-32603. */
  errors: Array<'NotFound' | 'Conflict'>;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
/** The schema name of a declared type's object. */
export const typeSchemaName = (type: string) => `type.${type}`;
const objectOf = (declared: (type: string) => boolean) => (type: string) => (declared(type) ? ref(typeSchemaName(type)) : ref('AnyObject'));

const sid: ParamSpec = { name: 'sid', required: true, description: 'The object id.', schema: ref('Sid') };
const expectedVersion: ParamSpec = {
  name: 'expected_version',
  description: "Optimistic concurrency: the object's current version, or 'any', 'no_stream', 'exists'.",
  schema: ref('ExpectedVersion'),
};
const idempotencyKey: ParamSpec = {
  name: 'idempotency_key',
  description: 'A retried write with the same key returns the first result instead of writing again.',
  schema: { title: 'IdempotencyKey', type: 'string', minLength: 1, maxLength: 200 },
};
const meta: ParamSpec = { name: 'meta', description: 'Who and why (actor, correlationId, …), stored with the event.', schema: ref('EventMeta') };
const page = (items: SchemaFor, title: (type: string) => string) => (type: string) => ({
  title: title(type),
  type: 'object',
  required: ['items'],
  properties: {
    items: { title: `${title(type)}Items`, type: 'array', items: typeof items === 'function' ? items(type) : items },
    next_cursor: { title: 'Cursor', type: 'string' },
  },
  additionalProperties: false,
});
const limit: ParamSpec = { name: 'limit', description: 'Page size, 1 to 10000 (default 100).', schema: ref('Limit') };
const cursor: ParamSpec = { name: 'cursor', description: 'The next_cursor of the previous page.', schema: { title: 'Cursor', type: 'string' } };
const filter: ParamSpec = { name: 'filter', description: '{field: value} or {field: {eq|ne|gt|gte|lt|lte|in: value}}; all must hold.', schema: ref('Filter') };
const text: ParamSpec = { name: 'text', description: 'Full-text query: words (all must match), "phrases", prefix*, OR.', schema: { title: 'TextQuery', type: 'string' } };
const at: ParamSpec = { name: 'at', description: 'Answer as of a log position or an ISO 8601 time (folds the log: slower, exact).', schema: ref('PointInTime') };

/**
 * The context a call works in, as a param: for clients that cannot set the X-Hero-Context header. When
 * both are given and the header is not `default`, they must agree.
 */
export const CONTEXT_PARAM: ParamSpec = {
  name: 'context',
  description: 'The context (default: the X-Hero-Context header, else "default").',
  schema: ref('ContextName'),
};

/** The `type` param of the generic methods. */
export const TYPE_PARAM: ParamSpec = { name: 'type', required: true, description: 'The object type.', schema: ref('TypeName') };

/**
 * The per-type methods; `declared(type)` says whether the schema declares the type. Every one also takes
 * the optional `context` param last.
 */
export function typeMethodSpecs(declared: (type: string) => boolean): Record<TypeOp, MethodSpec> {
  const object = objectOf(declared);
  const newObject = (type: string) => (declared(type) ? ref(`${typeSchemaName(type)}.new`) : ref('NewObject'));
  const record = (type: string) => (declared(type) ? ref(`${typeSchemaName(type)}.record`) : ref('ObjectRecord'));
  const named = (suffix: string) => (type: string) => (declared(type) ? `${pascal(type)}${suffix}` : `Any${suffix}`);
  const specs: Record<TypeOp, MethodSpec> = {
    new: {
      summary: 'Create an object; a ULID sid is minted unless one is given.',
      params: [
        { name: 'object', required: true, description: 'The new object (may carry its sid).', schema: newObject },
        { name: 'sid', description: 'The sid to use instead of a minted one.', schema: ref('Sid') },
        expectedVersion,
        idempotencyKey,
        meta,
      ],
      result: { name: 'object', schema: object },
      errors: ['Conflict'],
    },
    get: {
      summary: 'Read an object, now or at a past position or time.',
      description: 'Returns the object (it always has sid) or, with with_meta, the record {object, version, position, created_at, updated_at} (it never has sid).',
      params: [
        sid,
        { name: 'at', description: 'A log position or an ISO 8601 time.', schema: ref('PointInTime') },
        { name: 'with_meta', description: 'Return {object, version, position, created_at, updated_at}.', schema: { title: 'WithMeta', type: 'boolean' } },
      ],
      result: { name: 'object', schema: (type) => ({ title: named('OrRecord')(type), oneOf: [object(type), record(type)] }) },
      errors: ['NotFound'],
    },
    set: {
      summary: 'Replace an existing object (it carries its sid).',
      params: [{ name: 'object', required: true, description: 'The whole new state, with sid.', schema: object }, expectedVersion, idempotencyKey, meta],
      result: { name: 'object', schema: object },
      errors: ['NotFound', 'Conflict'],
    },
    update: {
      summary: 'Apply a JSON merge patch (RFC 7396) to an object.',
      params: [sid, { name: 'patch', required: true, description: 'Fields to set; null removes a field.', schema: ref('MergePatch') }, expectedVersion, idempotencyKey, meta],
      result: { name: 'object', schema: object },
      errors: ['NotFound', 'Conflict'],
    },
    delete: {
      summary: 'Delete an object.',
      params: [sid, expectedVersion, idempotencyKey, meta],
      result: { name: 'nothing', schema: { title: 'Nothing', type: 'null' } },
      errors: ['NotFound', 'Conflict'],
    },
    exists: {
      summary: 'Whether the object exists now.',
      params: [sid],
      result: { name: 'exists', schema: { title: 'Existence', type: 'boolean' } },
      errors: [],
    },
    list: {
      summary: 'Sids in sid order, a page at a time.',
      params: [limit, cursor, at],
      result: { name: 'page', schema: page(ref('Sid'), () => 'SidPage') },
      errors: [],
    },
    list_full: {
      summary: 'Whole objects in sid order, a page at a time.',
      params: [limit, cursor, at],
      result: { name: 'page', schema: page(object, named('Page')) },
      errors: [],
    },
    find: {
      summary: 'Sids matching a filter and/or a full-text query (ranked when text is given).',
      params: [filter, text, limit, cursor, at],
      result: { name: 'page', schema: page(ref('Sid'), () => 'SidPage') },
      errors: [],
    },
    find_full: {
      summary: 'Whole objects matching a filter and/or a full-text query.',
      params: [filter, text, limit, cursor, at],
      result: { name: 'page', schema: page(object, named('Page')) },
      errors: [],
    },
    history: {
      summary: "The object's events, oldest first.",
      params: [sid],
      result: { name: 'events', schema: { title: 'Events', type: 'array', items: ref('Event') } },
      errors: ['NotFound'],
    },
    erase: {
      summary: 'Erase an object by crypto-shredding: its data key is destroyed, so its personal values are gone from the log, history and indexes.',
      description:
        'Only for types that declare personal fields (INVALID_INPUT otherwise). Afterwards TYPE_get is NOT_FOUND at every point in time, ' +
        'TYPE_history keeps every event without personal values, and unique values are free again. NOT_FOUND when the object ' +
        'never existed or is already erased; a deleted object can be erased.',
      params: [sid, { name: 'reason', description: "Why (kept in the erased event's meta).", schema: { title: 'Reason', type: 'string' } }, idempotencyKey, meta],
      result: { name: 'nothing', schema: { title: 'Nothing', type: 'null' } },
      errors: ['NotFound'],
    },
  };
  for (const spec of Object.values(specs)) spec.params.push(CONTEXT_PARAM);
  return specs;
}

/** The generic methods (`_new`, …): the per-type methods of any object, with the type as their first param. */
export function genericMethodSpecs(): Record<TypeOp, MethodSpec> {
  const specs = typeMethodSpecs(() => false);
  for (const spec of Object.values(specs)) spec.params = [TYPE_PARAM, ...spec.params];
  return specs;
}

/** `note_item` → `NoteItem`. */
export function pascal(name: string): string {
  return name.replace(/(^|_)([a-z0-9])/g, (_, __, c: string) => c.toUpperCase());
}

/** The store-level methods. */
export const STORE_METHOD_SPECS: Record<StoreMethod, MethodSpec> = {
  log_read: {
    summary: "Read the context's global log from a position.",
    params: [
      { name: 'from', description: 'First position to return (default 1).', schema: ref('Position') },
      { name: 'limit', description: 'Most events to return, 1 to 10000 (default 1000).', schema: ref('Limit') },
      { name: 'types', description: 'Only events of these types.', schema: { title: 'TypeNames', type: 'array', items: ref('TypeName') } },
      CONTEXT_PARAM,
    ],
    result: {
      name: 'page',
      schema: {
        title: 'LogPage',
        type: 'object',
        required: ['items'],
        properties: { items: { title: 'Events', type: 'array', items: ref('Event') }, next_from: ref('Position') },
        additionalProperties: false,
      },
    },
    errors: [],
  },
  stats: {
    summary: 'Counts per type, head position and projection checkpoints of the context.',
    params: [CONTEXT_PARAM],
    result: { name: 'stats', schema: ref('Stats') },
    errors: [],
  },
  context_create: {
    summary: 'Create a context (idempotent).',
    params: [{ name: 'name', required: true, description: 'The context name.', schema: ref('ContextName') }],
    result: {
      name: 'context',
      schema: {
        title: 'ContextCreated',
        type: 'object',
        required: ['name', 'created'],
        properties: { name: ref('ContextName'), created: { title: 'Created', type: 'boolean' } },
        additionalProperties: false,
      },
    },
    errors: [],
  },
  context_list: {
    summary: 'The names of every context, default first.',
    params: [],
    result: { name: 'names', schema: { title: 'ContextNames', type: 'array', items: ref('ContextName') } },
    errors: [],
  },
};
