import { html, type Html } from '../html';
import type { Job } from '../jobs';
import { ctx, facts, href, num, page } from '../layout';
import type { PageInput } from './page-input';

/** One projection, subscriber or user projection with its checkpoint and lag. */
export interface ProjectionRow {
  name: string;
  kind: 'built-in' | 'subscriber' | 'projection';
  position: number;
  lag_events: number;
  /** How long the oldest event it has not handled has waited (0 when caught up). */
  lag_ms: number;
}

/** `GET /projections` and `/projections.json`. */
export interface ProjectionsData {
  context: string;
  backend: string;
  head: number;
  projections: ProjectionRow[];
  /** The running or last rebuild / parity check started here. */
  job: Job | null;
}

/** Checkpoints and lag of every projection; the job (rebuild or parity check) of this context. */
export async function loadProjections(input: PageInput, job: Job | undefined): Promise<ProjectionsData> {
  const { store } = input;
  await store.catchUp();
  const head = await store.log.head();
  const positions: Array<[string, ProjectionRow['kind'], number]> = Object.entries(await store.projections.checkpoints()).map(([name, p]) => [name, 'built-in', p]);
  for (const c of await store.projections.subscriberCheckpoints()) positions.push([c.name, c.kind, c.position]);
  const now = Date.now();
  const projections: ProjectionRow[] = [];
  for (const [name, kind, position] of positions) {
    let lagMs = 0;
    if (position < head) {
      const [oldest] = await store.log.readAll(position + 1, { limit: 1 });
      if (oldest) lagMs = Math.max(0, now - Date.parse(oldest.ts));
    }
    projections.push({ name, kind, position, lag_events: Math.max(0, head - position), lag_ms: lagMs });
  }
  return { context: input.context, backend: store.backendName, head, projections, job: job ?? null };
}

function jobView(job: Job | null, jobUrl: string): Html {
  if (!job) return html`<p class="muted" id="job">No rebuild or parity check has run from this page since the server started.</p>`;
  const pct = job.total > 0 ? Math.round((job.done / job.total) * 100) : 0;
  const result = job.result ?? {};
  const outcome =
    job.state === 'failed'
      ? html`<p class="error" id="job-outcome">Failed: ${job.error}</p>`
      : job.state === 'running'
        ? ''
        : job.kind === 'verify'
          ? html`<p class="${result.ok ? 'ok' : 'error'}" id="job-outcome">${result.ok ? `Parity holds: ${num(Number(result.objects))} objects equal a fresh fold of ${num(Number(result.events))} events.` : `${num(Number(result.problem_count))} problems:`}</p>
            ${Array.isArray(result.problems) && result.problems.length > 0 ? html`<ul class="problems">${(result.problems as Array<{ where: string; message: string }>).map((p) => html`<li><code>${p.where}</code> ${p.message}</li>`)}</ul>` : ''}`
          : html`<p class="ok" id="job-outcome">Rebuilt ${num(Number(result.objects))} objects from ${num(Number(result.events))} events up to position ${num(Number(result.position))}; parity ${String(result.parity)}.</p>`;
  return html`<section class="job ${job.state}" id="job" data-job="${jobUrl}" data-state="${job.state}">
  <h3>${job.kind === 'rebuild' ? 'Rebuild' : 'Parity check'} #${job.id}: <span id="job-state">${job.state}</span></h3>
  <progress id="job-progress" max="${Math.max(job.total, 1)}" value="${job.done}">${pct}%</progress>
  <span id="job-count">${num(job.done)} / ${num(job.total)}</span>
  ${outcome}
</section>`;
}

export function renderProjections(data: ProjectionsData, input: PageInput): Html {
  const c = ctx(data.context);
  const running = data.job?.state === 'running';
  const action = (path: string, label: string, hint: string) => html`<form method="post" action="${href(path, c)}" class="inline">
  <input type="hidden" name="_csrf" value="${input.csrf}">
  <button type="submit"${running ? html` disabled` : ''} title="${hint}">${label}</button>
</form>`;
  const rows = data.projections.map(
    (p) => html`<tr data-name="${p.name}">
  <td>${p.name}</td><td>${p.kind}</td><td class="num">${num(p.position)}</td>
  <td class="num ${p.lag_events > 0 ? 'lagging' : ''}">${num(p.lag_events)}</td><td class="num">${num(p.lag_ms)}</td>
</tr>`,
  );
  const body = html`<h1>Projections</h1>
${facts([
  ['Backend', data.backend],
  ['Log head', num(data.head)],
])}
<div class="scroll"><table id="projections">
<thead><tr><th>Name</th><th>Kind</th><th class="num">Checkpoint</th><th class="num">Lag (events)</th><th class="num">Lag (ms)</th></tr></thead>
<tbody>${rows}</tbody>
</table></div>
<h2>Parity and rebuild</h2>
<p class="actions">
${action('/projections/verify', 'Check parity', 'fold the whole log and compare it with the projections')}
${action('/projections/rebuild', 'Rebuild projections', 'blue-green: build new tables from the log beside the live ones, check parity, swap')}
</p>
${jobView(data.job, href('/projections/job.json', c))}`;
  return page(
    { title: 'Projections', context: data.context, contexts: input.contexts, path: '/projections', section: 'projections', json: href('/projections.json', c), ...input.frame },
    body,
  );
}
