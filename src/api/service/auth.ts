import { createHash, timingSafeEqual } from 'node:crypto';
import * as net from 'node:net';
import { InvalidInputError } from '../../log/errors';
import { ServiceError } from './errors';

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/** A bearer-token check whose time does not depend on how much of a guess is right. */
export class TokenCheck {
  private readonly expected: Buffer;

  constructor(token: string) {
    this.expected = digest(token);
  }

  /** Throws UNAUTHORIZED (missing, malformed or invalid) unless the header carries the token. */
  verify(authorization: string | undefined): void {
    if (authorization === undefined || authorization === '') {
      throw new ServiceError('UNAUTHORIZED', 'missing Authorization: Bearer token', { reason: 'missing' });
    }
    const match = /^Bearer[ ]+([\x21-\x7e]+)[ ]*$/i.exec(authorization);
    if (!match) throw new ServiceError('UNAUTHORIZED', 'malformed Authorization header: expected "Bearer TOKEN"', { reason: 'malformed' });
    if (!timingSafeEqual(digest(match[1]), this.expected)) throw new ServiceError('UNAUTHORIZED', 'invalid token', { reason: 'invalid' });
  }
}

/** Validate a configured token: printable ASCII without spaces, 1 to 4096 characters. */
export function assertToken(token: unknown): asserts token is string {
  if (typeof token !== 'string' || !/^[\x21-\x7e]{1,4096}$/.test(token)) {
    throw new InvalidInputError('token must be 1 to 4096 printable ASCII characters without spaces');
  }
}

/** True when a host name or address can only be reached from this machine. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (bare === 'localhost' || bare.endsWith('.localhost')) return true;
  if (net.isIPv4(bare)) return bare.startsWith('127.');
  if (net.isIPv6(bare)) return bare === '::1' || /^::ffff:127\./.test(bare);
  return false;
}

/**
 * Whether a Host header names this machine. Without a token, requests whose Host is some other name are
 * refused, which defeats DNS-rebinding pages that reach a loopback service through the browser.
 */
export function isLoopbackHostHeader(hostHeader: string | undefined): boolean {
  if (!hostHeader) return false;
  // RFC 7230 Host = uri-host [ ":" port ]: an IPv6 literal in brackets or a name/IPv4 address; nothing else.
  const match = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::\d{1,5})?$/.exec(hostHeader);
  return match !== null && isLoopbackHost(match[1]);
}
