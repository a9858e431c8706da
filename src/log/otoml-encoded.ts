import type { EncodedEvent, EventKind } from './event';
import { DATA_HEADER, META_HEADER, readEnvelope, readTableLines, type Frame } from './otoml-record';
import { OtomlReader } from './otoml-value';

/**
 * Bulk reads of the file log: a record's envelope decoded, its `[data]` table kept as text, so a
 * rebuild decodes only each object's final state (see `EventLog.readAllEncoded`).
 */

/**
 * Decode a frame's envelope and keep its `[data]` table as text (see `decodeDataTable`). CORRUPT when
 * the envelope is not well formed. Envelopes as this store writes them (ASCII strings without escapes)
 * are read straight from the bytes; anything else takes the general TOML path.
 */
export function decodeFrameEncoded(buf: Buffer, frame: Frame): EncodedEvent {
  return fastEncoded(buf, frame) ?? generalEncoded(buf, frame);
}

/** Decode the `[data]` table text of `decodeFrameEncoded` into the event's data; CORRUPT when malformed. */
export function decodeDataTable(text: string): Record<string, unknown> {
  const reader = new OtomlReader(text);
  const data = readTableLines(reader);
  if (!reader.done) reader.fail('the end of the data table');
  return data;
}

const META_LINE = Buffer.from(`\n${META_HEADER}`);
const DATA_LINE = Buffer.from(DATA_HEADER);
const KINDS = new Set<string>(['created', 'updated', 'deleted', 'erased']);
/** `Date#toISOString()`: `2025-05-01T12:00:00.000Z`. */
const CANONICAL_TS_LENGTH = 24;

function generalEncoded(buf: Buffer, frame: Frame): EncodedEvent {
  const { reader, envelope } = readEnvelope(buf, frame);
  const { text } = reader;
  if (!text.startsWith(DATA_HEADER, reader.i)) reader.fail(JSON.stringify(DATA_HEADER.trim()));
  const from = reader.i + DATA_HEADER.length;
  // Values never span lines and no key line starts with `[`, so the next table header is the meta's.
  const meta = text.indexOf(`\n${META_HEADER}`, from - 1);
  const data = text.slice(from, meta < 0 ? text.length : meta + 1);
  return { position: envelope.position, type: envelope.type, sid: envelope.sid, kind: envelope.kind, version: envelope.version, ts: Date.parse(envelope.ts), data };
}

/**
 * The envelope read from the bytes in the fixed order the writer uses, or undefined when anything is
 * unusual (an escape, a non-ASCII string, an idempotency key, a value out of shape).
 */
function fastEncoded(buf: Buffer, frame: Frame): EncodedEvent | undefined {
  const end = frame.end;
  let i = frame.payloadStart;
  const key = (name: string): boolean => {
    for (let k = 0; k < name.length; k++) if (buf[i + k] !== name.charCodeAt(k)) return false;
    if (buf[i + name.length] !== 0x20 || buf[i + name.length + 1] !== 0x3d || buf[i + name.length + 2] !== 0x20) return false;
    i += name.length + 3;
    return true;
  };
  const integer = (): number => {
    const from = i;
    let value = 0;
    for (let c = buf[i]; c >= 0x30 && c <= 0x39 && i - from < 16; c = buf[++i]) value = value * 10 + (c - 0x30);
    if (i === from || buf[i] !== 0x0a || (buf[from] === 0x30 && i - from > 1)) return -1;
    i++;
    return value;
  };
  const string = (): string | undefined => {
    if (buf[i] !== 0x22) return undefined;
    const from = i + 1;
    let j = from;
    for (let c = buf[j]; c !== 0x22; c = buf[++j]) if (j >= end || c === 0x5c || c >= 0x80 || c < 0x20) return undefined;
    if (buf[j + 1] !== 0x0a) return undefined;
    i = j + 2;
    return buf.toString('latin1', from, j);
  };
  if (!key('position') || integer() !== frame.position) return undefined;
  if (!key('id') || string() === undefined) return undefined;
  const type = key('type') ? string() : undefined;
  if (type === undefined || !key('sid')) return undefined;
  const sid = string();
  if (sid === undefined || !key('kind')) return undefined;
  const kind = string();
  if (kind === undefined || !KINDS.has(kind) || !key('version')) return undefined;
  const version = integer();
  if (version < 1 || !key('ts')) return undefined;
  const eol = i + CANONICAL_TS_LENGTH;
  if (buf[eol] !== 0x0a || buf[eol - 1] !== 0x5a) return undefined;
  const ts = Date.parse(buf.toString('latin1', i, eol));
  i = eol + 1;
  if (Number.isNaN(ts) || buf.compare(DATA_LINE, 0, DATA_LINE.length, i, i + DATA_LINE.length) !== 0) return undefined;
  const from = i + DATA_LINE.length;
  let to = end;
  for (let nl = buf.indexOf(0x0a, from); nl >= 0 && nl < end - 1; nl = buf.indexOf(0x0a, nl + 1)) {
    if (buf[nl + 1] !== 0x5b) continue;
    if (buf.compare(META_LINE, 0, META_LINE.length, nl, nl + META_LINE.length) !== 0) return undefined;
    to = nl + 1;
    break;
  }
  return { position: frame.position, type, sid, kind: kind as EventKind, version, ts, data: buf.toString('utf8', from, to) };
}
