import { IdempotencyConflictError, NotFoundError, InvalidInputError, VersionConflictError } from '../../log/errors';
import type { EventKind, EventMetadata, ExpectedVersion, ObjectData, ProposedEvent, StoredEvent } from '../../log/event';
import type { AppendOptions } from '../../log/event-log';
import type { FoldLimit } from '../../projections/fold';
export type { ObjectRecord, ReadBudget } from '../../projections/projection-store';
import { newEventId } from '../../log/ids';
import type { FilterClause, FindQuery, ObjectRecord, Page, ProjectionStore, ReadBudget } from '../../projections/projection-store';
import { decodeCursor, encodeCursor } from './cursor';
import { parseFilter } from './filter';
import { mergePatch } from './merge-patch';
import { parsePointInTime, resolveAt, type PointInTime } from './point-in-time';
import { checkSeed, isAlreadySeeded, seedStore } from './seed';
import { assertSid, assertWellFormed, checkExpectedVersion, checkLimit, checkObject, checkOptions, isPlainObject } from './validate';

/** Options shared by every write. */
export interface WriteOptions {
  expectedVersion?: ExpectedVersion;
  idempotencyKey?: string;
  meta?: EventMetadata;
}

export interface NewOptions extends WriteOptions {
  sid?: string;
}

/** Options of `_erase`. */
export interface EraseOptions {
  /** Why the object is erased (kept in the `erased` event's meta, with `meta.actor`). */
  reason?: string;
  idempotencyKey?: string;
  meta?: EventMetadata;
}

export interface GetOptions {
  /** Read the object as it was at a log position or a moment. */
  at?: PointInTime;
  /** Return `{ object, version, position, created_at, updated_at }`. */
  withMeta?: boolean;
}

export interface ListOptions {
  limit?: number;
  cursor?: string;
  /** Answer as of a log position or a moment (folds the log: slower, but exact). */
  at?: PointInTime;
  /**
   * Bounds shared by the reads of one request (bytes returned, objects a scan may examine, an abort
   * signal): the page stops early with a cursor when they run out. See `ReadBudget`.
   */
  budget?: ReadBudget;
}

export interface FindOptions extends ListOptions {
  /** `{ field: value }` or `{ field: { eq|ne|gt|gte|lt|lte|in: value } }`, all must hold. */
  filter?: Record<string, unknown>;
  /** Full-text query: words (all must match), "phrases", prefix*, OR. */
  text?: string;
}

/** A page of results and the cursor of the next page (absent on the last page). */
export interface ResultPage<T> {
  items: T[];
  next_cursor?: string;
}

const RETRIES = 8;
const WRITE_OPTIONS = ['expectedVersion', 'idempotencyKey', 'meta'] as const;
const NEW_OPTIONS = ['sid', ...WRITE_OPTIONS] as const;
const GET_OPTIONS = ['at', 'withMeta'] as const;
const ERASE_OPTIONS = ['reason', 'idempotencyKey', 'meta'] as const;
const PAGE_OPTIONS = ['limit', 'cursor', 'filter', 'text', 'at', 'budget'] as const;

/**
 * What a collection needs of its store (`Store` is one): the write path, the read sync, and the
 * projection store and log that answer reads.
 */
export interface CollectionHost {
  readonly projections: ProjectionStore;
  /** Read access to the log (history, point-in-time reads). */
  readonly log: { readStream(type: string, sid: string): Promise<StoredEvent[]> };
  /** Append through the write gate; projections reflect the events when it resolves. */
  append(events: ProposedEvent[], options?: AppendOptions): Promise<StoredEvent[]>;
  /** Before a read: bring the projections level with what other writers committed. */
  syncForRead(): Promise<void>;
  /** Bring the projections level with every committed event. */
  catchUp(): Promise<void>;
  /** Answer a page as of a log position or a moment. */
  findAt(at: FoldLimit, type: string, query: FindQuery, full: boolean): Promise<Page<string | ObjectRecord>>;
  assertOpen(): void;
  collection(type: string): Collection;
  /** The personal fields of `type` the log seals (empty when none). */
  personalFields(type: string): readonly string[];
}

