import type { StoredEvent } from '../../../log/event';
import type { ObjectRecord } from '../../library/collection';
import { parsePointInTime, resolveAt } from '../../library/point-in-time';
import { diffObjects, type FieldDiff } from '../diff';
import { html, type Html, type Renderable } from '../html';
import { ctx, facts, fullText, href, num, page, segment } from '../layout';
import type { PageInput } from './page-input';

const HISTORY_SHOWN = 500;

/** One event of the object's history with what it changed. */
export interface HistoryEntry {
  position: number;
  version: number;
  kind: StoredEvent['kind'];
  ts: string;
  changes: FieldDiff;
}

/** `GET /t/TYPE/SID` and `/t/TYPE/SID.json`. */
export interface ObjectPageData {
  context: string;
  type: string;
  sid: string;
  /** The `at` asked for (a log position or ISO time), or null for now. */
  at: string | null;
  /** True when the object's last event is `erased` (crypto-shredded). */
  erased: boolean;
  /** The object now, or null when it is deleted. */
  now: ObjectRecord | null;
  /** The object as it was at `at` (or now); null when it did not exist then. */
  shown: ObjectRecord | null;
  /** Newest first, at most 500 entries. */
  history: HistoryEntry[];
  history_total: number;
  /** Log positions to step to: the version before and after the one shown (null at either end). */
  steps: { older: number | null; newer: number | null };
}

/** The object with meta, its history with diffs, and the object as it was at `?at=`. */
export async function loadObject(input: PageInput, type: string, sid: string): Promise<ObjectPageData> {
  const collection = input.store.collection(type);
  const events = await collection._history(sid);
  const rawAt = input.query.get('at')?.trim() || null;
  const now = resolveAt(events, events[events.length - 1].position);
  let shown = now;
  let index = events.length - 1;
  if (rawAt !== null) {
    const point = parsePointInTime(rawAt);
    shown = resolveAt(events, rawAt);
    index = -1;
    events.forEach((e, i) => {
      if ('position' in point ? e.position <= point.position : Date.parse(e.ts) <= point.time) index = i;
    });
  }
  const history: HistoryEntry[] = [];
  let before: Record<string, unknown> | null = null;
  for (const event of events) {
    const after = event.kind === 'deleted' || event.kind === 'erased' ? null : event.data;
    history.push({ position: event.position, version: event.version, kind: event.kind, ts: event.ts, changes: diffObjects(before, after) });
    before = after;
  }
  return {
    context: input.context,
    type,
    sid,
    erased: events[events.length - 1].kind === 'erased',
    at: rawAt,
    now: now ?? null,
    shown: shown ?? null,
    history: history.reverse().slice(0, HISTORY_SHOWN),
    history_total: events.length,
    steps: {
      older: index > 0 ? events[index - 1].position : null,
      newer: index + 1 < events.length ? events[index + 1].position : null,
    },
  };
}

function changesOf(entry: HistoryEntry): Html {
  const line = (cls: string, sign: string, key: string, value: Renderable) => html`<li class="${cls}"><span class="sign">${sign}</span> <code>${key}</code> ${value}</li>`;
  const items = [
    ...Object.entries(entry.changes.added).map(([k, v]) => line('added', '+', k, html`<span class="value">${fullText(v)}</span>`)),
    ...Object.entries(entry.changes.removed).map(([k, v]) => line('removed', '−', k, html`<span class="value">${fullText(v)}</span>`)),
    ...Object.entries(entry.changes.changed).map(([k, v]) =>
      line('changed', '~', k, html`<span class="value old">${fullText(v.from)}</span> → <span class="value">${fullText(v.to)}</span>`),
    ),
  ];
  return items.length > 0 ? html`<ul class="diff">${items}</ul>` : html`<p class="muted">no field changed</p>`;
}

function fieldTable(record: ObjectRecord): Html {
  const rows = Object.entries(record.object).map(([k, v]) => html`<tr><th scope="row">${k}</th><td class="value">${fullText(v)}</td></tr>`);
  return html`<div class="scroll"><table class="fields" id="fields"><tbody>${rows}</tbody></table></div>`;
}

export function renderObject(data: ObjectPageData, input: PageInput): Html {
  const c = ctx(data.context);
  const self = `/t/${segment(data.type)}/${segment(data.sid)}`;
  const at = (position: number) => href(self, { ...c, at: position });
  const shown = data.shown;
  const status = data.at === null
    ? data.now
      ? ''
      : data.erased
        ? html`<p class="notice" id="erased">This object is erased: its data key is destroyed, so its personal values are gone. Its history keeps when each change happened.</p>`
        : html`<p class="notice">This object is deleted. Its history stays in the log.</p>`
    : html`<p class="notice" id="time-travel">As it was at <strong>${data.at}</strong>${shown ? html` (version ${shown.version})` : ': it did not exist then'}. <a href="${href(self, c)}">Back to now</a></p>`;
  const stepper = html`<nav class="stepper" aria-label="Versions">
  ${data.steps.older !== null ? html`<a href="${at(data.steps.older)}" rel="prev">← Older version</a>` : html`<span class="muted">← Older version</span>`}
  ${data.steps.newer !== null ? html`<a href="${at(data.steps.newer)}" rel="next">Newer version →</a>` : html`<span class="muted">Newer version →</span>`}
  <form method="get" action="${self}" class="inline">
    ${data.context !== 'default' ? html`<input type="hidden" name="context" value="${data.context}">` : ''}
    <label>At <input name="at" value="${data.at ?? ''}" placeholder="position or ISO time" size="24"></label>
    <button type="submit">Go</button>
  </form>
</nav>`;
  const history = data.history.map(
    (e) => html`<li class="event ${e.kind}" id="v${e.version}">
  <div class="event-head"><a href="${at(e.position)}">v${e.version}</a> <span class="kind">${e.kind}</span> at position <a href="${href('/log', { ...c, before: e.position + 1 })}">${num(e.position)}</a> <time datetime="${e.ts}">${e.ts}</time></div>
  ${changesOf(e)}
</li>`,
  );
  const body = html`<h1><a href="${href('/', c)}" class="muted">Types</a> / <a href="${href(`/t/${segment(data.type)}`, c)}">${data.type}</a> / <span class="ident">${data.sid}</span></h1>
${status}
${stepper}
${shown
  ? html`${facts([
      ['Version', String(shown.version)],
      ['Position', num(shown.position)],
      ['Created', html`<time>${shown.created_at}</time>`],
      ['Updated', html`<time>${shown.updated_at}</time>`],
    ])}${fieldTable(shown)}`
  : ''}
<h2>History <small class="muted">${num(data.history_total)} events${data.history_total > data.history.length ? `, newest ${data.history.length} shown` : ''}</small></h2>
<ol class="history" reversed>${history}</ol>`;
  return page({ title: `${data.type}/${data.sid}`, context: data.context, section: 'types', json: href(`${self}.json`, { ...c, at: data.at ?? undefined }), ...input.frame }, body);
}
