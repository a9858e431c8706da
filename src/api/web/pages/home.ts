import { indexedFields } from '../../library/schema';
import { html, type Html } from '../html';
import { ctx, facts, href, num, page, segment } from '../layout';
import type { PageInput } from './page-input';

/** `GET /` and `/index.json`. */
export interface HomeData {
  context: string;
  contexts: string[];
  backend: string;
  head: number;
  types: Array<{ type: string; count: number; declared: boolean; indexed: readonly string[]; text: readonly string[] | null }>;
}

/** Contexts, types with their (maintained) counts, the log head and the backend. */
export async function loadHome(input: PageInput): Promise<HomeData> {
  const { store } = input;
  await store.catchUp();
  const counts = await store.projections.counts();
  const names = [...new Set([...Object.keys(counts), ...Object.keys(store.schema.types)])].sort();
  return {
    context: input.context,
    contexts: input.contexts,
    backend: store.backendName,
    head: await store.log.head(),
    types: names.map((type) => ({
      type,
      count: counts[type] ?? 0,
      declared: Object.prototype.hasOwnProperty.call(store.schema.types, type),
      indexed: indexedFields(store.schema, type),
      text: store.schema.types[type]?.text ?? null,
    })),
  };
}

export function renderHome(data: HomeData, input: PageInput): Html {
  const c = ctx(data.context);
  const rows = data.types.map(
    (t) => html`<tr>
  <td><a href="${href(`/t/${segment(t.type)}`, c)}">${t.type}</a></td>
  <td class="num">${num(t.count)}</td>
  <td>${t.indexed.length > 0 ? t.indexed.join(', ') : html`<span class="muted">none</span>`}</td>
  <td>${t.text ? t.text.join(', ') : html`<span class="muted">${t.declared ? 'all text fields' : 'schemaless: all text fields'}</span>`}</td>
</tr>`,
  );
  const body = html`<h1>Context <span class="ident">${data.context}</span></h1>
${facts([
  ['Backend', data.backend],
  ['Log head', html`<a href="${href('/log', c)}">${num(data.head)}</a>`],
  ['Contexts', data.contexts.map((name, i) => html`${i > 0 ? ', ' : ''}<a href="${href('/', ctx(name))}">${name}</a>`)],
])}
<h2>Types</h2>
${data.types.length === 0
  ? html`<p class="muted">No objects yet. Create one over JSON-RPC (<code>TYPE_new</code>) or with <code>osis new</code>.</p>`
  : html`<div class="scroll"><table id="types">
<thead><tr><th>Type</th><th class="num">Objects</th><th>Indexed fields</th><th>Full text</th></tr></thead>
<tbody>${rows}</tbody>
</table></div>`}`;
  return page({ title: `Context ${data.context}`, context: data.context, contexts: data.contexts, path: '/', section: 'home', json: href('/index.json', c), ...input.frame }, body);
}
