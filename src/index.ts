/**
 * The public surface of osis-store: the embedded library (openStore, Store, Collection, the change
 * feed, subscribers and user projections). It loads no HTTP server and no metrics: the JSON-RPC service
 * is `osis-store/service`, import/export/copy are `osis-store/migrate`.
 */
export { openStore, Store } from './api/library/store';
export type { OpenStoreOptions, LogReader, StoreStats } from './api/library/store';
export { Collection } from './api/library/collection';
export type { NewOptions, WriteOptions, GetOptions, ListOptions, FindOptions, ResultPage } from './api/library/collection';
export type { ChangesOptions, ProcessedBatch } from './api/library/change-feed';
export type {
  SubscribeOptions,
  SubscriberHandler,
  ProjectionHandler,
  ProjectionContext,
  SubscriberLag,
  SubscriberState,
  NamedSubscription,
} from './api/library/subscribers';
export type { SubscriberKind, ProjectionStore, ProjectionTransaction, RebuildResult } from './projections/projection-store';
export type { SqliteProjectionTransaction } from './projections/sqlite/sqlite-projection-store';
export type { PointInTime } from './api/library/point-in-time';
export { DEFAULT_STORE_URL } from './api/library/store-url';
export type { SchemaInput } from './api/library/schema';
export type { ObjectRecord } from './projections/projection-store';
export type { StoreSchema, TypeConfig } from './projections/config';
export type { EventLog, AppendOptions, ReadAllOptions, Durability, UniqueSpec, WatchOptions, LogWatcher } from './log/event-log';
export type { StoredEvent, ProposedEvent, EncodedEvent, EventKind, ExpectedVersion, EventMetadata, ObjectData } from './log/event';
export {
  OsisError,
  NotFoundError,
  VersionConflictError,
  UniqueViolationError,
  InvalidInputError,
  CorruptError,
  LockedError,
  ClosedError,
  NoSpaceError,
  IdempotencyConflictError,
} from './log/errors';
export type { ReadBudget } from './projections/projection-store';
export type { ErrorCode } from './log/errors';
