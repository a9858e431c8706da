import { expect } from 'chai';
import { parseOpenRPCDocument, validateOpenRPCDocument } from '@open-rpc/schema-utils-js';
import { openRpcDocument } from '../../src/api/service/openrpc';
import { TYPE_OPS } from '../../src/api/service/catalog';
import { resultOf, startTestServer, type TestServer } from './helpers';

describe('service: OpenRPC document', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({
      schema: { types: { user: { index: ['country'], unique: ['email'], text: ['name'] }, invoice: { index: ['total'], unique: [] } } },
    });
  });
  after(async () => {
    await t.close();
  });

  it('serves the same document at GET /openrpc.json and through rpc.discover', async () => {
    const response = await fetch(`${t.url}/openrpc.json`);
    expect(response.status).to.equal(200);
    expect(response.headers.get('content-type')).to.match(/^application\/json/);
    const doc = (await response.json()) as any;
    expect(resultOf(await t.call('rpc.discover'))).to.deep.equal(doc);
  });

  it('validates against the OpenRPC meta-schema and dereferences cleanly', async () => {
    const doc = (await (await fetch(`${t.url}/openrpc.json`)).json()) as any;
    const valid = validateOpenRPCDocument(doc);
    expect(valid === true ? true : valid.message).to.equal(true);
    const parsed = await parseOpenRPCDocument(JSON.stringify(doc));
    expect(parsed.methods.length).to.equal(doc.methods.length);
  });

  it('lists the twelve methods of every declared type with its declared fields, plus the store methods', async () => {
    const doc = (await (await fetch(`${t.url}/openrpc.json`)).json()) as any;
    const names: string[] = doc.methods.map((m: { name: string }) => m.name);
    for (const type of ['user', 'invoice']) for (const op of TYPE_OPS) expect(names).to.include(`${type}_${op}`);
    expect(names).to.include.members(['log_read', 'stats', 'context_create', 'context_list']);
    expect(new Set(names).size).to.equal(names.length);
    const user = doc.components.schemas['type.user'];
    expect(Object.keys(user.properties)).to.have.members(['sid', 'country', 'email', 'name']);
    expect(user.properties.email.description).to.include('unique');
    const userNew = doc.methods.find((m: { name: string }) => m.name === 'user_new');
    expect(userNew.paramStructure).to.equal('by-position');
    expect(userNew.params[0]).to.deep.include({ name: 'object', required: true, schema: { $ref: '#/components/schemas/type.user.new' } });
  });

  it('validates for a schemaless store and for awkward type names too', () => {
    for (const types of [{}, { a: { index: [], unique: [] }, a_list: { index: ['x_full'], unique: ['x_full'], text: ['x_full'] } }]) {
      const valid = validateOpenRPCDocument(openRpcDocument({ types: types as Record<string, { index: string[]; unique: string[] }> }, '0.0.0') as never);
      expect(valid === true ? true : valid.message).to.equal(true);
    }
  });

  it('without a schema still lists every operation, as generic methods that take the type (_new, _get, …)', () => {
    const doc = openRpcDocument({ types: {} }, '0.0.0') as any;
    const names: string[] = doc.methods.map((m: { name: string }) => m.name);
    expect(names).to.deep.equal([...TYPE_OPS.map((op) => `_${op}`), 'log_read', 'stats', 'context_create', 'context_list']);
    const generic = doc.methods.find((m: { name: string }) => m.name === '_new');
    expect(generic.params.map((p: { name: string }) => p.name)).to.deep.equal(['type', 'object', 'sid', 'expected_version', 'idempotency_key', 'meta', 'context']);
  });

  it('gives every schema a title and never a list of types, so generated types have names', () => {
    const doc = openRpcDocument({ types: { user: { index: ['country'], unique: [] } } }, '0.0.0') as any;
    const untitled: string[] = [];
    /** Every component, param and result schema has a title, and so has every nested object, array or union. */
    const walk = (schema: any, where: string, top: boolean) => {
      if (schema === null || typeof schema !== 'object' || schema.$ref) return;
      expect(Array.isArray(schema.type), `${where}: type list`).to.equal(false);
      if (!schema.title && (top || schema.type === 'object' || schema.type === 'array' || schema.oneOf)) untitled.push(where);
      (schema.oneOf ?? []).forEach((s: unknown, i: number) => walk(s, `${where}/oneOf/${i}`, false));
      for (const [k, v] of Object.entries(schema.properties ?? {})) walk(v, `${where}/properties/${k}`, false);
      walk(schema.items, `${where}/items`, false);
      walk(schema.additionalProperties, `${where}/additionalProperties`, false);
    };
    for (const [name, schema] of Object.entries(doc.components.schemas)) walk(schema, name, true);
    for (const m of doc.methods) {
      for (const p of m.params) walk(p.schema, `${m.name}(${p.name})`, true);
      walk(m.result.schema, `${m.name} result`, true);
    }
    expect(untitled).to.deep.equal([]);
  });
});
