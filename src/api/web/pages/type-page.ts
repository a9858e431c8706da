import { InvalidInputError } from '../../../log/errors';
import { indexValue, indexedFields } from '../../library/schema';
import { encodeCursor } from '../../library/cursor';
import { formatScalar, parseFilter, parseScalar } from '../../library/filter';
import { html, type Html } from '../html';
import { cellText, ctx, href, num, page, segment } from '../layout';
import type { PageInput } from './page-input';

type Scalar = string | number | boolean;

/** How many matches facet counts and match counts look at when a search or filter is active. */
export const MATCH_SAMPLE = 2000;
const RESERVED = new Set(['q', 'cursor', 'limit', 'context']);
const MAX_COLUMNS = 12;
const FACET_VALUES = 10;
const FACET_MAX_DISTINCT = 200;

/** One facet as shown: counts over the whole type, over every match, or over the first MATCH_SAMPLE matches. */
export interface FacetView {
  field: string;
  scope: 'type' | 'matches' | 'first_matches';
  /** More distinct values than a facet can usefully show (values is then empty). */
  too_many: boolean;
  values: Array<{ value: string | number; count: number; selected: boolean }>;
}

/** `GET /t/TYPE` and `/t/TYPE.json`. */
export interface TypeData {
  context: string;
  type: string;
  /** Live objects of the type (maintained count). */
  total: number;
  q: string | null;
  filters: Record<string, Scalar[]>;
  /** Objects matching q and the filters; `exact: false` means "at least". */
  matches: { count: number; exact: boolean };
  indexed: readonly string[];
  columns: string[];
  rows: Array<Record<string, unknown>>;
  limit: number;
  cursor: string | null;
  next_cursor: string | null;
  facets: FacetView[];
}

/** A paged table of one type's objects, with full-text search, filters and facets on indexed fields. */
export async function loadType(input: PageInput, type: string): Promise<TypeData> {
  const { store, query } = input;
  const collection = store.collection(type);
  await store.catchUp();
  const indexed = indexedFields(store.schema, type);
  const declared = store.schema.types[type];
  const facetFields = declared ? declared.index.filter((f) => !declared.unique.includes(f)) : [];
  const filters: Record<string, Scalar[]> = {};
  for (const [key, raw] of query) {
    if (RESERVED.has(key)) continue;
    if (!indexed.includes(key)) {
      const known = indexed.length > 0 ? `filters take ${indexed.join(', ')}` : 'it has no indexed fields (declare them with index = [...] in the schema)';
      throw new InvalidInputError(`${key} is not an indexed field of ${type}: ${known}`, { field: key });
    }
    (filters[key] ??= []).push(parseScalar(raw) as Scalar);
  }
  const q = query.get('q')?.trim() || null;
  const limit = pageLimit(query.get('limit'));
  const cursor = query.get('cursor') || null;
  const filter = Object.fromEntries(Object.entries(filters).map(([f, vs]) => [f, vs.length === 1 ? vs[0] : { in: vs }]));
  const text = q ? { text: q } : {};
  const projections = store.projections;
  const total = (await projections.counts())[type] ?? 0;
  const fields = Object.keys(filters);
  let matches = { count: total, exact: true };
  let facets: FacetView[];
  let found: { items: unknown[]; next_cursor?: string } | undefined;
  const selected = (field: string, value: string | number) => (filters[field] ?? []).some((v) => indexValue(v) === value);
  if (q === null && fields.length === 0) {
    facets = [];
    for (const field of facetFields) {
      const facet = await projections.facet(type, field, FACET_VALUES, FACET_MAX_DISTINCT);
      facets.push({ field, scope: 'type', too_many: facet.distinct > FACET_MAX_DISTINCT, values: facet.values.map((v) => ({ ...v, selected: false })) });
    }
  } else {
    let sample: string[];
    let complete: boolean;
    if (q === null) {
      const page = await collection._find({ filter, limit: MATCH_SAMPLE });
      [sample, complete] = [page.items, page.next_cursor === undefined];
    } else {
      // The ranked page is asked for itself (champion lists answer a frequent word without ranking every
      // match); the facets and the count take the first matches unranked, which costs only the sample.
      found = await collection._find_full({ filter, text: q, limit, ...(cursor ? { cursor } : {}) });
      const page = await projections.find(type, { filter: parseFilter(filter), text: q, unranked: true, limit: MATCH_SAMPLE }, false);
      [sample, complete] = [page.items as string[], page.nextOffset === undefined];
    }
    const single = q === null && fields.length === 1 && filters[fields[0]].length === 1 ? indexValue(filters[fields[0]][0]) : undefined;
    matches = single !== undefined ? { count: await projections.countOf(type, fields[0], single), exact: true } : { count: sample.length, exact: complete };
    const byField = await projections.facetsOf(type, sample);
    facets = facetFields.map((field) => ({
      field,
      scope: complete ? 'matches' : 'first_matches',
      too_many: false,
      values: (byField.get(field) ?? []).slice(0, FACET_VALUES).map((v) => ({ ...v, selected: selected(field, v.value) })),
    }));
    if (cursor === null && q === null) found = await firstPage(input, type, sample, limit, complete);
  }
  found ??= await collection._find_full({ filter, ...text, limit, ...(cursor ? { cursor } : {}) });
  const rows = found.items as Array<Record<string, unknown>>;
  return {
    context: input.context,
    type,
    total,
    q,
    filters,
    matches,
    indexed,
    columns: columnsOf(rows),
    rows,
    limit,
    cursor,
    next_cursor: found.next_cursor ?? null,
    facets,
  };
}