/** The OSIS API of one object type. Every method is async and validates its input first. */
export class Collection {
  private readonly projections: ProjectionStore;

  constructor(readonly type: string, private readonly store: CollectionHost) {
    this.projections = store.projections;
  }

  /** Create an object; mints a ULID sid unless one is given (in the object or `options.sid`). */
  async _new(object: ObjectData, given?: NewOptions): Promise<ObjectData> {
    checkObject(object);
    const options = checkOptions<NewOptions>(given, NEW_OPTIONS, '_new');
    const named = options.sid ?? object.sid;
    const sid = named ?? newEventId();
    assertSid(sid);
    if (object.sid !== undefined && object.sid !== sid) {
      throw new InvalidInputError(`object sid ${JSON.stringify(object.sid)} differs from the sid option ${JSON.stringify(sid)}`);
    }
    const expected = checkExpectedVersion(options.expectedVersion);
    if (expected !== undefined && expected !== 'no_stream' && expected !== 'any') {
      throw new InvalidInputError('_new only accepts expectedVersion no_stream or any');
    }
    const stored = await this.write({ sid, kind: 'created', data: { sid, ...object }, expectedVersion: 'no_stream' }, options, named === undefined);
    return stored[stored.length - 1].data;
  }

  /**
   * Create-if-absent for seeds: creates the object under its sid unless that sid already has a history.
   * Returns how many were created and how many were left alone. Safe to race from many processes.
   */
  async _seed(objects: ObjectData[]): Promise<{ created: number; existing: number }> {
    if (!Array.isArray(objects)) throw new InvalidInputError('_seed takes an array of objects, each with its sid');
    return seedStore(this.store, checkSeed({ [this.type]: objects }));
  }

  /** @internal One seed object: resolves true when created, false when its sid already had a history. */
  async _seedOne(object: ObjectData): Promise<boolean> {
    checkObject(object);
    assertSid(object.sid);
    try {
      await this.write({ sid: object.sid, kind: 'created', data: object, expectedVersion: 0 }, {});
      return true;
    } catch (error) {
      if (isAlreadySeeded(error)) return false;
      throw error;
    }
  }

  /** The object, or with `withMeta` its record; NOT_FOUND when absent (at `at`, when given). */
  async _get(sid: string, given?: GetOptions): Promise<ObjectData | ObjectRecord> {
    assertSid(sid);
    const options = checkOptions<GetOptions>(given, GET_OPTIONS, '_get');
    if (options.at === undefined) await this.store.syncForRead();
    else this.store.assertOpen();
    if (options.at === undefined && !options.withMeta) {
      const object = await this.projections.object(this.type, sid);
      if (!object) throw new NotFoundError(`${this.type}/${sid} not found`, { type: this.type, sid });
      return object;
    }
    const record = options.at !== undefined ? await this.readAt(sid, options.at) : await this.projections.get(this.type, sid);
    if (!record) throw new NotFoundError(`${this.type}/${sid} not found`, { type: this.type, sid });
    return options.withMeta ? record : record.object;
  }

  /** OSIS full replace: the object (carrying its sid) becomes the new state. NOT_FOUND when absent. */
  async _set(object: ObjectData, given?: WriteOptions): Promise<ObjectData> {
    checkObject(object);
    const options = checkOptions<WriteOptions>(given, WRITE_OPTIONS, '_set');
    if (object.sid === undefined) throw new InvalidInputError('_set needs the object to carry its sid');
    assertSid(object.sid);
    const expected = checkExpectedVersion(options.expectedVersion) ?? 'exists';
    const stored = await this.write({ sid: object.sid, kind: 'updated', data: object, expectedVersion: expected }, options);
    return stored[stored.length - 1].data;
  }

