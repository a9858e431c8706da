import { expect } from 'chai';
import generate from '@open-rpc/generator';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tempDir } from '../helpers/temp';
import { SCHEMA, startTestServer, type TestServer } from './helpers';

/**
 * A user generates a TypeScript client from the served OpenRPC document with @open-rpc/generator,
 * compiles it with `tsc --strict`, and calls every method through it; every result validates against the
 * document's own schemas with ajv in strict mode.
 */
const REPO = path.resolve(__dirname, '..', '..');

interface RpcMethod {
  name: string;
  result: { schema: unknown };
}

type Client = Record<string, (...params: unknown[]) => Promise<any>>;

async function generateClient(doc: unknown): Promise<string> {
  const out = tempDir('osis-client-');
  await generate({ outDir: out, openrpcDocument: JSON.parse(JSON.stringify(doc)), components: [{ type: 'client', name: 'osis-client', language: 'typescript' }] });
  const dir = path.join(out, 'client', 'typescript');
  fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(dir, 'node_modules'));
  return dir;
}

function compileStrict(dir: string): { code: number | null; output: string } {
  const tsc = spawnSync(process.execPath, [path.join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir, '--strict', '--skipLibCheck'], { encoding: 'utf8' });
  return { code: tsc.status, output: `${tsc.stdout}${tsc.stderr}` };
}

/** ajv (strict) checking a method's result against the document's schemas. */
function resultValidator(doc: { methods: RpcMethod[]; components: { schemas: Record<string, unknown> } }) {
  const ajv = new Ajv({ strict: true, allErrors: true });
  addFormats(ajv);
  const rewrite = (schema: unknown) => JSON.parse(JSON.stringify(schema).replaceAll('"#/components/schemas/', '"osis#/$defs/'));
  ajv.addSchema({ $id: 'osis', $defs: rewrite(doc.components.schemas) });
  const byMethod = new Map(doc.methods.map((m) => [m.name, ajv.compile(rewrite(m.result.schema))]));
  return (method: string, result: unknown) => {
    const validate = byMethod.get(method);
    if (!validate) throw new Error(`no method ${method} in the document`);
    expect(validate(result), `${method} result ${JSON.stringify(result)}: ${ajv.errorsText(validate.errors)}`).to.equal(true);
  };
}

