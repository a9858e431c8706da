import { expect } from 'chai';
import type { BackendFixture } from './backends';
import { useStore } from './context';
import { expectCode } from '../helpers/expect-error';

function deep(depth: number): unknown {
  let value: unknown = 'leaf';
  for (let i = 0; i < depth; i++) value = { d: value };
  return value;
}

export function badInputCases(fixture: BackendFixture): void {
  describe('bad input is refused precisely and writes nothing', () => {
    // Registered before useStore's own hooks, so it runs before the store is closed.
    afterEach(async () => {
      expect(await ctx.store().log.head(), 'a refused input wrote to the log').to.equal(0);
      expect(({} as Record<string, unknown>).polluted, 'Object.prototype was polluted').to.equal(undefined);
    });
    const ctx = useStore(fixture);

    it('refuses invalid type names', async () => {
      for (const type of ['../etc', 'User', '', '1abc', 'a-b', 'a'.repeat(64), 'user\0x', '%2e%2e%2f', 'usér']) {
        expect(() => ctx.store().collection(type), type).to.throw(/invalid type name/).with.property('code', 'INVALID_INPUT');
      }
    });

    it('refuses invalid sids', async () => {
      const users = ctx.store().collection('user');
      for (const sid of ['../x', 'a/b', '', '.hidden', 'a\0b', 'x'.repeat(129), 'a b', '%2e%2e%2f', '/etc/passwd']) {
        await expectCode(users._new({ name: 'x' }, { sid }), 'INVALID_INPUT');
        await expectCode(users._get(sid), 'INVALID_INPUT');
      }
    });

    it('refuses objects that are not plain JSON objects or carry invalid field names', async () => {
      const users = ctx.store().collection('user');
      for (const object of [null, [], 'x', 5, { 'Bad-Field': 1 }, { '': 1 }, { a: NaN }, { a: Infinity }, { a: () => 1 }, { a: new Date() }, { a: undefined }]) {
        await expectCode(users._new(object as never), 'INVALID_INPUT');
      }
    });

    it('refuses __proto__, constructor and prototype keys at any depth without polluting', async () => {
      const users = ctx.store().collection('user');
      for (const json of ['{"__proto__":{"polluted":1}}', '{"a":{"__proto__":{"polluted":1}}}', '{"a":[{"constructor":{"prototype":{"polluted":1}}}]}']) {
        await expectCode(users._new(JSON.parse(json)), 'INVALID_INPUT');
      }
    });

    it('refuses objects nested too deep or larger than 1 MiB', async () => {
      const users = ctx.store().collection('user');
      await expectCode(users._new({ a: deep(100) } as never), 'INVALID_INPUT');
      await expectCode(users._new({ a: 'x'.repeat(1024 * 1024 + 1) }), 'INVALID_INPUT');
    });

    it('refuses a _set that does not carry a sid, and a patch that changes it', async () => {
      const users = ctx.store().collection('user');
      await expectCode(users._set({ name: 'x' }), 'INVALID_INPUT');
      await expectCode(users._update('u1', { sid: 'u2' }), 'INVALID_INPUT');
      await expectCode(users._update('u1', [] as never), 'INVALID_INPUT');
    });

    it('refuses bad limits, cursors, filters and options', async () => {
      const users = ctx.store().collection('user');
      for (const limit of [0, 10_001, 1.5, -1, '10']) await expectCode(users._list({ limit: limit as number }), 'INVALID_INPUT');
      for (const cursor of ['not a cursor', '!!!', Buffer.from('{"o":5}').toString('base64url')]) await expectCode(users._list({ cursor }), 'INVALID_INPUT');
      const filters = [
        { 'country; DROP TABLE objects': 'x' },
        { country: { like: '%' } },
        { country: { in: [] } },
        { country: { eq: { nested: 1 } } },
        { country: {} },
        { "a') OR 1=1 --": 1 },
        'country=be',
      ];
      for (const filter of filters) await expectCode(users._find({ filter: filter as never }), 'INVALID_INPUT');
      await expectCode(users._find({ sort: 'name' } as never), 'INVALID_INPUT');
      await expectCode(users._find({ text: 5 } as never), 'INVALID_INPUT');
    });

    it('refuses bad expected versions and idempotency keys', async () => {
      const users = ctx.store().collection('user');
      for (const expectedVersion of [0, -1, 1.5, 'latest', null]) {
        await expectCode(users._set({ sid: 'u1' }, { expectedVersion: expectedVersion as never }), 'INVALID_INPUT');
      }
      await expectCode(users._new({}, { idempotencyKey: '' }), 'INVALID_INPUT');
      await expectCode(users._new({}, { idempotencyKey: 'k'.repeat(201) }), 'INVALID_INPUT');
    });
  });
}