  /** Apply an RFC 7396 merge patch to the current object; returns the new object. */
  async _update(sid: string, patch: Record<string, unknown>, optionsGiven?: WriteOptions): Promise<ObjectData> {
    assertSid(sid);
    const options = checkOptions<WriteOptions>(optionsGiven, WRITE_OPTIONS, '_update');
    if (!isPlainObject(patch)) throw new InvalidInputError('a patch must be a JSON object');
    checkObject(patch);
    if (patch.sid !== undefined && patch.sid !== sid) throw new InvalidInputError('a patch cannot change the sid');
    const given = checkExpectedVersion(options.expectedVersion);
    for (let attempt = 0; ; attempt++) {
      await this.store.catchUp();
      const current = await this.projections.get(this.type, sid);
      if (!current) throw new NotFoundError(`${this.type}/${sid} not found`, { type: this.type, sid });
      const data = mergePatch(current.object, patch) as ObjectData;
      data.sid = sid;
      checkObject(data);
      try {
        const stored = await this.write({ sid, kind: 'updated', data, expectedVersion: given ?? current.version }, options);
        return stored[stored.length - 1].data;
      } catch (error) {
        if (given !== undefined || !(error instanceof VersionConflictError) || attempt >= RETRIES) throw error;
      }
    }
  }

  /** Delete the object; NOT_FOUND when absent. */
  async _delete(sid: string, given?: WriteOptions): Promise<void> {
    assertSid(sid);
    const options = checkOptions<WriteOptions>(given, WRITE_OPTIONS, '_delete');
    const expected = checkExpectedVersion(options.expectedVersion) ?? 'exists';
    await this.write({ sid, kind: 'deleted', data: {}, expectedVersion: expected }, options);
  }

  /**
   * Erase the object by crypto-shredding (issue 14): append an `erased` event (`reason` and `meta.actor`
   * in its meta), destroy the object's data keys and purge its derived plaintext. Afterwards `_get` is
   * NOT_FOUND at every point in time, its history keeps each event's position, kind, version and
   * timestamps but no personal value, and its unique values are free again. A deleted object can be
   * erased; an erased one is NOT_FOUND, and so is an object that never existed. INVALID_INPUT when the
   * type declares no personal fields (its values are stored in the clear, so nothing could be shredded).
   */
  async _erase(sid: string, given?: EraseOptions): Promise<void> {
    assertSid(sid);
    const options = checkOptions<EraseOptions>(given, ERASE_OPTIONS, '_erase');
    if (options.reason !== undefined && typeof options.reason !== 'string') throw new InvalidInputError('reason must be a string', { field: 'reason' });
    if (options.reason !== undefined) assertWellFormed(options.reason, 'reason');
    if (this.store.personalFields(this.type).length === 0) {
      throw new InvalidInputError(
        `type ${this.type} declares no personal fields, so its values are stored in the clear and cannot be erased; declare them with personal = [...] in the schema`,
        { type: this.type },
      );
    }
    const meta = options.reason !== undefined ? { ...options.meta, reason: options.reason } : options.meta;
    await this.write({ sid, kind: 'erased', data: {}, expectedVersion: 'any' }, { ...options, ...(meta ? { meta } : {}) });
  }

  async _exists(sid: string): Promise<boolean> {
    assertSid(sid);
    await this.store.syncForRead();
    return this.projections.exists(this.type, sid);
  }

  /** Sids in sid order, a page at a time. */
  async _list(options?: ListOptions): Promise<ResultPage<string>> {
    return this.page(options, false, '_list') as Promise<ResultPage<string>>;
  }

  /** Whole objects in sid order, a page at a time. */
  async _list_full(options?: ListOptions): Promise<ResultPage<ObjectData>> {
    return this.page(options, true, '_list_full') as Promise<ResultPage<ObjectData>>;
  }

