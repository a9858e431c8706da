import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Subscription } from 'rxjs';
import { InvalidInputError } from '../../log/errors';
import type { Store } from '../library/store';
import { assertTypeName } from '../library/validate';
import { toRpcError } from './errors';
import type { SubscriberView } from './metrics';

/** Limits of the event streams. */
export interface SseOptions {
  /** A subscriber whose unsent backlog exceeds this many bytes is dropped (it can resume by Last-Event-ID). */
  maxBufferBytes: number;
  /** A comment line is sent this often so proxies and clients see a live connection. */
  heartbeatMs: number;
  /** Most subscribers at once; more are refused with 503. */
  maxClients: number;
}

/** Where a stream starts: an explicit first position, or the next event after the head. */
export interface StreamStart {
  from?: number;
  types?: string[];
}

interface Client {
  context: string;
  position: number;
  res: ServerResponse;
  stop(): void;
}

/**
 * Parse where an event stream starts. `Last-Event-ID: P` resumes at P+1 (and wins over `?from=`, which
 * a reconnecting EventSource repeats); `?from=P` starts at P; neither means only new events.
 */
export function parseStreamStart(req: IncomingMessage, query: URLSearchParams): StreamStart {
  const start: StreamStart = {};
  const lastId = req.headers['last-event-id'];
  const from = query.get('from');
  if (typeof lastId === 'string' && lastId !== '') {
    if (!/^\d{1,15}$/.test(lastId)) throw new InvalidInputError('Last-Event-ID must be a log position', { field: 'Last-Event-ID' });
    start.from = Number(lastId) + 1;
  } else if (from !== null) {
    if (!/^\d{1,15}$/.test(from)) throw new InvalidInputError('from must be a log position (an integer >= 0)', { field: 'from' });
    start.from = Math.max(1, Number(from));
  }
  const types = query.get('types');
  if (types !== null) {
    start.types = types.split(',').filter((t) => t !== '');
    for (const type of start.types) assertTypeName(type);
  }
  return start;
}

/**
 * Server-Sent Events from a store's change feed: the SSE id is the log position, each event's data is
 * the stored event as JSON. A subscriber that does not keep up is dropped once its backlog passes the
 * limit, never buffered without bound; it resumes without a gap by reconnecting with Last-Event-ID.
 */
export class EventStreams implements SubscriberView {
  private readonly clients = new Set<Client>();

  constructor(
    private readonly options: SseOptions,
    private readonly onDrop: (context: string, position: number) => void,
  ) {}

  get size(): number {
    return this.clients.size;
  }

  get full(): boolean {
    return this.clients.size >= this.options.maxClients;
  }

  positions(): Array<{ context: string; position: number }> {
    return [...this.clients].map(({ context, position }) => ({ context, position }));
  }

  /** Stream the store's events to the response until the client goes away or the server closes. */
  async open(res: ServerResponse, store: Store, context: string, start: StreamStart): Promise<void> {
    const head = await store.log.head();
    const from = start.from ?? head + 1;
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.write(`: osis events of context ${context} from position ${from}\nretry: 2000\n\n`);
    if (from > head + 1) {
      // A client resuming past the head (its position came from another store, or a restored backup) would
      // otherwise wait silently and skip whatever is appended up to its position.
      const message = `resuming after position ${from - 1}, but the log of context ${context} ends at ${head}: events are sent from position ${from} once they exist`;
      res.write(`: ${message}\nevent: warning\ndata: ${JSON.stringify({ code: 'PAST_HEAD', head, from, message })}\n\n`);
    }
    let subscription: Subscription | undefined;
    const heartbeat = setInterval(() => res.write(': ping\n\n'), this.options.heartbeatMs);
    heartbeat.unref();
    const client: Client = {
      context,
      position: from - 1,
      res,
      stop: () => {
        clearInterval(heartbeat);
        subscription?.unsubscribe();
        this.clients.delete(client);
      },
    };
    this.clients.add(client);
    res.on('close', client.stop);
    subscription = store.changes({ from, ...(start.types ? { types: start.types } : {}) }).subscribe({
      next: (event) => {
        client.position = event.position;
        res.write(`id: ${event.position}\ndata: ${JSON.stringify(event)}\n\n`);
        if (res.writableLength > this.options.maxBufferBytes) {
          client.stop();
          this.onDrop(context, client.position);
          res.destroy();
        }
      },
      error: (error) => {
        res.end(`event: error\ndata: ${JSON.stringify(toRpcError(error))}\n\n`);
        client.stop();
      },
      complete: () => {
        client.stop();
        if (!res.writableEnded) res.end();
      },
    });
    if (res.destroyed) client.stop();
  }

  /** End every stream (graceful shutdown): clients see a clean end and can resume elsewhere. */
  closeAll(): void {
    for (const client of [...this.clients]) {
      client.stop();
      if (!client.res.writableEnded) client.res.end();
    }
  }
}
