import { isCanonicalTimestamp } from '../../log/append-rules';
import { InvalidInputError } from '../../log/errors';
import type { ProposedEvent, StoredEvent } from '../../log/event';
import type { AppendOptions } from '../../log/event-log';
import { newEventId } from '../../log/ids';
import { encodeFrame, type EncodedFrame } from '../../log/otoml-record';
import { sortedCopy } from '../../log/otoml-value';
import type { Staging } from './append-staging';

/** A request to the group committer: a normal append, or already-positioned events being imported. */
export type AppendRequest =
  | { kind: 'append'; events: readonly ProposedEvent[]; options: AppendOptions }
  | { kind: 'import'; events: readonly StoredEvent[] };

/** A request checked and encoded: the events it stores (or replays) and the frames to write. */
export interface StagedRequest {
  events: StoredEvent[];
  frames: (EncodedFrame & { idempotencyKey?: string })[];
}

/**
 * Check one request against the log as staged so far and encode its frames. It is staged in its own
 * layer, folded into `staging` only when everything passed, so a failure leaves no trace. An append
 * repeating an idempotency key (earlier in the log or in this batch) replays the earlier events and
 * writes nothing.
 */
export function stageRequest(
  request: AppendRequest,
  staging: Staging,
  next: number,
  replays: Map<string, StoredEvent[]>,
  readRange: (first: number, last: number) => StoredEvent[],
): StagedRequest {
  const layer = staging.child();
  const staged = request.kind === 'append' ? stageAppend(request.events, request.options, layer, next, replays, readRange) : stageImport(request.events, layer, next);
  if (staged.frames.length > 0) {
    layer.commit();
    const key = request.kind === 'append' ? request.options.idempotencyKey : undefined;
    if (key !== undefined) replays.set(key, staged.events);
  }
  return staged;
}

function stageAppend(
  proposed: readonly ProposedEvent[],
  options: AppendOptions,
  layer: Staging,
  next: number,
  replays: Map<string, StoredEvent[]>,
  readRange: (first: number, last: number) => StoredEvent[],
): StagedRequest {
  const key = options.idempotencyKey;
  if (key !== undefined) {
    const staged = replays.get(key);
    if (staged) return { events: structuredClone(staged), frames: [] };
    const earlier = layer.idempotent(key);
    if (earlier) return { events: readRange(earlier.first, earlier.last), frames: [] };
  }
  const now = Date.now();
  const ts = new Date(now).toISOString();
  const events: StoredEvent[] = proposed.map((event, i) => {
    const after = layer.stage(event);
    return {
      position: next + i,
      id: newEventId(now),
      type: event.type,
      sid: event.sid,
      kind: event.kind,
      version: after.version,
      ts,
      data: sortedCopy(event.data),
      ...(event.meta ? { meta: sortedCopy(event.meta) } : {}),
    };
  });
  const parts = events.length;
  const frames = events.map((event, i) => ({ ...encodeFrame(event, { part: i + 1, parts, idempotencyKey: key }), idempotencyKey: key }));
  return { events, frames };
}

const ULID_LIKE = /^[0-9A-Za-z]{1,64}$/;

function stageImport(imported: readonly StoredEvent[], layer: Staging, next: number): StagedRequest {
  const events = imported.map((event, i) => {
    const where = `imported event ${i + 1} (position ${event.position})`;
    if (event.position !== next + i) {
      throw new InvalidInputError(`${where}: imported events must continue the log at position ${next + i}`);
    }
    if (typeof event.id !== 'string' || !ULID_LIKE.test(event.id)) throw new InvalidInputError(`${where}: invalid event id`);
    if (typeof event.type !== 'string' || typeof event.sid !== 'string') throw new InvalidInputError(`${where}: type and sid must be strings`);
    if (!isCanonicalTimestamp(event.ts)) throw new InvalidInputError(`${where}: ts must be an ISO 8601 UTC time with milliseconds, got ${JSON.stringify(event.ts)}`);
    const after = layer.stage({ type: event.type, sid: event.sid, kind: event.kind, data: event.data });
    if (after.version !== event.version) {
      throw new InvalidInputError(`${where}: ${event.type}/${event.sid} has version ${event.version} where the log expects ${after.version}`);
    }
    return { ...event, data: sortedCopy(event.data), ...(event.meta ? { meta: sortedCopy(event.meta) } : {}) };
  });
  const parts = events.length;
  const frames = events.map((event, i) => {
    const key = typeof event.meta?.idempotencyKey === 'string' ? event.meta.idempotencyKey : undefined;
    return { ...encodeFrame(event, { part: i + 1, parts, idempotencyKey: key }), idempotencyKey: key };
  });
  return { events, frames };
}