  /** Sids matching a filter and/or full-text query (ranked by BM25 when text is given). */
  async _find(options?: FindOptions): Promise<ResultPage<string>> {
    return this.page(options, false, '_find') as Promise<ResultPage<string>>;
  }

  async _find_full(options?: FindOptions): Promise<ResultPage<ObjectData>> {
    return this.page(options, true, '_find_full') as Promise<ResultPage<ObjectData>>;
  }

  /** Every event of the object, oldest first; NOT_FOUND when it never existed. */
  async _history(sid: string): Promise<StoredEvent[]> {
    assertSid(sid);
    const events = await this.store.log.readStream(this.type, sid);
    if (events.length === 0) throw new NotFoundError(`${this.type}/${sid} has no history`, { type: this.type, sid });
    return events;
  }

  private async page(given: FindOptions | undefined, full: boolean, method: string): Promise<ResultPage<unknown>> {
    const options = checkOptions<FindOptions>(given, PAGE_OPTIONS, method);
    this.store.assertOpen();
    const limit = checkLimit(options.limit);
    const filter: FilterClause[] = parseFilter(options.filter);
    const ranked = options.text !== undefined;
    if (ranked && typeof options.text !== 'string') throw new InvalidInputError('text must be a string');
    if (ranked) assertWellFormed(options.text as string, 'text');
    const cursor = decodeCursor(options.cursor, ranked);
    const point = options.at !== undefined ? parsePointInTime(options.at as PointInTime) : undefined;
    if (!point) await this.store.syncForRead();
    const text = options.text as string | undefined;
    const afterSid = cursor && 'afterSid' in cursor ? cursor.afterSid : undefined;
    const offset = cursor && 'offset' in cursor ? cursor.offset : undefined;
    const query: FindQuery = { filter, text, limit, afterSid, offset };
    const result = point
      ? await this.store.findAt(point, this.type, query, full)
      : await this.projections.find(this.type, query, full, options.budget);
    const items = full ? (result.items as ObjectRecord[]).map((r) => r.object) : result.items;
    const next =
      result.nextAfterSid !== undefined
        ? encodeCursor({ afterSid: result.nextAfterSid })
        : result.nextOffset !== undefined
          ? encodeCursor({ offset: result.nextOffset })
          : undefined;
    return next ? { items, next_cursor: next } : { items };
  }

  private async readAt(sid: string, at: PointInTime): Promise<ObjectRecord | undefined> {
    const events = await this.store.log.readStream(this.type, sid);
    return resolveAt(events, at);
  }

  private async write(
    event: { sid: string; kind: EventKind; data: ObjectData; expectedVersion: ExpectedVersion },
    options: WriteOptions,
    mintedSid = false,
  ): Promise<StoredEvent[]> {
    if (options.idempotencyKey !== undefined && (typeof options.idempotencyKey !== 'string' || options.idempotencyKey.length === 0 || options.idempotencyKey.length > 200)) {
      throw new InvalidInputError('idempotencyKey must be a string of 1 to 200 characters');
    }
    if (options.idempotencyKey !== undefined) assertWellFormed(options.idempotencyKey, 'idempotencyKey');
    if (options.meta !== undefined) checkObject(options.meta);
    const meta = options.idempotencyKey !== undefined ? { ...options.meta, idempotencyKey: options.idempotencyKey } : options.meta;
    const key = options.idempotencyKey;
    const stored = await this.store.append([{ type: this.type, ...event, ...(meta ? { meta } : {}) }], key !== undefined ? { idempotencyKey: key } : undefined);
    // A key names one write: replaying another type's (or, when the caller named the sid, another object's) is a conflict.
    if (key !== undefined && stored.some((e) => e.type !== this.type || (!mintedSid && e.sid !== event.sid))) {
      throw new IdempotencyConflictError(key, this.type, mintedSid ? undefined : event.sid);
    }
    return stored;
  }
}