/** The first page of a filtered list, taken from the head of its sample (same order, same cursor as `_find_full` gives). */
async function firstPage(input: PageInput, type: string, sids: string[], limit: number, complete: boolean): Promise<{ items: unknown[]; next_cursor?: string }> {
  const projections = input.store.projections;
  const items: unknown[] = [];
  for (const sid of sids.slice(0, limit)) {
    const object = await projections.object(type, sid);
    if (object) items.push(object);
  }
  const more = sids.length > limit || !complete;
  if (!more || items.length === 0) return { items };
  return { items, next_cursor: encodeCursor({ afterSid: sids[limit - 1] }) };
}

function pageLimit(raw: string | null): number {
  if (raw === null || raw === '') return 50;
  if (!/^\d{1,4}$/.test(raw) || Number(raw) < 1 || Number(raw) > 500) throw new InvalidInputError('limit must be an integer from 1 to 500', { field: 'limit' });
  return Number(raw);
}

function columnsOf(rows: ReadonlyArray<Record<string, unknown>>): string[] {
  const columns = new Set<string>(['sid']);
  for (const row of rows) for (const key of Object.keys(row)) if (columns.size < MAX_COLUMNS) columns.add(key);
  return [...columns];
}

/** The page's URL with the filters changed (paging restarts). */
function withFilters(data: TypeData, filters: Record<string, Scalar[]>): string {
  const query = new URLSearchParams();
  if (data.context !== 'default') query.set('context', data.context);
  if (data.q) query.set('q', data.q);
  for (const [field, values] of Object.entries(filters)) for (const v of values) query.append(field, formatScalar(v));
  const text = query.toString();
  return `/t/${segment(data.type)}${text ? `?${text}` : ''}`;
}

function toggled(data: TypeData, field: string, value: string | number): Record<string, Scalar[]> {
  const current = data.filters[field] ?? [];
  const without = current.filter((v) => indexValue(v) !== value);
  const next = { ...data.filters, [field]: without.length < current.length ? without : [...current, value] };
  if (next[field].length === 0) delete next[field];
  return next;
}

function renderFacet(data: TypeData, facet: FacetView): Html {
  const scope = facet.scope === 'type' ? 'all objects' : facet.scope === 'matches' ? 'matches' : `first ${num(MATCH_SAMPLE)} matches`;
  const items = facet.too_many
    ? html`<li class="muted">more than ${FACET_MAX_DISTINCT} values</li>`
    : facet.values.length === 0
      ? html`<li class="muted">no values</li>`
      : facet.values.map(
          (v) => html`<li${v.selected ? html` class="selected"` : ''}><a href="${withFilters(data, toggled(data, facet.field, v.value))}">${cellText(v.value, 40)}</a> <span class="count">${num(v.count)}</span></li>`,
        );
  return html`<section class="facet" data-field="${facet.field}"><h3>${facet.field} <small class="muted">${scope}</small></h3><ul>${items}</ul></section>`;
}

