import { InvalidInputError } from '../../log/errors';

/** A web UI request, parsed from its path. `json` marks a page's JSON twin. */
export type WebRoute =
  | { page: 'home' | 'log' | 'projections'; json: boolean }
  | { page: 'type'; type: string; json: boolean }
  | { page: 'object'; type: string; sid: string; json: boolean }
  | { page: 'job'; json: true }
  | { page: 'rebuild' | 'verify' | 'login' | 'logout'; json: false }
  | { page: 'asset'; name: string; json: false };

const FIXED: Record<string, WebRoute> = {
  '/': { page: 'home', json: false },
  '/index.json': { page: 'home', json: true },
  '/log': { page: 'log', json: false },
  '/log.json': { page: 'log', json: true },
  '/projections': { page: 'projections', json: false },
  '/projections.json': { page: 'projections', json: true },
  '/projections/job.json': { page: 'job', json: true },
  '/projections/rebuild': { page: 'rebuild', json: false },
  '/projections/verify': { page: 'verify', json: false },
  '/login': { page: 'login', json: false },
  '/logout': { page: 'logout', json: false },
  '/assets/osis.js': { page: 'asset', name: 'osis.js', json: false },
  '/assets/osis.css': { page: 'asset', name: 'osis.css', json: false },
};

/** Methods each route answers (HEAD goes with GET). */
export function methodOf(route: WebRoute): 'GET' | 'POST' | 'GET+POST' {
  if (route.page === 'login') return 'GET+POST';
  return route.page === 'rebuild' || route.page === 'verify' || route.page === 'logout' ? 'POST' : 'GET';
}

/**
 * Parse a request path (still percent-encoded) into a route, or undefined when the UI does not serve it.
 * A trailing `.json` on the raw path selects the JSON twin, so a sid that itself ends in `.json` is
 * written `%2Ejson` in links.
 */
export function parseRoute(pathname: string): WebRoute | undefined {
  if (Object.prototype.hasOwnProperty.call(FIXED, pathname)) return FIXED[pathname];
  if (!pathname.startsWith('/t/')) return undefined;
  const json = pathname.endsWith('.json');
  const parts = (json ? pathname.slice(0, -'.json'.length) : pathname).slice(3).split('/');
  if (parts.length > 2 || parts.some((p) => p === '')) return undefined;
  const [type, sid] = parts.map(decode);
  return sid === undefined ? { page: 'type', type, json } : { page: 'object', type, sid, json };
}

function decode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new InvalidInputError(`malformed percent-encoding in the path: ${JSON.stringify(part)}`);
  }
}
