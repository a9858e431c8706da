import { createCipheriv, createDecipheriv, randomFillSync } from 'node:crypto';

/**
 * How a personal field's value is stored: `{"$enc": "<keyId>:<base64 of iv | tag | ciphertext>"}`, the
 * value's JSON encrypted with AES-256-GCM under the object's data key (random 96-bit IV, 128-bit tag).
 * The field name and key id are the additional authenticated data, so a value cannot be moved to
 * another field or key unnoticed. Everything else of the event stays plain.
 */
export interface Envelope {
  $enc: string;
}

const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Random IVs are cut from a pool filled 1,024 at a time (one `randomFillSync` call instead of one per value). */
const ivPool = Buffer.alloc(IV_BYTES * 1024);
let ivNext = ivPool.length;

function freshIv(): Buffer {
  if (ivNext + IV_BYTES > ivPool.length) {
    randomFillSync(ivPool);
    ivNext = 0;
  }
  const iv = Buffer.from(ivPool.subarray(ivNext, ivNext + IV_BYTES));
  ivNext += IV_BYTES;
  return iv;
}

/** True for a value shaped like an envelope (a one-key object whose `$enc` is a string). */
export function isEnvelope(value: unknown): value is Envelope {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const enc = (value as { $enc?: unknown }).$enc;
  return typeof enc === 'string' && Object.keys(value).length === 1;
}

/** The id of the key an envelope was sealed with. */
export function envelopeKeyId(envelope: Envelope): string {
  const colon = envelope.$enc.indexOf(':');
  return colon < 0 ? '' : envelope.$enc.slice(0, colon);
}

/** Encrypt `value` (any JSON value) of `field` under `key`. */
export function seal(keyId: string, key: Buffer, field: string, value: unknown): Envelope {
  const iv = freshIv();
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(`${keyId}\0${field}`));
  const body = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
  return { $enc: `${keyId}:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')}` };
}

/** Decrypt an envelope of `field`; undefined when it does not authenticate under `key`. */
export function unseal(key: Buffer, field: string, envelope: Envelope): unknown {
  const keyId = envelopeKeyId(envelope);
  const raw = Buffer.from(envelope.$enc.slice(keyId.length + 1), 'base64');
  if (raw.length < IV_BYTES + TAG_BYTES) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(`${keyId}\0${field}`));
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    const text = Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
