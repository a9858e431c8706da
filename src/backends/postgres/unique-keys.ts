import { createHash } from 'node:crypto';
import type { PoolClient } from 'pg';
import type { ObjectData, ProposedEvent } from '../../log/event';
import type { UniqueClaim } from '../../log/append-rules';
import type { UniqueSpec } from '../../log/event-log';
import { endsLife, uniqueClaims, uniqueSpecKey, uniqueViolation } from '../../log/append-rules';
import { InvalidInputError } from '../../log/errors';
import { lockWholeLog } from './event-rows';
import type { LogTables } from './log-schema';

/**
 * The `unique_keys` table: which live object holds each declared unique value, maintained inside the
 * append transaction, so the constraint holds across every process and host writing the store. A claim
 * racing another transaction's uncommitted claim of the same value waits for it (the primary key) and
 * then sees its outcome: READ COMMITTED gives each statement a fresh snapshot.
 */
export class PgUniqueKeys {
  private readonly types: Set<string>;

  /**
   * `openStored`: called with the stored data of existing objects before their claims are computed at
   * `syncWithSpec` (a store with personal fields loads the data keys of their sealed values there).
   */
  constructor(
    private readonly tables: LogTables,
    private readonly spec: UniqueSpec,
    private readonly openStored?: (data: readonly ObjectData[]) => Promise<void>,
  ) {
    this.types = new Set(Object.keys(spec).filter((t) => spec[t].length > 0));
  }

  /** True when events of `type` make or release claims (and so write to the database in phase 1). */
  covers(type: string): boolean {
    return this.types.has(type);
  }

  /** Advisory lock keys of the values `events` claim (taken before any claim is written, see append-batch.ts). */
  lockKeys(events: readonly Claimant[]): string[] {
    const keys: string[] = [];
    for (const event of events) {
      if (!this.types.has(event.type) || endsLife(event.kind)) continue;
      for (const claim of uniqueClaims(this.spec, event.type, event.data)) keys.push(`unique:${event.type}:${claim.field}:${keyHash(claim.key)}`);
    }
    return keys;
  }

  /**
   * Release the claims the objects' new data no longer makes and take the new ones, event by event in
   * order; throws UNIQUE_VIOLATION for the first clash. `existed`: whether the object existed before
   * its event. An object that does not exist holds no claims, so a run of such events (creates) needs
   * no release and its claims are taken with one INSERT.
   */
  async apply(client: PoolClient, items: ReadonlyArray<{ event: Claimant; existed: boolean }>): Promise<void> {
    let run: ClaimRow[] = [];
    for (const { event, existed } of items) {
      if (!this.types.has(event.type)) continue;
      const rows = endsLife(event.kind) ? [] : uniqueClaims(this.spec, event.type, event.data).map((c) => ({ type: event.type, sid: event.sid, claim: c }));
      if (!existed) {
        run.push(...rows);
        continue;
      }
      await this.claim(client, run);
      run = [];
      await client.query(
        `DELETE FROM ${this.tables.uniqueKeys} WHERE type = $1 AND sid = $2 AND (field, key) NOT IN (SELECT * FROM unnest($3::text[], $4::text[]))`,
        [event.type, event.sid, rows.map((r) => r.claim.field), rows.map((r) => r.claim.key)],
      );
      await this.claim(client, rows);
    }
    await this.claim(client, run);
  }

  /** Take `rows` (one INSERT); a value another object holds is UNIQUE_VIOLATION for the first row that wanted it. */
  private async claim(client: PoolClient, rows: readonly ClaimRow[]): Promise<void> {
    if (rows.length === 0) return;
    const t = this.tables;
    const values = [rows.map((r) => r.type), rows.map((r) => r.claim.field), rows.map((r) => r.claim.key), rows.map((r) => keyHash(r.claim.key)), rows.map((r) => r.sid)];
    const inserted = await client.query(
      `INSERT INTO ${t.uniqueKeys} (type, field, key, key_hash, sid) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])
       ON CONFLICT (type, field, key_hash) DO NOTHING`,
      values,
    );
    if (inserted.rowCount === rows.length) return;
    const held = await client.query<{ i: number; sid: string }>(
      `SELECT c.i, u.sid FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) WITH ORDINALITY AS c(type, field, key, key_hash, sid, i)
         JOIN ${t.uniqueKeys} u ON u.type = c.type AND u.field = c.field AND u.key_hash = c.key_hash
        WHERE u.sid <> c.sid ORDER BY c.i LIMIT 1`,
      values,
    );
    if (held.rows.length === 0) return;
    const row = rows[held.rows[0].i - 1];
    throw uniqueViolation(row.type, row.claim, held.rows[0].sid);
  }

  /**
   * When the declared unique fields differ from those the table was built for (kept in `log_meta`),
   * rebuild it from the latest event of every object, inside the caller's transaction, holding the log's
   * lock exclusively (no append runs meanwhile). A clash in existing data is INVALID_INPUT naming it.
   */
  async syncWithSpec(client: PoolClient): Promise<void> {
    const t = this.tables;
    const wanted = uniqueSpecKey(this.spec);
    const current = await client.query<{ value: string }>(`SELECT value FROM ${t.meta} WHERE key = 'unique_spec'`);
    if (current.rows[0]?.value === wanted) return;
    await lockWholeLog(client, t);
    await client.query(`DELETE FROM ${t.uniqueKeys}`);
    const latest = await client.query<{ type: string; sid: string; kind: string; data: string }>(
      `SELECT DISTINCT ON (type, sid) type, sid, kind, data FROM ${t.events} WHERE type = ANY($1::text[]) ORDER BY type, sid, version DESC`,
      [[...this.types]],
    );
    const holders = new Map<string, string>();
    const rows: Array<[string, string, string, string]> = [];
    const live = latest.rows.filter((row) => !endsLife(row.kind)).map((row) => ({ ...row, data: JSON.parse(row.data) as ObjectData }));
    await this.openStored?.(live.map((row) => row.data));
    for (const row of live) {
      for (const claim of uniqueClaims(this.spec, row.type, row.data)) {
        const slot = `${row.type}\0${claim.field}\0${claim.key}`;
        const other = holders.get(slot);
        if (other !== undefined) {
          throw new InvalidInputError(`cannot declare ${row.type}.${claim.field} unique: ${claim.key} is held by both ${other} and ${row.sid}`);
        }
        holders.set(slot, row.sid);
        rows.push([row.type, claim.field, claim.key, row.sid]);
      }
    }
    if (rows.length > 0) {
      await client.query(
        `INSERT INTO ${t.uniqueKeys} (type, field, key, key_hash, sid) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])`,
        [rows.map((r) => r[0]), rows.map((r) => r[1]), rows.map((r) => r[2]), rows.map((r) => keyHash(r[2])), rows.map((r) => r[3])],
      );
    }
    await client.query(
      `INSERT INTO ${t.meta} (key, value) VALUES ('unique_spec', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
      [wanted],
    );
  }
}

/** What a claim needs of an event. */
type Claimant = Pick<ProposedEvent, 'type' | 'sid' | 'kind' | 'data'>;

/** One claim to take: `type.field = key` for object `sid`. */
interface ClaimRow {
  type: string;
  sid: string;
  claim: UniqueClaim;
}

/**
 * The primary key of a claim: SHA-256 of the value's JSON, so a value of any length fits the index. A
 * collision could only refuse a write (the holder check matches hashes), never let a duplicate in.
 */
function keyHash(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}
