import fc from 'fast-check';

/** The schema of the model tests: `n` indexed, `email` unique, `title` full text. */
export const MODEL_SCHEMA = { types: { item: { index: ['n'], unique: ['email'], text: ['title'] } } };

export const SIDS = ['a', 'b', 'c', 'd'];
export const WORDS = ['apple', 'berry', 'cherry', 'damson'];

/** An expected version as generated: a literal, or relative to the model's current version. */
export type GenVersion = undefined | 'any' | 'no_stream' | 'exists' | { relative: number };

export type Op =
  | { op: 'new'; sid: string; data: Record<string, unknown> }
  | { op: 'set'; sid: string; data: Record<string, unknown>; ev: GenVersion }
  | { op: 'update'; sid: string; patch: Record<string, unknown>; ev: GenVersion }
  | { op: 'delete'; sid: string; ev: GenVersion };

const title = fc.array(fc.constantFrom(...WORDS), { minLength: 0, maxLength: 3 }).map((w) => w.join(' '));
const fields = {
  n: fc.integer({ min: 0, max: 3 }),
  email: fc.constantFrom('x@e', 'y@e', 'z@e'),
  title,
  note: fc.oneof(fc.string({ maxLength: 8 }), fc.constant(null), fc.record({ deep: fc.integer() })),
};
const data = fc.record(fields, { requiredKeys: [] });
const patch = fc.record({ ...fields, email: fc.oneof(fields.email, fc.constant(null)), n: fc.oneof(fields.n, fc.constant(null)) }, { requiredKeys: [] });
const version: fc.Arbitrary<GenVersion> = fc.oneof(
  { weight: 4, arbitrary: fc.constant(undefined) },
  { weight: 1, arbitrary: fc.constantFrom<GenVersion>('any', 'no_stream', 'exists') },
  { weight: 3, arbitrary: fc.integer({ min: -1, max: 1 }).map((relative) => ({ relative })) },
);
const sid = fc.constantFrom(...SIDS);

export const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ op: fc.constant('new' as const), sid, data }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('set' as const), sid, data, ev: version }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('update' as const), sid, patch, ev: version }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('delete' as const), sid, ev: version }) },
);

interface ModelObject {
  version: number;
  exists: boolean;
  data: Record<string, unknown>;
}

/** What an operation must do: its result, or the error code it must fail with. */
export type Outcome = { ok: true; data?: Record<string, unknown> } | { ok: false; code: string };

/** The store as the contract describes it, in memory. */
export class Model {
  readonly objects = new Map<string, ModelObject>();

  state(sid: string): ModelObject {
    return this.objects.get(sid) ?? { version: 0, exists: false, data: {} };
  }

  /** The concrete expected version an op passes to the API. */
  resolve(ev: GenVersion, sid: string): unknown {
    if (ev === undefined || typeof ev === 'string') return ev;
    return this.state(sid).version + ev.relative;
  }

  /** Apply `op` with the resolved expected version; returns what the store must answer. */
  apply(op: Op, expected: unknown): Outcome {
    const s = this.state(op.sid);
    if (expected !== undefined && !(expected === 'any' || expected === 'no_stream' || expected === 'exists' || (typeof expected === 'number' && expected >= 1))) {
      return { ok: false, code: 'INVALID_INPUT' };
    }
    let next: Record<string, unknown> | null;
    let check: unknown;
    switch (op.op) {
      case 'new':
        if (s.exists) return { ok: false, code: 'VERSION_CONFLICT' };
        next = { sid: op.sid, ...op.data };
        break;
      case 'set':
        check = this.checkVersion(expected ?? 'exists', s);
        if (check) return check as Outcome;
        if (!s.exists) return { ok: false, code: 'NOT_FOUND' };
        next = { ...op.data, sid: op.sid };
        break;
      case 'update': {
        if (!s.exists) return { ok: false, code: 'NOT_FOUND' };
        check = this.checkVersion(expected ?? s.version, s);
        if (check) return check as Outcome;
        next = { ...s.data };
        for (const [k, v] of Object.entries(op.patch)) {
          if (v === null) delete next[k];
          else next[k] = v;
        }
        next.sid = op.sid;
        break;
      }
      case 'delete':
        check = this.checkVersion(expected ?? 'exists', s);
        if (check) return check as Outcome;
        if (!s.exists) return { ok: false, code: 'NOT_FOUND' };
        next = null;
        break;
    }
    if (next && next.email !== undefined) {
      for (const [other, o] of this.objects) if (other !== op.sid && o.exists && o.data.email === next.email) return { ok: false, code: 'UNIQUE_VIOLATION' };
    }
    this.objects.set(op.sid, { version: s.version + 1, exists: next !== null, data: next ?? {} });
    return next ? { ok: true, data: next } : { ok: true };
  }

  /** The contract's expected-version rule (see EventLog): undefined when it holds, else the failure. */
  private checkVersion(expected: unknown, s: ModelObject): Outcome | undefined {
    if (expected === 'any') return undefined;
    if (expected === 'no_stream' && !s.exists) return undefined;
    if (expected === 'exists' && s.exists) return undefined;
    if (typeof expected === 'number' && s.exists && s.version === expected) return undefined;
    if (expected === 'exists' || (typeof expected === 'number' && !s.exists)) return { ok: false, code: 'NOT_FOUND' };
    return { ok: false, code: 'VERSION_CONFLICT' };
  }

  live(): [string, Record<string, unknown>][] {
    return [...this.objects].filter(([, o]) => o.exists).map(([sid, o]) => [sid, o.data] as [string, Record<string, unknown>]).sort(([a], [b]) => (a < b ? -1 : 1));
  }
}
