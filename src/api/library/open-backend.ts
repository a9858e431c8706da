import Database from 'better-sqlite3';
import { MemoryEventLog } from '../../backends/memory/memory-log';
import { FileEventLog } from '../../backends/file/file-log';
import { SqliteEventLog } from '../../backends/sqlite/sqlite-log';
import { retryOpening } from '../../log/busy-retry';
import { InvalidInputError } from '../../log/errors';
import type { Durability, EventLog } from '../../log/event-log';
import type { StoreSchema } from '../../projections/config';
import { ProjectionEngine } from '../../projections/sqlite/engine';
import { uniqueSpec } from './schema';
import { parseStoreUrl } from './store-url';

/** A log with its projections, wired for one backend. */
export interface OpenedBackend {
  log: EventLog;
  projections: ProjectionEngine;
  /** True when projections commit inside the append transaction (no catch-up after append). */
  inline: boolean;
  /**
   * True when other processes may append without this process's projections seeing it inline (the
   * file backend): reads first compare the log head with the projection checkpoint and catch up.
   */
  needsReadCatchUp: boolean;
  close(): Promise<void>;
}

export interface BackendOptions {
  schema: StoreSchema;
  durability: Durability;
}

/** Open the backend a store URL names and attach the projections to it. */
export async function openBackend(url: string, options: BackendOptions): Promise<OpenedBackend> {
  const parsed = parseStoreUrl(url);
  const unique = uniqueSpec(options.schema);
  switch (parsed.backend) {
    case 'memory': {
      const log = new MemoryEventLog(unique);
      const db = new Database(':memory:');
      const projections = new ProjectionEngine(db, options.schema);
      return {
        log,
        projections,
        inline: false,
        needsReadCatchUp: false,
        async close() {
          projections.close();
          await log.close();
          db.close();
        },
      };
    }
    case 'sqlite': {
      const log = await SqliteEventLog.open(parsed.path, { durability: options.durability, unique });
      let projections: ProjectionEngine;
      try {
        projections = await retryOpening(parsed.path, () => new ProjectionEngine(log.db, options.schema));
      } catch (error) {
        await log.close();
        throw error;
      }
      log.setInlineApply((events) => projections.applyInline(events));
      await projections.catchUp(log);
      return {
        log,
        projections,
        inline: true,
        needsReadCatchUp: false,
        async close() {
          projections.close();
          await log.close();
        },
      };
    }
    case 'file': {
      const log = await FileEventLog.open(parsed.dir, { durability: options.durability, unique });
      try {
        const projections = await retryOpening(parsed.dir, () => new ProjectionEngine(log.db, options.schema));
        // The sidecar holds the log index and the projections: new events reach both in one transaction.
        log.setInlineApply((events) => {
          if (projections.currentState.position() === events[0].position - 1) projections.applyInline(events);
        });
        if (log.sidecarRebuilt) await projections.invalidate();
        await projections.openLevel(log);
        return {
          log,
          projections,
          inline: true,
          needsReadCatchUp: true,
          async close() {
            projections.close();
            await log.close();
          },
        };
      } catch (error) {
        await log.close();
        throw error;
      }
    }
    default:
      throw new InvalidInputError(`the ${parsed.backend} backend is not available in this version`);
  }
}
