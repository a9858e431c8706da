import { crc32 } from 'node:zlib';
import { CorruptError, InvalidInputError } from './errors';
import type { EventKind, StoredEvent } from './event';
import { encodeString, encodeTableBody, OtomlReader, setOwn } from './otoml-value';

/**
 * The framed record codec of the file backend's log segments.
 *
 * A segment is a text file. Its first line is the segment header:
 *
 *     #! osis-log format=1 store=01J9Z3KX4T7VQ8M2N5P6R7S8T9 first=1
 *
 * Every event that follows is one frame: a frame line, then `len` bytes of payload.
 *
 *     #@ pos=1 part=1/1 len=182 crc=5b1f0e2a
 *     position = 1
 *     id = "01J9Z3M0C8X2T4V6W8Y0A2B4C6"
 *     type = "user"
 *     sid = "u1"
 *     kind = "created"
 *     version = 1
 *     ts = 2025-05-01T12:00:00.000Z
 *     [data]
 *     name = "Ann"
 *     sid = "u1"
 *
 * - The payload is TOML (see otoml-value.ts): the envelope keys in the fixed order position, id, type, sid,
 *   kind, version, ts, then `idempotency_key` when the append had one, then the `[data]` table (keys
 *   sorted, nested objects as inline tables) and the optional `[meta]` table. It always ends with `\n`,
 *   and no payload line starts with `#`, so every line starting with `#@` is a frame line.
 * - `len` is the payload length in bytes; `crc` is the CRC-32 (hex) of the frame line up to, not
 *   including, ` crc=`, followed by the payload. Any changed byte of the frame changes the CRC.
 * - `part=i/n`: the frame is event i of an atomic append of n events. An append counts only when all
 *   n frames are present and valid; a shorter run at the end of the newest segment is a torn tail.
 */

/** The segment format this code writes and reads. */
export const SEGMENT_FORMAT = 1;
/** Largest payload a frame may declare; larger is treated as damage. */
export const MAX_PAYLOAD_BYTES = 64 * 1024 * 1024;
/** Longest frame line (a longer one is damage). */
const MAX_FRAME_LINE = 120;

export interface SegmentHeader {
  format: number;
  storeId: string;
  first: number;
}

/** The header line of a segment. */
export function encodeSegmentHeader(header: SegmentHeader): Buffer {
  return Buffer.from(`#! osis-log format=${header.format} store=${header.storeId} first=${header.first}\n`);
}

const HEADER_LINE = /^#! osis-log format=(\d+) store=([0-9A-Za-z]{1,64}) first=([1-9]\d{0,19})$/;

/** Parse the header line at the start of `buf`; CORRUPT when it is missing or malformed. */
export function parseSegmentHeader(buf: Buffer, where: string): { header: SegmentHeader; length: number } {
  const nl = buf.indexOf(0x0a);
  const m = nl > 0 ? HEADER_LINE.exec(buf.toString('latin1', 0, nl)) : null;
  if (!m) throw new CorruptError(`${where}: offset 0: not an osis-log segment header`, { details: { where, offset: 0 } });
  const format = Number(m[1]);
  if (format !== SEGMENT_FORMAT) {
    throw new CorruptError(`${where}: segment format ${format} is not supported (this version reads ${SEGMENT_FORMAT})`, {
      details: { where, offset: 0 },
    });
  }
  return { header: { format, storeId: m[2], first: Number(m[3]) }, length: nl + 1 };
}

/** What an append frame carries besides the event. */
export interface FrameOptions {
  part: number;
  parts: number;
  idempotencyKey?: string;
}

/** An encoded frame and its CRC. */
export interface EncodedFrame {
  bytes: Buffer;
  crc: number;
}

/**
 * Encode one event as a frame (frame line + payload). INVALID_INPUT when the event cannot be stored.
 * The event's `ts` is trusted to be canonical (`Date#toISOString`); callers check foreign events first.
 */
export function encodeFrame(event: StoredEvent, options: FrameOptions): EncodedFrame {
  const payload = encodePayload(event, options.idempotencyKey);
  const payloadLength = Buffer.byteLength(payload);
  const prefix = `#@ pos=${event.position} part=${options.part}/${options.parts} len=${payloadLength}`;
  const lineLength = prefix.length + CRC_SUFFIX_LENGTH;
  const bytes = Buffer.allocUnsafe(lineLength + payloadLength);
  bytes.write(prefix, 0, 'latin1');
  bytes.write(payload, lineLength, 'utf8');
  const crc = crc32(bytes.subarray(lineLength), crc32(bytes.subarray(0, prefix.length)));
  bytes.write(` crc=${crc.toString(16).padStart(8, '0')}\n`, prefix.length, 'latin1');
  return { bytes, crc };
}

/** ` crc=XXXXXXXX\n` */
const CRC_SUFFIX_LENGTH = 14;

