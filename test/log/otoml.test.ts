import { expect } from 'chai';
import fc from 'fast-check';
import { decodeFrame, encodeFrame, readFrame } from '../../src/log/otoml-record';
import { encodeTableBody, encodeValue, fromParsedToml, OtomlReader, sortedCopy } from '../../src/log/otoml-value';
import { parseToml } from '../../src/log/toml-codec';
import type { StoredEvent } from '../../src';

const key = fc.oneof(fc.string(), fc.constantFrom('$null', '$$x', '$', 'a key', 'quote"d', '__proto__x', ''));
const jsonValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Object.is(d, -0)),
    fc.string({ unit: 'grapheme' }),
    fc.string({ unit: 'binary' }).filter((s) => !/[\ud800-\udfff]/.test(s.replace(/[\ud800-\udbff][\udc00-\udfff]/g, ''))),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(key, tie('value'), { maxKeys: 4 }),
  ),
})).value;
const fieldName = fc.stringMatching(/^[a-z][a-z0-9_]{0,10}$/);
const object = fc.dictionary(fieldName, jsonValue, { maxKeys: 6 });

function readTable(text: string): Record<string, unknown> {
  const reader = new OtomlReader(text);
  const out: Record<string, unknown> = {};
  while (!reader.done) {
    const k = reader.readKey();
    reader.expect('=');
    out[k] = reader.readValue();
    reader.endLine();
  }
  return out;
}

describe('OTOML values and records', () => {
  it('reads back every JSON object it writes, keys sorted', () => {
    fc.assert(
      fc.property(object, (o) => {
        const text = encodeTableBody(o);
        expect(readTable(text)).to.deep.equal(o);
        expect(Object.keys(readTable(text))).to.deep.equal(Object.keys(sortedCopy(o)));
      }),
      { numRuns: 500 },
    );
  });

  it('writes valid TOML that a general TOML parser reads as the same data', () => {
    fc.assert(
      fc.property(object, (o) => {
        expect(fromParsedToml(parseToml(encodeTableBody(o)))).to.deep.equal(o);
      }),
      { numRuns: 500 },
    );
  });

  it('writes null as a marker table and escapes $-keys, so no data can pass for null', () => {
    expect(encodeValue(null)).to.equal('{ "$null" = true }');
    expect(encodeValue({ $null: true })).to.equal('{ "$$null" = true }');
    expect(readTable(`a = ${encodeValue({ $null: true })}\n`)).to.deep.equal({ a: { $null: true } });
    expect(readTable(`a = ${encodeValue([null, { $null: false }])}\n`)).to.deep.equal({ a: [null, { $null: false }] });
  });

  it('writes numbers TOML can hold: integers, floats, large integers as floats', () => {
    expect(encodeValue(42)).to.equal('42');
    expect(encodeValue(-0.5)).to.equal('-0.5');
    expect(encodeValue(1e21)).to.equal('1e+21');
    expect(encodeValue(2 ** 60)).to.equal('1.152921504606847e+18');
    expect(readTable(`a = ${encodeValue(2 ** 60)}\n`).a).to.equal(2 ** 60);
    expect(() => encodeValue(Number.NaN)).to.throw(/non-finite/);
    expect(() => encodeValue('\ud800 lone')).to.throw(/lone UTF-16 surrogate/);
  });

  it('frames a record so any changed byte is detected', () => {
    const event: StoredEvent = {
      position: 7,
      id: '01JAAAAAAAAAAAAAAAAAAAAAAA',
      type: 'user',
      sid: 'u1',
      kind: 'updated',
      version: 3,
      ts: '2025-01-02T03:04:05.678Z',
      data: { sid: 'u1', name: 'Ann "A" 🎉', nested: { list: [1, null, 'x'] } },
      meta: { actor: 'me' },
    };
    const { bytes } = encodeFrame(event, { part: 2, parts: 3, idempotencyKey: 'k-1' });
    const text = bytes.toString('utf8');
    expect(text).to.match(/^#@ pos=7 part=2\/3 len=\d+ crc=[0-9a-f]{8}\nposition = 7\nid = "01JA/);
    expect(text).to.contain('\n[data]\nname = "Ann \\"A\\" 🎉"\nnested = { list = [1, { "$null" = true }, "x"] }\nsid = "u1"\n[meta]\nactor = "me"\n');
    const read = readFrame(bytes, 0);
    if (!read.ok) throw new Error(read.reason);
    expect(decodeFrame(bytes, read.frame)).to.deep.equal({ event, idempotencyKey: 'k-1' });
    for (let i = 0; i < bytes.length; i++) {
      const damaged = Buffer.from(bytes);
      damaged[i] ^= 0x04;
      const result = readFrame(damaged, 0);
      expect(result.ok, `flipped byte ${i} went unnoticed`).to.equal(false);
    }
    for (let cut = 0; cut < bytes.length; cut++) {
      const result = readFrame(bytes.subarray(0, cut), 0);
      expect(result.ok).to.equal(false);
      if (cut > 0 && !result.ok) expect(result.incomplete, `cut at ${cut}`).to.equal(true);
    }
  });
});
