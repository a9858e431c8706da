import type { StoreSchema } from '../library/schema';
import { STORE_METHOD_SPECS, TYPE_OPS, genericMethodSpecs, pascal, typeMethodSpecs, typeSchemaName, type MethodSpec } from './catalog';
import type { SchemaFor } from './params';

const SID_PATTERN = '^[0-9A-Za-z][0-9A-Za-z_.-]{0,127}$';
const NAME_PATTERN = '^[a-z][a-z0-9_]{0,62}$';
const SCALAR = { title: 'Scalar', oneOf: [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }] };
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

/**
 * Schemas shared by every method. Each has a title, so generated clients get readable type names. An
 * object always has `sid` and a record never does (`additionalProperties: false`), so `TYPE_get`'s
 * result matches exactly one branch of its `oneOf`.
 */
const COMMON_SCHEMAS: Record<string, Record<string, unknown>> = {
  Sid: { title: 'Sid', type: 'string', pattern: SID_PATTERN },
  TypeName: { title: 'TypeName', type: 'string', pattern: NAME_PATTERN },
  ContextName: { title: 'ContextName', type: 'string', pattern: NAME_PATTERN },
  Position: { title: 'Position', type: 'integer', minimum: 1 },
  ExpectedVersion: {
    title: 'ExpectedVersion',
    oneOf: [{ type: 'integer', minimum: 1 }, { type: 'string', enum: ['any', 'no_stream', 'exists'] }],
  },
  PointInTime: { title: 'PointInTime', oneOf: [{ type: 'integer', minimum: 0 }, { type: 'string', format: 'date-time' }] },
  Limit: { title: 'Limit', type: 'integer', minimum: 1, maximum: 10000 },
  Scalar: SCALAR,
  AnyObject: {
    title: 'AnyObject',
    type: 'object',
    description: 'A stored object of any type: a flat JSON object that always carries its sid.',
    required: ['sid'],
    properties: { sid: ref('Sid') },
    additionalProperties: true,
  },
  NewObject: {
    title: 'NewObject',
    type: 'object',
    description: 'A new object of any type; without sid, one is minted.',
    properties: { sid: ref('Sid') },
    additionalProperties: true,
  },
  EventData: { title: 'EventData', type: 'object', description: 'The whole object after the change.', additionalProperties: true },
  MergePatch: { title: 'MergePatch', type: 'object', description: 'RFC 7396: fields to set; null removes a field.', additionalProperties: true },
  EventMeta: { title: 'EventMeta', type: 'object', description: 'actor, correlationId, causationId, … kept with the event.', additionalProperties: true },
  Condition: {
    title: 'Condition',
    type: 'object',
    minProperties: 1,
    properties: { eq: ref('Scalar'), ne: ref('Scalar'), gt: ref('Scalar'), gte: ref('Scalar'), lt: ref('Scalar'), lte: ref('Scalar'), in: { title: 'Scalars', type: 'array', items: ref('Scalar'), minItems: 1, maxItems: 1000 } },
    additionalProperties: false,
  },
  FilterValue: { title: 'FilterValue', oneOf: [ref('Scalar'), ref('Condition')] },
  Filter: { title: 'Filter', type: 'object', additionalProperties: ref('FilterValue') },
  ObjectRecord: record('AnyRecord', ref('AnyObject')),
  Event: {
    title: 'Event',
    type: 'object',
    required: ['position', 'id', 'type', 'sid', 'kind', 'version', 'ts', 'data'],
    properties: {
      position: ref('Position'),
      id: { title: 'EventId', type: 'string' },
      type: ref('TypeName'),
      sid: ref('Sid'),
      kind: { title: 'EventKind', type: 'string', enum: ['created', 'updated', 'deleted', 'erased'] },
      version: { title: 'Version', type: 'integer', minimum: 1 },
      ts: { title: 'Timestamp', type: 'string', format: 'date-time' },
      data: ref('EventData'),
      meta: ref('EventMeta'),
      shredded: { title: 'Shredded', type: 'boolean', enum: [true], description: 'The object was erased later: this event is shown without its personal values.' },
    },
    additionalProperties: false,
  },
  Stats: {
    title: 'StoreStats',
    type: 'object',
    required: ['context', 'backend', 'head', 'objects', 'checkpoints'],
    properties: {
      context: ref('ContextName'),
      backend: { title: 'Backend', type: 'string' },
      head: { title: 'Head', type: 'integer', minimum: 0 },
      objects: { title: 'ObjectCounts', type: 'object', additionalProperties: { type: 'integer' } },
      checkpoints: { title: 'Checkpoints', type: 'object', additionalProperties: { type: 'integer' } },
    },
    additionalProperties: true,
  },
};

/** `{object, version, position, created_at, updated_at}` around an object schema; never has `sid`. */
function record(title: string, object: Record<string, unknown>): Record<string, unknown> {
  return {
    title,
    type: 'object',
    required: ['object', 'version', 'position', 'created_at', 'updated_at'],
    properties: {
      object,
      version: { title: 'Version', type: 'integer', minimum: 1 },
      position: ref('Position'),
      created_at: { title: 'Timestamp', type: 'string', format: 'date-time' },
      updated_at: { title: 'Timestamp', type: 'string', format: 'date-time' },
    },
    additionalProperties: false,
  };
}

