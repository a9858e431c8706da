import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { TokenCheck } from '../service/auth';
import { ServiceError } from '../service/errors';

/** Name of the session cookie set by `POST /login`. */
export const SESSION_COOKIE = 'osis_session';
const SESSION_MS = 12 * 60 * 60 * 1000;
const MAX_SESSIONS = 10_000;

/**
 * Who a browser request is: `bearer` (an Authorization header: no cookie, so no CSRF risk),
 * `session` (the login cookie), or `open` (the server has no token).
 */
export interface Identity {
  via: 'bearer' | 'session' | 'open';
  /** The key CSRF tokens are bound to: the session id, or 'open'. */
  key: string;
}

/**
 * Sign-in for the web UI. With a token, a request needs `Authorization: Bearer TOKEN` or the HttpOnly,
 * SameSite=Strict session cookie that `POST /login` sets after checking the token. Sessions live in
 * this process (random ids, 12 hours). State-changing requests from a cookie or an open server carry a
 * CSRF token bound to the session, and a cross-site Origin is refused outright.
 */
export class WebSessions {
  private readonly secret = randomBytes(32);
  private readonly sessions = new Map<string, number>();

  constructor(private readonly token: TokenCheck | undefined) {}

  /** True when the server has a token and pages need sign-in. */
  get required(): boolean {
    return this.token !== undefined;
  }

  /** The identity of a request, or undefined when it is not signed in. A wrong bearer token throws UNAUTHORIZED. */
  identify(req: IncomingMessage): Identity | undefined {
    if (!this.token) return { via: 'open', key: 'open' };
    if (req.headers.authorization !== undefined) {
      this.token.verify(req.headers.authorization);
      return { via: 'bearer', key: 'bearer' };
    }
    const id = this.sessionOf(req);
    return id === undefined ? undefined : { via: 'session', key: id };
  }

  /** Check a token typed into the login form; returns the Set-Cookie value of a new session. */
  login(given: string): string {
    if (!this.token) throw new ServiceError('INVALID_REQUEST', 'this server has no token: no sign-in needed');
    if (!/^[\x21-\x7e]{1,4096}$/.test(given)) throw new ServiceError('UNAUTHORIZED', 'invalid token', { reason: 'invalid' });
    this.token.verify(`Bearer ${given}`);
    this.prune();
    const id = randomBytes(32).toString('base64url');
    this.sessions.set(id, Date.now() + SESSION_MS);
    return `${SESSION_COOKIE}=${id}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${SESSION_MS / 1000}`;
  }

  /** End the request's session; returns the Set-Cookie value that clears the cookie. */
  logout(req: IncomingMessage): string {
    const id = this.sessionOf(req);
    if (id !== undefined) this.sessions.delete(id);
    return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`;
  }

  /** The CSRF token forms of this identity carry. */
  csrfToken(identity: Identity): string {
    return createHmac('sha256', this.secret).update(`csrf\0${identity.key}`).digest('base64url');
  }

  /**
   * Refuse a state-changing request that a page on another site could have sent: a cross-site Origin or
   * Sec-Fetch-Site, or (unless it came with a bearer header) a missing or wrong CSRF token.
   */
  checkPost(req: IncomingMessage, identity: Identity | undefined, csrf: string | null): void {
    const site = req.headers['sec-fetch-site'];
    if (site === 'cross-site' || site === 'same-site') throw csrfError(`a ${site} request cannot change anything here`);
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== 'null') {
      let host: string;
      try {
        host = new URL(origin).host;
      } catch {
        throw csrfError('malformed Origin header');
      }
      if (host !== req.headers.host) throw csrfError(`Origin ${origin} is not this server`);
    } else if (origin === 'null') throw csrfError('an opaque Origin cannot change anything here');
    if (identity?.via === 'bearer') return;
    const expected = Buffer.from(this.csrfToken(identity ?? { via: 'open', key: 'anonymous' }));
    const got = Buffer.from(csrf ?? '');
    if (got.length !== expected.length || !timingSafeEqual(got, expected)) throw csrfError('missing or invalid CSRF token: reload the page and try again');
  }

  /** True when the request carries a live session cookie (lets EventSource reach /events). */
  signedIn(req: IncomingMessage): boolean {
    return this.sessionOf(req) !== undefined;
  }

  private sessionOf(req: IncomingMessage): string | undefined {
    const id = cookie(req, SESSION_COOKIE);
    if (id === undefined) return undefined;
    const expires = this.sessions.get(id);
    if (expires === undefined) return undefined;
    if (expires < Date.now()) {
      this.sessions.delete(id);
      return undefined;
    }
    return id;
  }

  private prune(): void {
    const now = Date.now();
    for (const [id, expires] of this.sessions) if (expires < now) this.sessions.delete(id);
    while (this.sessions.size >= MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value as string);
  }
}

function csrfError(message: string): ServiceError {
  return new ServiceError('UNAUTHORIZED', message, { reason: 'csrf' });
}

/** One cookie's value from the Cookie header. */
export function cookie(req: IncomingMessage, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
