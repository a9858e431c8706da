import type { StoreSchema } from '../../projections/config';
import { STORE_METHOD_SPECS, TYPE_OPS, typeMethodSpecs, typeSchemaName, type MethodSpec } from './catalog';
import type { SchemaFor } from './params';

const SID_PATTERN = '^[0-9A-Za-z][0-9A-Za-z_.-]{0,127}$';
const SCALAR = { type: ['string', 'number', 'boolean'] };

/** Schemas shared by every method. */
const COMMON_SCHEMAS: Record<string, Record<string, unknown>> = {
  Sid: { type: 'string', pattern: SID_PATTERN },
  ExpectedVersion: { oneOf: [{ type: 'integer', minimum: 1 }, { type: 'string', enum: ['any', 'no_stream', 'exists'] }] },
  PointInTime: { oneOf: [{ type: 'integer', minimum: 0 }, { type: 'string', format: 'date-time' }] },
  Limit: { type: 'integer', minimum: 1, maximum: 10000 },
  AnyObject: {
    type: 'object',
    description: 'A flat JSON object of an undeclared (schemaless) type; results always carry sid.',
    properties: { sid: { $ref: '#/components/schemas/Sid' } },
    additionalProperties: true,
  },
  Filter: {
    type: 'object',
    additionalProperties: {
      oneOf: [
        SCALAR,
        {
          type: 'object',
          minProperties: 1,
          properties: { eq: SCALAR, ne: SCALAR, gt: SCALAR, gte: SCALAR, lt: SCALAR, lte: SCALAR, in: { type: 'array', items: SCALAR, minItems: 1, maxItems: 1000 } },
          additionalProperties: false,
        },
      ],
    },
  },
  ObjectRecord: {
    type: 'object',
    required: ['object', 'version', 'position', 'created_at', 'updated_at'],
    properties: {
      object: { type: 'object' },
      version: { type: 'integer', minimum: 1 },
      position: { type: 'integer', minimum: 1 },
      created_at: { type: 'string', format: 'date-time' },
      updated_at: { type: 'string', format: 'date-time' },
    },
  },
  Event: {
    type: 'object',
    required: ['position', 'id', 'type', 'sid', 'kind', 'version', 'ts', 'data'],
    properties: {
      position: { type: 'integer', minimum: 1 },
      id: { type: 'string' },
      type: { type: 'string' },
      sid: { $ref: '#/components/schemas/Sid' },
      kind: { type: 'string', enum: ['created', 'updated', 'deleted'] },
      version: { type: 'integer', minimum: 1 },
      ts: { type: 'string', format: 'date-time' },
      data: { type: 'object' },
      meta: { type: 'object' },
    },
  },
  Stats: {
    type: 'object',
    required: ['context', 'backend', 'head', 'objects', 'checkpoints'],
    properties: {
      context: { type: 'string' },
      backend: { type: 'string' },
      head: { type: 'integer', minimum: 0 },
      objects: { type: 'object', additionalProperties: { type: 'integer' } },
      checkpoints: { type: 'object', additionalProperties: { type: 'integer' } },
    },
  },
};

const ERRORS = {
  NotFound: { code: -32001, message: 'not found', data: { code: 'NOT_FOUND' } },
  Conflict: { code: -32002, message: 'version, unique-key or idempotency-key conflict', data: { code: 'VERSION_CONFLICT | UNIQUE_VIOLATION | IDEMPOTENCY_CONFLICT' } },
  Unauthorized: { code: -32003, message: 'unauthorized', data: { code: 'UNAUTHORIZED' } },
  TooLarge: { code: -32004, message: 'too large: a bound of the request (data.limit, data.max)', data: { code: 'TOO_LARGE' } },
  NoSpace: { code: -32005, message: 'the disk is full', data: { code: 'NO_SPACE' } },
  InvalidParams: { code: -32602, message: 'invalid params (details in data)', data: { code: 'INVALID_INPUT' } },
};

/** The object schema of a declared type: sid plus its declared fields, described by their role. */
function declaredTypeSchema(type: string, schema: StoreSchema): Record<string, unknown> {
  const config = schema.types[type];
  const roles = new Map<string, string[]>();
  const add = (field: string, role: string) => roles.set(field, [...(roles.get(field) ?? []), role]);
  for (const field of config.index) add(field, 'indexed');
  for (const field of config.unique) add(field, 'unique');
  for (const field of config.text ?? []) add(field, 'full-text');
  const properties: Record<string, unknown> = { sid: { $ref: '#/components/schemas/Sid' } };
  for (const [field, list] of roles) {
    if (field === 'sid') continue;
    properties[field] = list.includes('full-text') && list.length === 1 ? { type: 'string', description: 'full-text' } : { description: list.join(', ') };
  }
  return { title: type, type: 'object', properties, additionalProperties: true };
}

function method(name: string, spec: MethodSpec, type: string): Record<string, unknown> {
  const resolve = (schema: SchemaFor) => (typeof schema === 'function' ? schema(type) : schema);
  return {
    name,
    summary: spec.summary,
    paramStructure: 'by-name',
    params: spec.params.map((p) => ({ name: p.name, description: p.description, required: p.required === true, schema: resolve(p.schema) })),
    result: { name: spec.result.name, schema: resolve(spec.result.schema) },
    errors: [...spec.errors, 'InvalidParams', 'Unauthorized', 'TooLarge', 'NoSpace'].map((e) => ({ $ref: `#/components/errors/${e}` })),
  };
}

/**
 * The OpenRPC 1.3 document of the service: every declared type gets its eleven methods with its declared
 * fields in the object schemas; undeclared types take the same methods with any object.
 */
export function openRpcDocument(schema: StoreSchema, version: string, rpcUrl?: string): Record<string, unknown> {
  const declared = Object.keys(schema.types).sort();
  const specs = typeMethodSpecs((type) => type in schema.types);
  const methods: Record<string, unknown>[] = [];
  for (const type of declared) for (const op of TYPE_OPS) methods.push(method(`${type}_${op}`, specs[op], type));
  for (const [name, spec] of Object.entries(STORE_METHOD_SPECS)) methods.push(method(name, spec, ''));
  const schemas: Record<string, unknown> = { ...COMMON_SCHEMAS };
  for (const type of declared) schemas[typeSchemaName(type)] = declaredTypeSchema(type, schema);
  return {
    openrpc: '1.3.2',
    info: {
      title: 'osis-store',
      version,
      description:
        'OSIS object store over JSON-RPC 2.0. Every type name matching ^[a-z][a-z0-9_]{0,62}$ has the methods ' +
        'TYPE_new, _get, _set, _update, _delete, _exists, _list, _list_full, _find, _find_full and _history; ' +
        'declared types are listed here with their fields. The X-Hero-Context header picks the context (default "default").',
    },
    ...(rpcUrl ? { servers: [{ name: 'osis', url: rpcUrl }] } : {}),
    methods,
    components: { schemas, errors: ERRORS },
  };
}
