import { expect } from 'chai';
import fc from 'fast-check';
import type { StoredEvent } from '../../src';
import { decodeDataTable, decodeFrameEncoded } from '../../src/log/otoml-encoded';
import { decodeFrame, encodeFrame, readFrame } from '../../src/log/otoml-record';
import { sortedCopy } from '../../src/log/otoml-value';
import { parseToml } from '../../src/log/toml-codec';
import { RELIABILITY, figure } from './helpers/config';

/** Keys that need quoting in TOML, look like markers, or attack prototypes (data may hold any key below the top level). */
const key = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.string({ maxLength: 8, unit: 'grapheme' }),
  fc.constantFrom('', 'a b', 'quote"d', "apos'", 'dot.ted', 'équipe', '日本', '$null', '$$x', '#hash', '=eq', '[x]', 'tab\there', 'new\nline', '__proto__x', 'constructor'),
);
const text = fc.oneof(
  fc.constantFrom('', ' ', '"', "'''", '"""', '\\', '\n', '\r\n', '\t', '#@ pos=1 part=1/1 len=0 crc=00000000\n', '[data]\n', '\u0000', '\u2028', '😀', 'e\u0301'),
  fc.string({ maxLength: 20, unit: 'grapheme' }),
  fc.string({ maxLength: 20, unit: 'binary' }).map((s) => s.replace(/[\ud800-\udfff]/g, '?')),
);
const number = fc.oneof(
  fc.integer(),
  fc.constantFrom(0, -0.5, 1e21, 2 ** 53 - 1, -(2 ** 53) + 1, 2 ** 60, 1.7976931348623157e308, 5e-324, 0.1 + 0.2),
  fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Object.is(d, -0)),
);
const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  v: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    number,
    text,
    fc.array(tie('v'), { maxLength: 4 }),
    fc.dictionary(key, tie('v'), { maxKeys: 4 }),
  ),
})).v;
const field = fc.stringMatching(/^[a-z][a-z0-9_]{0,10}$/);
const eventArb: fc.Arbitrary<StoredEvent> = fc
  .record({
    position: fc.integer({ min: 1, max: 2 ** 40 }),
    sid: fc.stringMatching(/^[0-9A-Za-z][0-9A-Za-z_.-]{0,20}$/),
    type: field,
    kind: fc.constantFrom('created' as const, 'updated' as const, 'deleted' as const),
    version: fc.integer({ min: 1, max: 2 ** 31 }),
    ms: fc.integer({ min: 0, max: 4102444800000 }),
    data: fc.dictionary(field, value, { maxKeys: 6 }),
    meta: fc.option(fc.record({ actor: text, correlationId: text }, { requiredKeys: [] }), { nil: undefined }),
  })
  .map((r) => ({
    position: r.position,
    id: '01ARZ3NDEKTSV4RRFFQ69G5FAV',
    type: r.type,
    sid: r.sid,
    kind: r.kind,
    version: r.version,
    ts: new Date(r.ms).toISOString(),
    data: { sid: r.sid, ...r.data },
    ...(r.meta ? { meta: r.meta } : {}),
  }));

describe('property: OTOML frames round-trip any event (unicode, big and odd numbers, nested tables, empty strings, keys that need quoting)', () => {
  const runs = RELIABILITY.runs * 5;

  it('encodeFrame → readFrame → decodeFrame gives back the event (keys sorted), and the payload is TOML a general parser reads alike', () => {
    let count = 0;
    fc.assert(
      fc.property(eventArb, fc.option(text, { nil: undefined }), (event, idempotencyKey) => {
        count++;
        const { bytes } = encodeFrame(event, { part: 1, parts: 1, ...(idempotencyKey !== undefined ? { idempotencyKey } : {}) });
        const read = readFrame(bytes, 0);
        expect(read.ok, JSON.stringify(read)).to.equal(true);
        if (!read.ok) return;
        expect(read.frame.end).to.equal(bytes.length);
        const decoded = decodeFrame(bytes, read.frame);
        expect(decoded.event).to.deep.equal(sortedCopy(event));
        expect(decoded.idempotencyKey).to.equal(idempotencyKey);
        const payload = bytes.subarray(read.frame.payloadStart).toString('utf8');
        const parsed = parseToml(payload, 'payload', { maxBytes: 1 << 30, maxDepth: 1000, maxString: 1 << 30 });
        expect(parsed.sid).to.equal(event.sid);
        expect(parsed.position).to.equal(event.position);
      }),
      { numRuns: runs },
    );
    figure(`OTOML frame round trip: ${count} runs`);
  });

  it('frames laid end to end are read back one by one, each exactly', () => {
    let count = 0;
    fc.assert(
      fc.property(fc.array(eventArb, { minLength: 1, maxLength: 6 }), (events) => {
        count++;
        const frames = events.map((e, i) => encodeFrame({ ...e, position: i + 1 }, { part: 1, parts: 1 }).bytes);
        const all = Buffer.concat(frames);
        let at = 0;
        events.forEach((e, i) => {
          const read = readFrame(all, at);
          expect(read.ok).to.equal(true);
          if (!read.ok) return;
          expect(decodeFrame(all, read.frame).event).to.deep.equal(sortedCopy({ ...e, position: i + 1 }));
          at = read.frame.end;
        });
        expect(at).to.equal(all.length);
      }),
      { numRuns: Math.max(50, runs / 5) },
    );
    figure(`OTOML frames end to end: ${count} runs`);
  });

  it('bulk reads (decodeFrameEncoded, then decodeDataTable) give what decodeFrame gives, frame by frame, never reading past a frame', () => {
    let count = 0;
    fc.assert(
      fc.property(fc.array(fc.tuple(eventArb, fc.option(text, { nil: undefined })), { minLength: 1, maxLength: 6 }), (items) => {
        count++;
        const frames = items.map(([e, idempotencyKey], i) =>
          encodeFrame({ ...e, position: i + 1 }, { part: 1, parts: 1, ...(idempotencyKey !== undefined ? { idempotencyKey } : {}) }).bytes,
        );
        const all = Buffer.concat(frames);
        let at = 0;
        for (let i = 0; i < items.length; i++) {
          const read = readFrame(all, at);
          expect(read.ok).to.equal(true);
          if (!read.ok) return;
          const { event } = decodeFrame(all, read.frame);
          const encoded = decodeFrameEncoded(all, read.frame);
          expect({ ...encoded, data: decodeDataTable(encoded.data) }).to.deep.equal({
            position: event.position, type: event.type, sid: event.sid, kind: event.kind, version: event.version, ts: Date.parse(event.ts), data: event.data,
          });
          at = read.frame.end;
        }
      }),
      { numRuns: Math.max(50, runs / 5) },
    );
    figure(`OTOML bulk-read decoding equals full decoding: ${count} runs`);
  });
});