const ERRORS = {
  NotFound: { code: -32001, message: 'not found', data: { code: 'NOT_FOUND' } },
  Conflict: { code: -32002, message: 'version, unique-key or idempotency-key conflict', data: { code: 'VERSION_CONFLICT | UNIQUE_VIOLATION | IDEMPOTENCY_CONFLICT' } },
  Unauthorized: { code: -32003, message: 'unauthorized', data: { code: 'UNAUTHORIZED' } },
  TooLarge: { code: -32004, message: 'too large: a bound of the request (data.limit, data.max)', data: { code: 'TOO_LARGE' } },
  NoSpace: { code: -32005, message: 'the disk is full', data: { code: 'NO_SPACE' } },
  InvalidParams: { code: -32602, message: 'invalid params (details in data)', data: { code: 'INVALID_INPUT' } },
};

/** The object schema of a declared type: sid (always present) plus its declared fields, described by their role. */
function declaredTypeSchema(type: string, schema: StoreSchema): Record<string, unknown> {
  const config = schema.types[type];
  const roles = new Map<string, string[]>();
  const add = (field: string, role: string) => roles.set(field, [...(roles.get(field) ?? []), role]);
  for (const field of config.index) add(field, 'indexed');
  for (const field of config.unique) add(field, 'unique');
  for (const field of config.text ?? []) add(field, 'full-text');
  for (const field of config.personal ?? []) add(field, 'personal (encrypted per object; erased by TYPE_erase)');
  const properties: Record<string, unknown> = { sid: ref('Sid') };
  for (const [field, list] of roles) {
    if (field === 'sid') continue;
    properties[field] = list.includes('full-text') && list.length === 1 ? { type: 'string', description: 'full-text' } : { description: list.join(', ') };
  }
  return { title: pascal(type), type: 'object', required: ['sid'], properties, additionalProperties: true };
}

/** The same without a required sid: the object given to `TYPE_new`. */
function newTypeSchema(type: string, stored: Record<string, unknown>): Record<string, unknown> {
  const { required: _, ...rest } = stored;
  return { ...rest, title: `New${pascal(type)}`, description: `A new ${type}; without sid, one is minted.` };
}

function method(name: string, spec: MethodSpec, type: string): Record<string, unknown> {
  const resolve = (schema: SchemaFor) => (typeof schema === 'function' ? schema(type) : schema);
  return {
    name,
    summary: spec.summary,
    ...(spec.description ? { description: spec.description } : {}),
    // The server takes params by name too (see info.description). Generated clients send them by position;
    // with 'either', @open-rpc/schema-utils-js validates an absent optional `at` or `filter` param as
    // Array.prototype.at / .filter and refuses the call.
    paramStructure: 'by-position',
    params: spec.params.map((p) => ({ name: p.name, description: p.description, required: p.required === true, schema: resolve(p.schema) })),
    result: { name: spec.result.name, schema: resolve(spec.result.schema) },
    errors: [...spec.errors, 'InvalidParams', 'Unauthorized', 'TooLarge', 'NoSpace'].map((e) => ({ $ref: `#/components/errors/${e}` })),
  };
}

/**
 * The OpenRPC 1.3 document of the service: every declared type gets its methods with its declared fields
 * in the object schemas, and the generic methods (`_new`, `_get`, …, with a `type` param) reach every
 * type, declared or not, so a client generated from a server without a schema still has them all.
 */
export function openRpcDocument(schema: StoreSchema, version: string, rpcUrl?: string): Record<string, unknown> {
  const declared = Object.keys(schema.types).sort();
  const specs = typeMethodSpecs((type) => type in schema.types);
  const generic = genericMethodSpecs();
  const methods: Record<string, unknown>[] = [];
  for (const type of declared) for (const op of TYPE_OPS) methods.push(method(`${type}_${op}`, specs[op], type));
  for (const op of TYPE_OPS) methods.push(method(`_${op}`, generic[op], ''));
  for (const [name, spec] of Object.entries(STORE_METHOD_SPECS)) methods.push(method(name, spec, ''));
  const schemas: Record<string, unknown> = { ...COMMON_SCHEMAS };
  for (const type of declared) {
    schemas[typeSchemaName(type)] = declaredTypeSchema(type, schema);
    schemas[`${typeSchemaName(type)}.new`] = newTypeSchema(type, schemas[typeSchemaName(type)] as Record<string, unknown>);
    schemas[`${typeSchemaName(type)}.record`] = record(`${pascal(type)}Record`, ref(typeSchemaName(type)));
  }
  return {
    openrpc: '1.3.2',
    info: {
      title: 'osis-store',
      version,
      description:
        'OSIS object store over JSON-RPC 2.0. Every type name matching ^[a-z][a-z0-9_]{0,62}$ has the methods ' +
        'TYPE_new, _get, _set, _update, _delete, _exists, _list, _list_full, _find, _find_full, _history and _erase; ' +
        'declared types are listed here with their fields, and the generic methods _new, _get, … take the type ' +
        'as their first param for every type. Params go by position (in the order listed; null stands for an ' +
        'absent optional param) or by name, as a JSON object: the server takes either. The X-Hero-Context header or the context param picks the context ' +
        '(default "default").',
    },
    ...(rpcUrl ? { servers: [{ name: 'osis', url: rpcUrl }] } : {}),
    methods,
    components: { schemas, errors: ERRORS },
  };
}
