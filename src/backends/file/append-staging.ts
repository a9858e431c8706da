import { applyAppendRules, endsLife, uniqueClaims, uniqueViolation } from '../../log/append-rules';
import type { ProposedEvent, StreamState } from '../../log/event';
import type { UniqueSpec } from '../../log/event-log';

/** What staging reads from the committed log. */
export interface CommittedView {
  streamState(type: string, sid: string): StreamState;
  uniqueHolder(type: string, field: string, key: string): string | undefined;
  claimsOf(type: string, sid: string): { field: string; key: string }[];
  idempotent(key: string): { first: number; last: number } | undefined;
}

/**
 * Stream states and unique claims as they would be after the events staged so far, layered over the
 * committed log. A batch stages each request in a child layer and keeps it only when the whole request
 * passes, so a failing request leaves no trace on the others.
 */
export class Staging {
  private readonly streams = new Map<string, StreamState>();
  /** `type\0field\0key` → holder sid, or null when released. */
  private readonly claims = new Map<string, string | null>();

  constructor(private readonly base: CommittedView, private readonly unique: UniqueSpec, private readonly parent?: Staging) {}

  /** A layer over this one. */
  child(): Staging {
    return new Staging(this.base, this.unique, this);
  }

  /** Fold this layer into its parent. */
  commit(): void {
    if (this.parent) this.commitInto(this.parent);
  }

  /** Fold this layer's own changes into `target` (a layer over the same committed view). */
  commitInto(target: Staging): void {
    for (const [k, v] of this.streams) target.streams.set(k, v);
    for (const [k, v] of this.claims) target.claims.set(k, v);
  }

  /** Positions of the append committed earlier with idempotency key `key`. */
  idempotent(key: string): { first: number; last: number } | undefined {
    return this.base.idempotent(key);
  }

  state(type: string, sid: string): StreamState {
    const key = `${type}\0${sid}`;
    for (let layer: Staging | undefined = this; layer; layer = layer.parent) {
      const state = layer.streams.get(key);
      if (state) return state;
    }
    return this.base.streamState(type, sid);
  }

  /** Check `event` against the append rules and unique keys; returns the stream state after it. */
  stage(event: ProposedEvent): StreamState {
    const after = applyAppendRules(event, this.state(event.type, event.sid));
    this.stageClaims(event);
    this.streams.set(`${event.type}\0${event.sid}`, after);
    return after;
  }

  /** Record a stream state checked elsewhere (imports that carry their own versions). */
  setState(type: string, sid: string, state: StreamState): void {
    this.streams.set(`${type}\0${sid}`, state);
  }

  /** Release the object's claims and take the ones its new data makes; throws on a clash. */
  stageClaims(event: ProposedEvent): void {
    const fields = this.unique[event.type];
    if (!fields || fields.length === 0) return;
    for (const claimKey of this.heldBy(event.type, event.sid)) this.claims.set(claimKey, null);
    if (endsLife(event.kind)) return;
    for (const claim of uniqueClaims(this.unique, event.type, event.data)) {
      const claimKey = `${event.type}\0${claim.field}\0${claim.key}`;
      const holder = this.holder(claimKey, event.type, claim.field, claim.key);
      if (holder != null && holder !== event.sid) throw uniqueViolation(event.type, claim, holder);
      this.claims.set(claimKey, event.sid);
    }
  }

  private holder(claimKey: string, type: string, field: string, key: string): string | null | undefined {
    for (let layer: Staging | undefined = this; layer; layer = layer.parent) {
      if (layer.claims.has(claimKey)) return layer.claims.get(claimKey);
    }
    return this.base.uniqueHolder(type, field, key);
  }

  /** Claim keys `sid` holds now, committed or staged. */
  private heldBy(type: string, sid: string): string[] {
    const candidates = new Set(this.base.claimsOf(type, sid).map((c) => `${type}\0${c.field}\0${c.key}`));
    const prefix = `${type}\0`;
    for (let layer: Staging | undefined = this; layer; layer = layer.parent) {
      for (const [claimKey, holder] of layer.claims) if (holder === sid && claimKey.startsWith(prefix)) candidates.add(claimKey);
    }
    return [...candidates].filter((claimKey) => {
      const [, field, ...rest] = claimKey.split('\0');
      return this.holder(claimKey, type, field, rest.join('\0')) === sid;
    });
  }
}