describe('service: a client generated with @open-rpc/generator', function () {
  this.timeout(120_000);
  let t: TestServer;
  let doc: { methods: RpcMethod[]; components: { schemas: Record<string, unknown> } };
  let client: Client;
  let check: (method: string, result: unknown) => void;
  const called = new Set<string>();

  before(async () => {
    // `user` with personal fields too, so that user_erase and _erase can be called
    t = await startTestServer({ schema: { types: { user: { ...SCHEMA.types.user, personal: ['name', 'email'] } } } });
    doc = (await (await fetch(`${t.url}/openrpc.json`)).json()) as typeof doc;
    const dir = await generateClient(doc);
    const compiled = compileStrict(dir);
    expect(compiled.output, 'tsc --strict output').to.equal('');
    expect(compiled.code).to.equal(0);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { OsisStore: OsisClient } = require(path.join(dir, 'build', 'index.js'));
    const port = Number(new URL(t.url).port);
    client = new OsisClient({ transport: { type: 'http', host: '127.0.0.1', port, path: '/rpc' } });
    check = resultValidator(doc);
  });
  after(async () => t.close());

  /** Call `method` through the generated client and check its result against the document. */
  async function call(method: string, ...params: unknown[]): Promise<any> {
    let result: unknown;
    try {
      result = await client[method](...params);
    } catch (error) {
      // The generated client rejects with an array of parameter validation errors.
      if (!Array.isArray(error)) throw error;
      throw new Error(`${method}: ${error.map((e: { message: string; validationErrors?: unknown }) => `${e.message.split('\n')[0]} ${e.message.slice(e.message.indexOf('The function'))}`).join('; ')}`);
    }
    check(method, result);
    called.add(method);
    return result;
  }

  it('compiles with tsc --strict and its types have the schema titles, not hash names', () => {
    const source = fs.readFileSync(path.join(Object.keys(require.cache).find((f) => f.endsWith(path.join('client', 'typescript', 'build', 'index.js')))!, '..', '..', 'src', 'index.ts'), 'utf8');
    for (const name of ['Filter', 'Condition', 'Sid', 'User', 'UserRecord', 'UserOrRecord', 'AnyObject', 'AnyRecord', 'Event', 'StoreStats']) {
      expect(source, name).to.match(new RegExp(`export (type|interface) ${name}\\b`));
    }
    expect(source).to.not.match(/ObjectOf[A-Za-z]*[A-Z][a-z0-9]{2}[A-Z][a-zA-Z0-9]{4}/);
  });

  it('calls every method of a declared type by position, and each result validates', async () => {
    const ann = await call('user_new', { name: 'Ann Lee', email: 'ann@example.org', country: 'be' }, 'u1');
    expect(ann).to.deep.equal({ sid: 'u1', name: 'Ann Lee', email: 'ann@example.org', country: 'be' });
    expect(await call('user_get', 'u1')).to.deep.equal(ann);
    const record = await call('user_get', 'u1', undefined, true);
    expect(record).to.include({ version: 1, position: 1 });
    expect(record.object).to.deep.equal(ann);
    expect(await call('user_update', 'u1', { country: 'nl' }, 1)).to.include({ country: 'nl' });
    expect(await call('user_set', { ...ann, name: 'Ann L.', country: 'nl' }, 2)).to.include({ name: 'Ann L.' });
    expect(await call('user_get', 'u1', 1)).to.deep.equal(ann);
    expect(await call('user_exists', 'u1')).to.equal(true);
    await call('user_new', { name: 'Bob', email: 'bob@example.org', country: 'be' }, 'u2');
    expect(await call('user_list', 10)).to.deep.equal({ items: ['u1', 'u2'] });
    expect(await call('user_list', 10, undefined, 1)).to.deep.equal({ items: ['u1'] });
    expect((await call('user_list_full', 1)).next_cursor).to.be.a('string');
    expect(await call('user_find', { country: 'be' })).to.deep.equal({ items: ['u2'] });
    expect(await call('user_find', { country: { in: ['be', 'nl'] } }, 'ann')).to.deep.equal({ items: ['u1'] });
    expect(await call('user_find', { country: 'be' }, undefined, undefined, undefined, 1)).to.deep.equal({ items: ['u1'] });
    expect((await call('user_find_full', undefined, 'bob')).items[0]).to.include({ sid: 'u2' });
    expect((await call('user_history', 'u1')).map((e: { kind: string }) => e.kind)).to.deep.equal(['created', 'updated', 'updated']);
    expect(await call('user_delete', 'u2')).to.equal(null);
    expect(await call('user_exists', 'u2')).to.equal(false);
  });

  it('reaches undeclared types through the generic methods (_new, _get, …) with the type first', async () => {
    const note = await call('_new', 'note', { title: 'first' }, 'n1');
    expect(note).to.deep.equal({ sid: 'n1', title: 'first' });
    expect(await call('_get', 'note', 'n1')).to.deep.equal(note);
    expect((await call('_get', 'note', 'n1', undefined, true)).object).to.deep.equal(note);
    expect(await call('_update', 'note', 'n1', { body: 'text' })).to.include({ body: 'text' });
    expect(await call('_set', 'note', { sid: 'n1', title: 'again' })).to.deep.equal({ sid: 'n1', title: 'again' });
    expect(await call('_exists', 'note', 'n1')).to.equal(true);
    expect(await call('_list', 'note')).to.deep.equal({ items: ['n1'] });
    expect((await call('_list_full', 'note')).items).to.deep.equal([{ sid: 'n1', title: 'again' }]);
    expect(await call('_find', 'note', undefined, 'again')).to.deep.equal({ items: ['n1'] });
    expect((await call('_find_full', 'note', { title: 'again' })).items).to.have.length(1);
    expect(await call('_history', 'note', 'n1')).to.have.length(3);
    expect(await call('_delete', 'note', 'n1')).to.equal(null);
  });

  it('erases through user_erase and _erase: history keeps the events without personal values', async () => {
    await call('user_new', { name: 'Erin Shredded', email: 'erin@example.org', country: 'be' }, 'e1');
    await call('user_new', { name: 'Emil Shredded', email: 'emil@example.org', country: 'be' }, 'e2');
    expect(await call('user_erase', 'e1', 'asked by Erin')).to.equal(null);
    expect(await call('_erase', 'user', 'e2')).to.equal(null);
    const history = await call('user_history', 'e1');
    expect(history.map((e: { kind: string }) => e.kind)).to.deep.equal(['created', 'erased']);
    expect(history[0]).to.include({ shredded: true });
    expect(history[0].data).to.deep.equal({ sid: 'e1', country: 'be' });
    expect(history[1].meta).to.deep.equal({ reason: 'asked by Erin' });
    expect(await call('user_exists', 'e2')).to.equal(false);
    const again = await t.call('user_erase', { sid: 'e1' });
    expect(again.error.code).to.equal(-32001);
    expect(again.error.data.code).to.equal('NOT_FOUND');
    const plain = await t.call('_erase', { type: 'note', sid: 'n1' });
    expect(plain.error.code).to.equal(-32602);
  });

  it('calls the store methods, and picks a context with the context param', async () => {
    expect(await call('context_create', 'acme')).to.deep.equal({ name: 'acme', created: true });
    expect(await call('context_list')).to.deep.equal(['default', 'acme']);
    await call('_new', 'note', { title: 'in acme' }, 'a1', undefined, undefined, undefined, 'acme');
    expect(await call('_list', 'note', undefined, undefined, undefined, 'acme')).to.deep.equal({ items: ['a1'] });
    expect(await call('_list', 'note')).to.deep.equal({ items: [] });
    expect((await call('stats', 'acme')).head).to.equal(1);
    expect((await call('stats')).context).to.equal('default');
    expect((await call('log_read', 1, 2)).items).to.have.length(2);
    expect((await call('log_read', undefined, undefined, ['note'], 'acme')).items.map((e: { sid: string }) => e.sid)).to.deep.equal(['a1']);
  });

  it('has called every method in the document', () => {
    expect(doc.methods.map((m) => m.name).filter((name) => !called.has(name))).to.deep.equal([]);
  });

  it('refuses by-position params beyond the declared ones, and a context param that contradicts the header', async () => {
    const tooMany = await t.call('user_get', ['u1', null, null, null, 'extra']);
    expect(tooMany.error.code).to.equal(-32602);
    expect(tooMany.error.message).to.match(/takes at most 4 params by position, got 5/);
    await t.call('context_create', { name: 'other' });
    const clash = await t.call('stats', { context: 'acme' }, { 'X-Hero-Context': 'other' });
    expect(clash.error.code).to.equal(-32602);
    expect(clash.error.message).to.match(/contradicts the X-Hero-Context header "other"/);
  });
});
