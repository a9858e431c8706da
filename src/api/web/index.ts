import * as fs from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as path from 'node:path';
import type { Logger } from 'pino';
import { DEFAULT_CONTEXT, type ContextRegistry } from '../service/contexts';
import type { TokenCheck } from '../service/auth';
import { ServiceError, codeOf, httpStatusOf, isUnexpected, toRpcError } from '../service/errors';
import { readBody } from '../service/http';
import { html, type Html } from './html';
import { JobRunner } from './jobs';
import { ctx, href, page } from './layout';
import { loadHome, renderHome } from './pages/home';
import { loadLog, renderLog } from './pages/log-page';
import { loadObject, renderObject } from './pages/object-page';
import type { PageInput } from './pages/page-input';
import { loadProjections, renderProjections } from './pages/projections-page';
import { loadType, renderType } from './pages/type-page';
import { methodOf, parseRoute, type WebRoute } from './routes';
import { WebSessions, type Identity } from './session';

/** Options of the web UI. */
export interface WebUiOptions {
  contexts: ContextRegistry;
  /** The server's token: pages then need it (bearer header or the login cookie). */
  token?: TokenCheck;
  logger: Logger;
  /** A form body must arrive within this many ms. */
  bodyTimeoutMs: number;
}

/** Content-Security-Policy of every answer: scripts and styles from this server only, no inline script. */
export const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
const FORM_LIMIT = 16 * 1024;
const ASSET_TYPES: Record<string, string> = { 'osis.js': 'text/javascript; charset=utf-8', 'osis.css': 'text/css; charset=utf-8' };

/**
 * The browser UI of `osis serve`: server-rendered pages over the same stores as JSON-RPC, each with a JSON
 * twin built from the same data. Mounted by the HTTP edge on the same port (see `HttpApp`).
 */
export class WebUi {
  readonly sessions: WebSessions;
  private readonly jobs = new JobRunner();
  private readonly assets = new Map<string, Buffer>();

  constructor(private readonly o: WebUiOptions) {
    this.sessions = new WebSessions(o.token);
    const dir = path.join(__dirname, '..', '..', '..', 'assets', 'web');
    for (const name of Object.keys(ASSET_TYPES)) this.assets.set(name, fs.readFileSync(path.join(dir, name)));
  }

  /** True for the paths this UI answers. */
  routes(pathname: string): boolean {
    return pathname.startsWith('/t/') || parseRoute(pathname) !== undefined;
  }

  /** True when the request carries a live login cookie (the browser's EventSource on /events has no header). */
  signedIn(req: IncomingMessage): boolean {
    return this.sessions.signedIn(req);
  }

  /** Answer one request; errors become an HTML error page (or `{error}` on a JSON twin). */
  async handle(req: IncomingMessage, res: ServerResponse, pathname: string, query: URLSearchParams): Promise<void> {
    let json = pathname.endsWith('.json');
    try {
      const route = parseRoute(pathname);
      if (!route) throw new ServiceError('NOT_ROUTED', `no page ${pathname}`);
      json = route.json;
      const allowed = methodOf(route);
      const method = req.method === 'HEAD' ? 'GET' : req.method;
      if (!allowed.split('+').includes(method ?? '')) {
        res.setHeader('Allow', allowed === 'GET' ? 'GET, HEAD' : allowed.replace('+', ', '));
        throw new ServiceError('INVALID_REQUEST', `${pathname} takes ${allowed.replace('+', ' or ')}`, { status: 405 });
      }
      await this.dispatch(req, res, route, method as 'GET' | 'POST', pathname, query);
    } catch (error) {
      this.fail(req, res, error, json);
    }
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse, route: WebRoute, method: 'GET' | 'POST', pathname: string, query: URLSearchParams): Promise<void> {
    if (route.page === 'asset') return this.send(res, 200, this.assets.get(route.name)!, ASSET_TYPES[route.name], 'public, max-age=300');
    if (route.page === 'login') return method === 'GET' ? this.loginPage(res, query) : this.login(req, res);
    const identity = this.sessions.identify(req);
    if (!identity) {
      if (route.json || method === 'POST') throw new ServiceError('UNAUTHORIZED', 'sign in first: POST /login, or send Authorization: Bearer TOKEN', { reason: 'missing' });
      const next = query.size > 0 ? `${pathname}?${query}` : pathname;
      return this.redirect(res, href('/login', { next }));
    }
    if (route.page === 'logout') {
      const form = await this.form(req);
      this.sessions.checkPost(req, identity, form.get('_csrf'));
      res.setHeader('Set-Cookie', this.sessions.logout(req));
      return this.redirect(res, '/login');
    }
    const context = query.get('context') || DEFAULT_CONTEXT;
    const input: PageInput = {
      store: await this.o.contexts.store(context),
      context,
      contexts: this.o.contexts.list(),
      query,
      csrf: this.sessions.csrfToken(identity),
      frame: identity.via === 'session' ? { signOut: this.sessions.csrfToken(identity) } : {},
    };
    switch (route.page) {
      case 'home':
        return this.answer(res, route.json, await loadHome(input), (d) => renderHome(d, input));
      case 'type':
        return this.answer(res, route.json, await loadType(input, route.type), (d) => renderType(d, input));
      case 'object':
        return this.answer(res, route.json, await loadObject(input, route.type, route.sid), (d) => renderObject(d, input));
      case 'log':
        return this.answer(res, route.json, await loadLog(input), (d) => renderLog(d, input));
      case 'projections':
        return this.answer(res, route.json, await loadProjections(input, this.jobs.current(context)), (d) => renderProjections(d, input));
      case 'job':
        return this.sendJson(res, 200, { job: this.jobs.current(context) ?? null });
      case 'rebuild':
      case 'verify':
        return this.startJob(req, res, route.page, input, identity);
    }
  }

