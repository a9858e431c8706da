import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ContextRegistry } from './contexts';
import { codeOf } from './errors';

/** Where SSE subscribers stand, per context: how many and the last position each was sent. */
export interface SubscriberView {
  positions(): Array<{ context: string; position: number }>;
}

/**
 * Prometheus metrics on a registry of the server's own (never the global one): request counts and
 * latencies per method, appended events, head position, projection lag and SSE subscriber lag.
 * Method labels are bounded by the caller (undeclared types collapse into `*_OP`).
 */
export class ServiceMetrics {
  readonly registry = new Registry();
  private readonly calls: Counter<'method' | 'code'>;
  private readonly callSeconds: Histogram<'method'>;
  private readonly http: Counter<'route' | 'status'>;
  private readonly appended: Counter<'context'>;
  private readonly dropped: Counter<'context'>;
  /** Labelled children by label values (labels are bounded), so the hot path skips label hashing. */
  private readonly counters = new Map<string, Counter.Internal>();
  private readonly histograms = new Map<string, Histogram.Internal<string>>();

  constructor(contexts: ContextRegistry, subscribers: SubscriberView) {
    const registers = [this.registry];
    this.calls = new Counter({ name: 'osis_rpc_calls_total', help: 'JSON-RPC calls by method and result code', labelNames: ['method', 'code'], registers });
    this.callSeconds = new Histogram({
      name: 'osis_rpc_call_duration_seconds',
      help: 'JSON-RPC call latency by method',
      labelNames: ['method'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.http = new Counter({ name: 'osis_http_requests_total', help: 'HTTP requests by route and status', labelNames: ['route', 'status'], registers });
    this.appended = new Counter({ name: 'osis_events_appended_total', help: 'Events appended through the service', labelNames: ['context'], registers });
    this.dropped = new Counter({ name: 'osis_sse_dropped_total', help: 'SSE subscribers dropped for reading too slowly', labelNames: ['context'], registers });
    const heads = async () => {
      const result: Array<{ context: string; head: number; checkpoints: Record<string, number> }> = [];
      for (const [context, store] of await contexts.openStores()) {
        try {
          const stats = await store.stats();
          result.push({ context, head: stats.head, checkpoints: stats.checkpoints });
        } catch {
          // a closing store has no figures
        }
      }
      return result;
    };
    new Gauge({
      name: 'osis_log_head_position',
      help: 'Position of the last committed event, per context',
      labelNames: ['context'],
      registers,
      async collect() {
        this.reset();
        for (const { context, head } of await heads()) this.set({ context }, head);
      },
    });
    new Gauge({
      name: 'osis_projection_lag_events',
      help: 'Events committed but not yet applied by a projection, per context',
      labelNames: ['context', 'projection'],
      registers,
      async collect() {
        this.reset();
        for (const { context, head, checkpoints } of await heads()) {
          for (const [projection, position] of Object.entries(checkpoints)) this.set({ context, projection }, Math.max(0, head - position));
        }
      },
    });
    new Gauge({
      name: 'osis_sse_subscribers',
      help: 'Connected SSE subscribers, per context',
      labelNames: ['context'],
      registers,
      collect() {
        this.reset();
        const counts = new Map<string, number>();
        for (const { context } of subscribers.positions()) counts.set(context, (counts.get(context) ?? 0) + 1);
        for (const [context, n] of counts) this.set({ context }, n);
      },
    });
    new Gauge({
      name: 'osis_sse_subscriber_lag_events',
      help: 'Largest distance between the head and what an SSE subscriber was sent, per context',
      labelNames: ['context'],
      registers,
      async collect() {
        this.reset();
        const headOf = new Map((await heads()).map((h) => [h.context, h.head]));
        const lag = new Map<string, number>();
        for (const { context, position } of subscribers.positions()) {
          lag.set(context, Math.max(lag.get(context) ?? 0, Math.max(0, (headOf.get(context) ?? position) - position)));
        }
        for (const [context, value] of lag) this.set({ context }, value);
      },
    });
  }

  /** Count one JSON-RPC call. */
  call(method: string, seconds: number, error: unknown): void {
    const code = error === undefined ? 'OK' : codeOf(error);
    cached(this.counters, `c\0${method}\0${code}`, () => this.calls.labels(method, code)).inc();
    cached(this.histograms, method, () => this.callSeconds.labels(method)).observe(seconds);
  }

  /** Count one HTTP request. */
  request(route: string, status: number): void {
    cached(this.counters, `h\0${route}\0${status}`, () => this.http.labels(route, String(status))).inc();
  }

  append(context: string, events: number): void {
    this.appended.inc({ context }, events);
  }

  droppedSubscriber(context: string): void {
    this.dropped.inc({ context });
  }
}

function cached<T>(children: Map<string, T>, key: string, make: () => T): T {
  let child = children.get(key);
  if (child === undefined) {
    child = make();
    children.set(key, child);
  }
  return child;
}
