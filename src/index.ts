/** The public surface of osis-store. */
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
export type { SubscriberKind } from './projections/sqlite/subscriber-checkpoints';
export type { PointInTime } from './api/library/point-in-time';
export { DEFAULT_STORE_URL } from './api/library/store-url';
export { importTree, exportTree, copyLog } from './api/migrate';
export type { ImportReport, ImportOptions, BadFile, ExportReport, ExportOptions, CopyReport, CopyOptions } from './api/migrate';
export { startServer } from './api/service';
export type { ServerOptions, RunningServer } from './api/service';
export type { SchemaInput } from './api/library/schema';
export type { ObjectRecord } from './projections/sqlite/queries';
export type { StoreSchema, TypeConfig } from './projections/config';
export type { EventLog, AppendOptions, ReadAllOptions, Durability, UniqueSpec, WatchOptions, LogWatcher } from './log/event-log';
export type { StoredEvent, ProposedEvent, EventKind, ExpectedVersion, EventMetadata, ObjectData } from './log/event';
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
export type { ReadBudget } from './projections/sqlite/paged-find';
export type { ErrorCode } from './log/errors';
