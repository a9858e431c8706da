import { html, type Html, type Renderable } from './html';

/** What every page's frame needs. */
export interface Frame {
  title: string;
  /** Current context, and every known one (for the selector); absent on pages outside a context. */
  context?: string;
  contexts?: string[];
  /** The path the context selector reloads (query kept minimal). */
  path?: string;
  /** Which nav entry is current. */
  section?: 'home' | 'types' | 'log' | 'projections';
  /** CSRF token for the sign-out form, when signed in with a session. */
  signOut?: string;
  /** Path of the JSON twin of this page. */
  json?: string;
}

/** A path with query parameters (empty and undefined ones left out), always starting with '/'. */
export function href(path: string, params: Record<string, string | number | undefined | null> = {}): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== null && value !== '') query.set(key, String(value));
  const text = query.toString();
  return text === '' ? path : `${path}?${text}`;
}

/** `?context=` for links, left out for the default context. */
export function ctx(context: string | undefined): { context?: string } {
  return context && context !== 'default' ? { context } : {};
}

/** Path segment of a sid or type: percent-encoded, and a trailing `.json` kept from reading as the JSON twin. */
export function segment(value: string): string {
  return encodeURIComponent(value).replace(/\.json$/, '%2Ejson');
}

/** A value as one line of text for a table cell (long values cut). */
export function cellText(value: unknown, max = 120): string {
  const text = typeof value === 'string' ? value : value === undefined ? '' : JSON.stringify(value);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** A value in full, as text (JSON for anything but strings). */
export function fullText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value, null, 2);
}

/** The HTML document around a page's body. */
export function page(frame: Frame, body: Renderable): Html {
  const nav = (section: Frame['section'], path: string, label: string) =>
    html`<a href="${href(path, ctx(frame.context))}"${section === frame.section ? html` aria-current="page"` : ''}>${label}</a>`;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${frame.title} · osis</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/assets/osis.css">
<script src="/assets/osis.js" defer></script>
</head>
<body>
<header class="top">
  <a class="brand" href="${href('/', ctx(frame.context))}">osis</a>
  <nav>${frame.context !== undefined ? [nav('home', '/', 'Types'), nav('log', '/log', 'Log'), nav('projections', '/projections', 'Projections')] : ''}</nav>
  ${frame.contexts && frame.context !== undefined ? contextSelector(frame) : ''}
  ${frame.signOut ? html`<form method="post" action="/logout" class="inline"><input type="hidden" name="_csrf" value="${frame.signOut}"><button type="submit" class="link">Sign out</button></form>` : ''}
</header>
<main>
${body}
</main>
<footer>${frame.json ? html`<a href="${frame.json}">JSON</a>` : ''}</footer>
</body>
</html>`;
}

function contextSelector(frame: Frame): Html {
  const options = frame.contexts!.map((name) => html`<option value="${name}"${name === frame.context ? html` selected` : ''}>${name}</option>`);
  return html`<form method="get" action="${frame.path ?? '/'}" class="context">
  <label>Context <select name="context" data-autosubmit>${options}</select></label>
  <noscript><button type="submit">Go</button></noscript>
</form>`;
}

/** A definition list of label/value pairs. */
export function facts(pairs: Array<[string, Renderable]>): Html {
  return html`<dl class="facts">${pairs.map(([k, v]) => html`<div><dt>${k}</dt><dd>${v}</dd></div>`)}</dl>`;
}

/** A number with thousands separators. */
export function num(n: number): string {
  return n.toLocaleString('en-US');
}
