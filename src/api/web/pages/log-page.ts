import { InvalidInputError } from '../../../log/errors';
import type { StoredEvent } from '../../../log/event';
import { assertTypeName } from '../../library/validate';
import { html, type Html } from '../html';
import { cellText, ctx, href, num, page, segment } from '../layout';
import type { PageInput } from './page-input';

const PAGE = 50;
/** A filtered page looks back at most this many events, then offers the older ones as a link. */
const SCAN_LIMIT = 20_000;

/** `GET /log` and `/log.json`. */
export interface LogData {
  context: string;
  type: string | null;
  head: number;
  /** Events before this position only (paging back), or null for the newest. */
  before: number | null;
  /** Newest first. */
  events: StoredEvent[];
  /** `before` of the next (older) page, or null at the start of the log. */
  older: number | null;
}

/** The global log, newest first, optionally one type; the page goes live from `head` when it shows the newest. */
export async function loadLog(input: PageInput): Promise<LogData> {
  const { store, query } = input;
  const type = query.get('type') || null;
  if (type !== null) assertTypeName(type);
  const rawBefore = query.get('before');
  if (rawBefore !== null && !/^\d{1,15}$/.test(rawBefore)) throw new InvalidInputError('before must be a log position', { field: 'before' });
  const head = await store.log.head();
  const end = rawBefore !== null ? Math.min(Number(rawBefore), head + 1) : head + 1;
  const events: StoredEvent[] = [];
  let low = end;
  let window = PAGE;
  while (events.length < PAGE && low > 1 && end - low < SCAN_LIMIT) {
    const from = Math.max(1, low - window);
    const batch = await store.log.readAll(from, { limit: low - from });
    const wanted = batch.filter((e) => e.position < low && (type === null || e.type === type));
    events.push(...wanted.reverse().slice(0, PAGE - events.length));
    if (events.length === PAGE) low = events[events.length - 1].position;
    else low = from;
    window = Math.min(window * 4, 5000);
  }
  return { context: input.context, type, head, before: rawBefore !== null ? end : null, events, older: low > 1 ? low : null };
}

/** One log row; the client script builds the same cells for live events (assets/web/osis.js). */
function row(event: StoredEvent, context: string): Html {
  const objectHref = href(`/t/${segment(event.type)}/${segment(event.sid)}`, { ...ctx(context), at: event.position });
  return html`<tr class="${event.kind}" data-position="${event.position}">
  <td class="num">${event.position}</td><td><time datetime="${event.ts}">${event.ts}</time></td><td>${event.type}</td>
  <td><a href="${objectHref}">${event.sid}</a></td><td><span class="kind">${event.kind}</span></td><td class="num">${event.version}</td>
  <td class="data">${cellText(event.data, 160)}</td>
</tr>`;
}

export function renderLog(data: LogData, input: PageInput): Html {
  const c = ctx(data.context);
  const live = data.before === null;
  const stream = href('/events', { ...c, from: data.head + 1, types: data.type ?? undefined });
  const body = html`<h1>Log <small class="muted">head ${num(data.head)}</small></h1>
<form method="get" action="/log" class="search">
  ${data.context !== 'default' ? html`<input type="hidden" name="context" value="${data.context}">` : ''}
  <label>Type <input name="type" value="${data.type ?? ''}" placeholder="all types" size="16" pattern="[a-z][a-z0-9_]{0,62}"></label>
  <button type="submit">Filter</button>
  ${data.type ? html`<a href="${href('/log', c)}">all types</a>` : ''}
</form>
${live
  ? html`<p class="live" id="live" data-stream="${stream}" data-context="${data.context}" hidden>
  <span class="status" id="live-status">connecting…</span>
  <button type="button" id="pause">Pause</button><button type="button" id="resume" hidden>Resume</button>
  <span id="pending" class="muted"></span>
</p>`
  : html`<p class="notice">Older events, before position ${num(data.before ?? 0)}. <a href="${href('/log', { ...c, type: data.type ?? undefined })}">Newest, live</a></p>`}
<div class="scroll"><table id="log">
<thead><tr><th class="num">Position</th><th>Time</th><th>Type</th><th>Sid</th><th>Kind</th><th class="num">Version</th><th>Data</th></tr></thead>
<tbody>${data.events.map((e) => row(e, data.context))}</tbody>
</table></div>
${data.events.length === 0 ? html`<p class="muted" id="log-empty">No events${data.type ? ` of type ${data.type}` : ''} here.</p>` : ''}
<nav class="pager">${data.older !== null ? html`<a href="${href('/log', { ...c, type: data.type ?? undefined, before: data.older })}" rel="next">Older events →</a>` : ''}</nav>`;
  return page(
    {
      title: 'Log',
      context: data.context,
      contexts: input.contexts,
      path: '/log',
      section: 'log',
      json: href('/log.json', { ...c, type: data.type ?? undefined, before: data.before ?? undefined }),
      ...input.frame,
    },
    body,
  );
}