export function renderType(data: TypeData, input: PageInput): Html {
  const c = ctx(data.context);
  const chips = Object.entries(data.filters).flatMap(([field, values]) =>
    values.map((v) => html`<a class="chip" href="${withFilters(data, toggled(data, field, indexValue(v)!))}" title="remove this filter">${field} = ${cellText(v, 40)} ✕</a>`),
  );
  const hidden = [
    data.context !== 'default' ? html`<input type="hidden" name="context" value="${data.context}">` : '',
    Object.entries(data.filters).map(([field, values]) => values.map((v) => html`<input type="hidden" name="${field}" value="${formatScalar(v)}">`)),
  ];
  const objectHref = (sid: string) => href(`/t/${segment(data.type)}/${segment(sid)}`, c);
  const rows = data.rows.map(
    (row) => html`<tr>${data.columns.map((col) =>
      col === 'sid' ? html`<td><a href="${objectHref(String(row.sid))}">${String(row.sid)}</a></td>` : html`<td>${cellText(row[col])}</td>`,
    )}</tr>`,
  );
  const filtered = data.q !== null || Object.keys(data.filters).length > 0;
  const query = new URLSearchParams(withFilters(data, data.filters).split('?')[1] ?? '');
  if (data.limit !== 50) query.set('limit', String(data.limit));
  const next = data.next_cursor ? `/t/${segment(data.type)}?${new URLSearchParams([...query, ['cursor', data.next_cursor]])}` : null;
  const first = data.cursor ? `/t/${segment(data.type)}${query.size > 0 ? `?${query}` : ''}` : null;
  const body = html`<h1><a href="${href('/', c)}" class="muted">Types</a> / <span class="ident">${data.type}</span></h1>
<p class="summary"><strong>${num(data.total)}</strong> objects${filtered ? html`, <strong id="match-count">${data.matches.exact ? '' : 'at least '}${num(data.matches.count)}</strong> matching` : ''}</p>
<form method="get" action="/t/${segment(data.type)}" class="search" role="search">
  ${hidden}
  <input type="search" name="q" value="${data.q ?? ''}" placeholder="Search ${data.type} (words, &quot;a phrase&quot;, pre*, a OR b)" aria-label="Full-text search">
  <button type="submit">Search</button>
</form>
${chips.length > 0 || data.q ? html`<p class="chips">${data.q ? html`<a class="chip" href="${withFilters({ ...data, q: null }, data.filters)}">text: ${data.q} ✕</a>` : ''}${chips}</p>` : ''}
<div class="browse">
  ${data.facets.length > 0 ? html`<aside class="facets">${data.facets.map((f) => renderFacet(data, f))}</aside>` : ''}
  <div class="results">
    ${data.rows.length === 0
      ? html`<p class="muted">No objects${filtered ? ' match' : ''}.</p>`
      : html`<div class="scroll"><table id="objects"><thead><tr>${data.columns.map((c) => html`<th>${c}</th>`)}</tr></thead><tbody>${rows}</tbody></table></div>`}
    <nav class="pager">${first ? html`<a href="${first}">⇤ First page</a>` : ''}${next ? html`<a href="${next}" rel="next">Next page →</a>` : ''}</nav>
  </div>
</div>`;
  const jsonQuery = new URLSearchParams(query);
  if (data.cursor) jsonQuery.set('cursor', data.cursor);
  return page(
    { title: data.type, context: data.context, contexts: input.contexts, path: `/t/${segment(data.type)}`, section: 'types', json: `/t/${segment(data.type)}.json${jsonQuery.size > 0 ? `?${jsonQuery}` : ''}`, ...input.frame },
    body,
  );
}