function encodePayload(event: StoredEvent, idempotencyKey: string | undefined): string {
  if (event.data === null || typeof event.data !== 'object' || Array.isArray(event.data)) {
    throw new InvalidInputError(`event data must be an object (position ${event.position})`);
  }
  let text =
    `position = ${event.position}\n` +
    `id = ${encodeString(event.id)}\n` +
    `type = ${encodeString(event.type)}\n` +
    `sid = ${encodeString(event.sid)}\n` +
    `kind = ${encodeString(event.kind)}\n` +
    `version = ${event.version}\n` +
    `ts = ${event.ts}\n`;
  if (idempotencyKey !== undefined) text += `idempotency_key = ${encodeString(idempotencyKey)}\n`;
  text += `[data]\n${encodeTableBody(event.data)}`;
  if (event.meta !== undefined) text += `[meta]\n${encodeTableBody(event.meta)}`;
  return text;
}

/** A frame found in a buffer: where it is and what its frame line says. */
export interface Frame {
  /** Offset of the frame line in the buffer. */
  start: number;
  /** Offset of the payload. */
  payloadStart: number;
  /** Offset just past the payload. */
  end: number;
  position: number;
  part: number;
  parts: number;
  crc: number;
}

/** Outcome of reading one frame at an offset. */
export type FrameRead =
  | { ok: true; frame: Frame }
  | { ok: false; incomplete: boolean; reason: string; frameLine?: { position: number; part: number; parts: number; len: number; crc: number; payloadStart: number; prefixEnd: number } };

/**
 * Read the frame starting at `start`, checking its line and CRC. `incomplete` means the bytes end before
 * the frame does (a tail not yet written, or torn); otherwise the bytes there are damaged.
 */
export function readFrame(buf: Buffer, start: number, end: number = buf.length): FrameRead {
  const lineLimit = Math.min(end, start + MAX_FRAME_LINE);
  let nl = buf.indexOf(0x0a, start);
  if (nl >= lineLimit) nl = -1;
  if (nl < 0) {
    const incomplete = lineLimit === end && end - start < MAX_FRAME_LINE && isFramePrefix(buf, start, end);
    return { ok: false, incomplete, reason: incomplete ? 'frame line is cut short' : 'no frame line here' };
  }
  const line = parseFrameLine(buf, start, nl);
  if (!line) return { ok: false, incomplete: false, reason: 'malformed frame line' };
  const payloadStart = nl + 1;
  const frameEnd = payloadStart + line.len;
  if (frameEnd > end) return { ok: false, incomplete: true, reason: 'payload is cut short', frameLine: { ...line, payloadStart } };
  const crc = crc32(buf.subarray(payloadStart, frameEnd), crc32(buf.subarray(start, line.prefixEnd)));
  if (crc !== line.crc) return { ok: false, incomplete: false, reason: 'CRC mismatch', frameLine: { ...line, payloadStart } };
  if (line.len === 0 || buf[frameEnd - 1] !== 0x0a) {
    return { ok: false, incomplete: false, reason: 'payload does not end a line', frameLine: { ...line, payloadStart } };
  }
  return { ok: true, frame: { start, payloadStart, end: frameEnd, position: line.position, part: line.part, parts: line.parts, crc } };
}

/**
 * Whether a frame that looks cut short is really a damaged `len`: the CRC matches when the payload is
 * taken to run to the end of the bytes. Tells a torn write from a flipped length digit.
 */
export function crcMatchesToEnd(buf: Buffer, start: number, end: number, line: { position: number; part: number; parts: number; crc: number; payloadStart: number }): boolean {
  const prefix = `#@ pos=${line.position} part=${line.part}/${line.parts} len=${end - line.payloadStart}`;
  return crc32(buf.subarray(line.payloadStart, end), crc32(prefix)) === line.crc;
}

const PREFIX = Buffer.from('#@ pos=');

function isFramePrefix(buf: Buffer, start: number, end: number): boolean {
  const n = Math.min(end - start, PREFIX.length);
  for (let i = 0; i < n; i++) if (buf[start + i] !== PREFIX[i]) return false;
  return true;
}

const POS = Buffer.from('#@ pos=');
const PART = Buffer.from(' part=');
const LEN = Buffer.from(' len=');
const CRC = Buffer.from(' crc=');