  private async startJob(req: IncomingMessage, res: ServerResponse, kind: 'rebuild' | 'verify', input: PageInput, identity: Identity): Promise<void> {
    const form = await this.form(req);
    this.sessions.checkPost(req, identity, form.get('_csrf'));
    const job = this.jobs.start(input.context, kind, input.store);
    if (wantsJson(req)) return this.sendJson(res, 202, { job });
    return this.redirect(res, href('/projections', ctx(input.context)));
  }

  private loginPage(res: ServerResponse, query: URLSearchParams, message?: string, status = 200): void {
    const next = safeNext(query.get('next'));
    const csrf = this.sessions.csrfToken({ via: 'open', key: 'anonymous' });
    const body = this.sessions.required
      ? html`<h1>Sign in</h1>
${message ? html`<p class="error" id="login-error">${message}</p>` : ''}
<form method="post" action="/login" class="login">
  <input type="hidden" name="_csrf" value="${csrf}">
  <input type="hidden" name="next" value="${next}">
  <label>Token <input type="password" name="token" autocomplete="current-password" required autofocus></label>
  <button type="submit">Sign in</button>
</form>
<p class="muted">The token the server was started with (<code>--token</code> or <code>OSIS_TOKEN</code>).</p>`
      : html`<h1>No sign-in needed</h1><p>This server has no token. <a href="/">Go to the store</a>.</p>`;
    this.sendHtml(res, status, page({ title: 'Sign in' }, body));
  }

  private async login(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const form = await this.form(req);
    this.sessions.checkPost(req, undefined, form.get('_csrf'));
    const next = safeNext(form.get('next'));
    let cookie: string;
    try {
      cookie = this.sessions.login(form.get('token') ?? '');
    } catch (error) {
      if (codeOf(error) !== 'UNAUTHORIZED') throw error;
      return this.loginPage(res, new URLSearchParams({ next }), 'That token is not right.', 401);
    }
    res.setHeader('Set-Cookie', cookie);
    return this.redirect(res, next);
  }

  private async form(req: IncomingMessage): Promise<URLSearchParams> {
    const type = req.headers['content-type'] ?? '';
    if (!/^application\/x-www-form-urlencoded\b/i.test(type)) {
      throw new ServiceError('INVALID_REQUEST', 'a form post must be application/x-www-form-urlencoded');
    }
    return new URLSearchParams(await readBody(req, FORM_LIMIT, this.o.bodyTimeoutMs));
  }

  private answer<T>(res: ServerResponse, json: boolean, data: T, render: (data: T) => Html): void {
    if (json) this.sendJson(res, 200, data);
    else this.sendHtml(res, 200, render(data));
  }

  private fail(req: IncomingMessage, res: ServerResponse, error: unknown, json: boolean): void {
    if (isUnexpected(error)) this.o.logger.error({ err: error, path: req.url }, 'unexpected error in the web UI');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const details = error instanceof ServiceError ? error.details : undefined;
    const status = details?.status === 405 ? 405 : details?.conflict ? 409 : httpStatusOf(error);
    const rpc = toRpcError(error);
    if (status === 401) res.setHeader('WWW-Authenticate', 'Bearer realm="osis"');
    if (json || wantsJson(req)) return this.sendJson(res, status, { error: rpc });
    const known = Array.isArray(rpc.data.known) ? (rpc.data.known as string[]) : [];
    const body = html`<h1>${status === 404 ? 'Not found' : status === 401 ? 'Not signed in' : 'Cannot show this'}</h1>
<p class="error" id="error-message">${rpc.message}</p>
${known.length > 0 ? html`<p>Known contexts: ${known.map((name, i) => html`${i > 0 ? ', ' : ''}<a href="${href('/', ctx(name))}">${name}</a>`)}</p>` : ''}
<p><a href="/">Back to the start</a>${status === 401 ? html` · <a href="/login">Sign in</a>` : ''}</p>`;
    this.sendHtml(res, status, page({ title: 'Error' }, body));
  }

  private redirect(res: ServerResponse, location: string): void {
    res.setHeader('Location', location);
    this.send(res, 303, Buffer.from(''), 'text/plain; charset=utf-8');
  }

  private sendHtml(res: ServerResponse, status: number, body: Html): void {
    this.send(res, status, Buffer.from(body.text, 'utf8'), 'text/html; charset=utf-8');
  }

  private sendJson(res: ServerResponse, status: number, body: unknown): void {
    this.send(res, status, Buffer.from(JSON.stringify(body), 'utf8'), 'application/json; charset=utf-8');
  }

  private send(res: ServerResponse, status: number, body: Buffer, type: string, cache = 'no-store'): void {
    res.writeHead(status, {
      'Content-Type': type,
      'Content-Length': body.length,
      'Cache-Control': cache,
      'Content-Security-Policy': CSP,
      'X-Content-Type-Options': 'nosniff',
      'X-Frame-Options': 'DENY',
      'Referrer-Policy': 'same-origin',
    });
    res.end(res.req?.method === 'HEAD' ? undefined : body);
  }
}

function wantsJson(req: IncomingMessage): boolean {
  const accept = req.headers.accept ?? '';
  return accept.includes('application/json') && !accept.includes('text/html');
}

/** A local path to go to after sign-in; anything else (other hosts, `//x`, `/\x`) becomes '/'. */
function safeNext(next: string | null): string {
  return next && /^\/(?![/\\])[\x21-\x7e]*$/.test(next) ? next : '/';
}
