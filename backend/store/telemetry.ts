import { CompiledQuery, sql, type Kysely } from 'kysely';
import type { Database } from '../db/types.js';
import type { SyncRecord } from '../../sync/records.js';
import { PLAIN_LAYOUT, type TelemetryLayout } from './telemetry-layout.js';

/** Rows per INSERT: 14 columns × 400 stays far below SQLite's and PostgreSQL's parameter limits. */
const CHUNK = 400;

const COLUMNS = [
  'device_id',
  'seq',
  'lane',
  'type',
  'ts',
  'hub_ts',
  'clock_synced',
  'received_at',
  'component_type',
  'component_id',
  'node_id',
  'metric',
  'value',
  'data',
] as const;

/** Key of the per-device advisory lock that serialises storing when seqs are looked up ('ARES'). */
const LOCK_CLASS = 0x41524553;

/**
 * The INSERT for `rows` rows, compiled by kysely once per database, layout and row count: building
 * a 400-row kysely query per chunk cost more than storing it (sync throughput).
 */
const compiled = new WeakMap<Kysely<Database>, Map<string, string>>();
function insertSql(db: Kysely<Database>, rows: number, byLookup: boolean): string {
  let byCount = compiled.get(db);
  if (!byCount) compiled.set(db, (byCount = new Map()));
  const key = `${byLookup ? 'l' : 'c'}${rows}`;
  let text = byCount.get(key);
  if (text === undefined) {
    const dummy = Object.fromEntries(COLUMNS.map((c, i) => [c, i])) as never;
    text = db
      .insertInto('telemetry_data')
      .values(Array.from({ length: rows }, () => dummy))
      // A hypertable has no unique (device_id, seq) to name; seqs were looked up under the lock.
      .onConflict((oc) => (byLookup ? oc.doNothing() : oc.columns(['device_id', 'seq']).doNothing()))
      .compile().sql;
    byCount.set(key, text);
  }
  return text;
}

/**
 * Stores records idempotently by (device, seq), all in one transaction: a replayed or re-sent
 * record is a no-op (`on conflict do nothing`), so the hub may send a batch as often as it likes and
 * every record is stored exactly once. `ts` is the repaired time for records whose clock was not
 * synchronised; the hub's own is kept in `hub_ts`. On a hypertable (telemetry-layout.ts) the seqs
 * already stored are looked up and skipped instead, under a per-device lock so a retry racing a slow
 * first attempt cannot store a record twice.
 */
export async function storeRecords(
  db: Kysely<Database>,
  deviceId: number,
  records: { record: SyncRecord; ts: number }[],
  receivedAt: number,
  layout: TelemetryLayout = PLAIN_LAYOUT,
): Promise<void> {
  if (records.length === 0) return;
  const byLookup = layout.dedupeByLookup;
  await db.transaction().execute(async (trx) => {
    let fresh = records;
    if (byLookup) {
      await sql`select pg_advisory_xact_lock(${LOCK_CLASS}::int, ${deviceId}::int)`.execute(trx);
      const seqs = records.map((r) => r.record.seq);
      const have = await sql<{ seq: number }>`
        select seq from telemetry_data where device_id = ${deviceId} and seq = any(${seqs}::bigint[])`.execute(trx);
      const stored = new Set(have.rows.map((r) => Number(r.seq)));
      fresh = records.filter((r) => !stored.has(r.record.seq));
    }
    for (let i = 0; i < fresh.length; i += CHUNK) {
      const chunk = fresh.slice(i, i + CHUNK);
      const params: unknown[] = [];
      for (const { record: r, ts } of chunk)
        params.push(
          deviceId,
          r.seq,
          r.lane,
          r.type,
          ts,
          r.clock_synced ? null : r.ts,
          r.clock_synced ? 1 : 0,
          receivedAt,
          r.component_type ?? null,
          r.component_id ?? null,
          r.node_id ?? null,
          r.metric ?? null,
          r.value ?? null,
          r.data ? JSON.stringify(r.data) : null,
        );
      await trx.executeQuery(CompiledQuery.raw(insertSql(db, chunk.length, byLookup), params));
    }
  });
}