/** Parse `#@ pos=P part=I/N len=L crc=XXXXXXXX` from bytes; undefined when malformed. */
function parseFrameLine(buf: Buffer, start: number, nl: number) {
  let i = start;
  const literal = (text: Buffer): boolean => {
    if (i + text.length > nl) return false;
    for (let k = 0; k < text.length; k++) if (buf[i + k] !== text[k]) return false;
    i += text.length;
    return true;
  };
  const integer = (maxDigits: number): number => {
    let value = 0;
    const from = i;
    for (; i < nl && i - from <= maxDigits; i++) {
      const c = buf[i];
      if (c < 0x30 || c > 0x39) break;
      value = value * 10 + (c - 0x30);
    }
    return i === from || i - from > maxDigits ? -1 : value;
  };
  if (!literal(POS)) return undefined;
  const position = integer(16);
  if (position < 1 || !literal(PART)) return undefined;
  const part = integer(9);
  if (part < 1 || buf[i++] !== 0x2f) return undefined;
  const parts = integer(9);
  if (parts < part || !literal(LEN)) return undefined;
  const len = integer(9);
  if (len < 0 || len > MAX_PAYLOAD_BYTES) return undefined;
  const prefixEnd = i;
  if (!literal(CRC) || nl - i !== 8) return undefined;
  let crc = 0;
  for (; i < nl; i++) {
    const c = buf[i];
    const digit = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : -1;
    if (digit < 0) return undefined;
    crc = crc * 16 + digit;
  }
  if (!Number.isSafeInteger(position)) return undefined;
  return { position, part, parts, len, crc, prefixEnd };
}

/** Find the next offset after `from` where a complete, CRC-valid frame starts (at a line start), or -1. */
export function findValidFrameAfter(buf: Buffer, from: number, end: number = buf.length): number {
  let i = from;
  for (;;) {
    const at = buf.indexOf(PREFIX, i);
    if (at < 0 || at >= end) return -1;
    if (at === 0 || buf[at - 1] === 0x0a) {
      const read = readFrame(buf, at, end);
      if (read.ok) return at;
    }
    i = at + 1;
  }
}

/** A decoded record: the event and the append's idempotency key, if any. */
export interface DecodedRecord {
  event: StoredEvent;
  idempotencyKey?: string;
}

const KINDS = new Set<EventKind>(['created', 'updated', 'deleted', 'erased']);

const ENVELOPE = ['position', 'id', 'type', 'sid', 'kind', 'version', 'ts'] as const;

/** Decode a frame's payload; CORRUPT when it is not a well-formed record for `frame.position`. */
export function decodeFrame(buf: Buffer, frame: Frame): DecodedRecord {
  const { reader, envelope, idempotencyKey } = readEnvelope(buf, frame);
  const data = readSection(reader, DATA_HEADER);
  const meta = reader.done ? undefined : readSection(reader, META_HEADER);
  if (!reader.done) reader.fail('the end of the record');
  const event: StoredEvent = { ...envelope, data };
  if (meta) event.meta = meta;
  return idempotencyKey !== undefined ? { event, idempotencyKey } : { event };
}

/** Header lines of a record's tables. */
export const DATA_HEADER = '[data]\n';
export const META_HEADER = '[meta]\n';

/** Decode a frame's envelope lines (the general path); the reader stops at the first table header. */
export function readEnvelope(buf: Buffer, frame: Frame) {
  const text = buf.toString('utf8', frame.payloadStart, frame.end);
  const reader = new OtomlReader(text);
  const values: unknown[] = [];
  for (const key of ENVELOPE) values.push(readEnvelopeLine(reader, key));
  const idempotencyKey = text.startsWith('idempotency_key ', reader.i) ? readEnvelopeLine(reader, 'idempotency_key') : undefined;
  const [position, id, type, sid, kind, version, ts] = values;
  if (
    position !== frame.position ||
    typeof id !== 'string' ||
    typeof type !== 'string' ||
    typeof sid !== 'string' ||
    !KINDS.has(kind as EventKind) ||
    typeof version !== 'number' ||
    !Number.isInteger(version) ||
    version < 1 ||
    typeof ts !== 'string' ||
    (idempotencyKey !== undefined && typeof idempotencyKey !== 'string')
  ) {
    throw new CorruptError(`record at position ${frame.position} lacks a valid envelope`);
  }
  const envelope = { position, id, type, sid, kind: kind as EventKind, version, ts };
  return { reader, envelope, idempotencyKey: idempotencyKey as string | undefined };
}

function readEnvelopeLine(reader: OtomlReader, key: string): unknown {
  if (!reader.text.startsWith(key, reader.i) || reader.text.charCodeAt(reader.i + key.length) !== 0x20) reader.fail(`"${key} ="`);
  reader.i += key.length;
  reader.expect('=');
  const value = reader.readValue();
  reader.endLine();
  return value;
}

/** A `[name]` table: `key = value` lines up to the next table header or the end. */
function readSection(reader: OtomlReader, header: string): Record<string, unknown> {
  if (!reader.text.startsWith(header, reader.i)) reader.fail(JSON.stringify(header.trim()));
  reader.i += header.length;
  return readTableLines(reader);
}

/** `key = value` lines up to the next table header or the end. */
export function readTableLines(reader: OtomlReader): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  while (!reader.done && reader.text.charCodeAt(reader.i) !== 0x5b) {
    const key = reader.readKey();
    reader.expect('=');
    setOwn(out, key, reader.readValue());
    reader.endLine();
  }
  return out;
}
