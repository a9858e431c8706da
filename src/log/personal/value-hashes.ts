import { createHmac } from 'node:crypto';
import type { ErasedValue } from './key-store';

/** Values shorter than this many bytes are not hashed: they would match everywhere. */
export const MIN_HASHED_BYTES = 4;
/** The rolling hash's modulus (a Mersenne prime below 2^31: products stay exact in a double). */
const MODULUS = 2147483647;

/** The keyed parts of the hashes: HMAC key and the rolling hash's secret base, from the verification key. */
export interface HashKey {
  mac: Buffer;
  base: number;
}

/** Derive the hash key from the store's verification key. */
export function hashKey(verificationKey: Buffer): HashKey {
  const base = 256 + (createHmac('sha256', verificationKey).update('rolling-base').digest().readUInt32BE(0) % (1 << 20));
  return { mac: verificationKey, base };
}

/** Keyed HMAC-SHA256 of bytes, first 16 bytes as hex. */
export function macOf(key: HashKey, bytes: Uint8Array): string {
  return createHmac('sha256', key.mac).update(bytes).digest().subarray(0, 16).toString('hex');
}

/** The rolling (Rabin–Karp) hash of bytes under the secret base. */
export function rollingOf(key: HashKey, bytes: Uint8Array): number {
  let h = 0;
  for (const b of bytes) h = (h * key.base + b) % MODULUS;
  return h;
}

/**
 * The byte strings a personal value can leave in a file: a string as UTF-8 and as it appears inside
 * JSON text (escaped), any other value as its JSON text. Short ones are left out.
 */
export function storedForms(value: unknown): Buffer[] {
  if (value === undefined || value === null) return [];
  const forms = new Set<string>();
  if (typeof value === 'string') {
    forms.add(value);
    forms.add(JSON.stringify(value).slice(1, -1));
  } else {
    forms.add(JSON.stringify(value));
    if (Array.isArray(value)) for (const item of value) if (typeof item === 'string') forms.add(item);
  }
  return [...forms].map((f) => Buffer.from(f, 'utf8')).filter((b) => b.length >= MIN_HASHED_BYTES);
}

/** The hashes kept of one object's personal values (see `ErasedValue`). */
export function erasedValues(key: HashKey, type: string, sid: string, values: Iterable<unknown>): ErasedValue[] {
  const out = new Map<string, ErasedValue>();
  for (const value of values) {
    for (const bytes of storedForms(value)) {
      const mac = macOf(key, bytes);
      out.set(`${bytes.length}:${mac}`, { type, sid, len: bytes.length, rolling: rollingOf(key, bytes), mac });
    }
  }
  return [...out.values()];
}

/** A hit of `scanForValues`: the erased object whose value was found, in which file, at which offset. */
export interface ValueHit {
  file: string;
  offset: number;
  type: string;
  sid: string;
}

/**
 * Slide a window of each distinct length over `bytes` (one file's content), prefilter with the rolling
 * hash and confirm with the HMAC. `base` is the file offset of `bytes[0]`.
 */
export function scanBytes(key: HashKey, values: readonly ErasedValue[], bytes: Uint8Array, file: string, base = 0): ValueHit[] {
  const byLength = new Map<number, Map<number, ErasedValue[]>>();
  for (const v of values) {
    let rolls = byLength.get(v.len);
    if (!rolls) byLength.set(v.len, (rolls = new Map()));
    const list = rolls.get(v.rolling) ?? [];
    list.push(v);
    rolls.set(v.rolling, list);
  }
  const hits: ValueHit[] = [];
  for (const [len, rolls] of byLength) {
    if (bytes.length < len) continue;
    let pow = 1;
    for (let i = 1; i < len; i++) pow = (pow * key.base) % MODULUS;
    let h = 0;
    for (let i = 0; i < len; i++) h = (h * key.base + bytes[i]) % MODULUS;
    for (let start = 0; ; start++) {
      const candidates = rolls.get(h);
      if (candidates) {
        const mac = macOf(key, bytes.subarray(start, start + len));
        for (const c of candidates) if (c.mac === mac) hits.push({ file, offset: base + start, type: c.type, sid: c.sid });
      }
      if (start + len >= bytes.length) break;
      h = (h - ((bytes[start] * pow) % MODULUS) + MODULUS) % MODULUS;
      h = (h * key.base + bytes[start + len]) % MODULUS;
    }
  }
  return hits;
}
