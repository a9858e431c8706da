import type { IntegrityProblem } from '../../log/event-log';
import { isOsisError } from '../../log/errors';
import type { Store } from '../library/store';
import { ServiceError } from '../service/errors';

/** What a job does: a blue-green rebuild of the projections, or a parity check (`verify`). */
export type JobKind = 'rebuild' | 'verify';

/** A rebuild or parity check started from the projections page, with its progress. */
export interface Job {
  id: number;
  kind: JobKind;
  context: string;
  state: 'running' | 'done' | 'failed';
  /** Log positions folded so far, out of `total` (the head when the job started reading). */
  done: number;
  total: number;
  started_at: string;
  finished_at: string | null;
  /** rebuild: events, objects, position, parity; verify: ok, events, objects and the first problems. */
  result: Record<string, unknown> | null;
  error: string | null;
}

const PROBLEMS_KEPT = 20;

/**
 * Runs at most one job per context at a time in this process and keeps the last one for the page to
 * show. Progress comes from the store's own progress callbacks.
 */
export class JobRunner {
  private readonly jobs = new Map<string, Job>();
  private next = 1;

  /** The running or last finished job of a context. */
  current(context: string): Job | undefined {
    return this.jobs.get(context);
  }

  /** Start a job; a second one while one runs in the same context is a conflict. */
  start(context: string, kind: JobKind, store: Store): Job {
    const running = this.jobs.get(context);
    if (running?.state === 'running') {
      throw new ServiceError('INVALID_REQUEST', `a ${running.kind} is already running in context ${context}`, { job: running.id, conflict: true });
    }
    const job: Job = {
      id: this.next++,
      kind,
      context,
      state: 'running',
      done: 0,
      total: 0,
      started_at: new Date().toISOString(),
      finished_at: null,
      result: null,
      error: null,
    };
    this.jobs.set(context, job);
    const progress = (done: number, total: number) => {
      job.done = done;
      job.total = total;
    };
    const work = kind === 'rebuild' ? store.rebuild(progress).then((r) => ({ ...r })) : store.verify(progress).then(verifyResult);
    work.then(
      (result) => {
        job.result = result;
        job.done = job.total = Math.max(job.total, Number(result.position ?? result.events ?? job.total));
        job.state = 'done';
        job.finished_at = new Date().toISOString();
      },
      (error: unknown) => {
        job.error = isOsisError(error) ? `${error.code}: ${error.message}` : 'internal error (see the server log)';
        job.state = 'failed';
        job.finished_at = new Date().toISOString();
      },
    );
    return job;
  }
}

function verifyResult(report: { ok: boolean; events: number; objects: number; problems: IntegrityProblem[] }): Record<string, unknown> {
  return { ok: report.ok, events: report.events, objects: report.objects, problems: report.problems.slice(0, PROBLEMS_KEPT), problem_count: report.problems.length };
}
