import { CompiledQuery, type Kysely } from 'kysely';
import type { Database } from '../db/types.js';
import type { SyncRecord } from '../../sync/records.js';

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

/**
 * The INSERT for `rows` rows, compiled by kysely once per database and row count: building a
 * 400-row kysely query per chunk cost more than storing it (sync throughput).
 */
const compiled = new WeakMap<Kysely<Database>, Map<number, string>>();
function insertSql(db: Kysely<Database>, rows: number): string {
  let byCount = compiled.get(db);
  if (!byCount) compiled.set(db, (byCount = new Map()));
  let sql = byCount.get(rows);
  if (sql === undefined) {
    const dummy = Object.fromEntries(COLUMNS.map((c, i) => [c, i])) as never;
    sql = db
      .insertInto('telemetry_data')
      .values(Array.from({ length: rows }, () => dummy))
      .onConflict((oc) => oc.columns(['device_id', 'seq']).doNothing())
      .compile().sql;
    byCount.set(rows, sql);
  }
  return sql;
}

/**
 * Stores records idempotently by (device, seq), all in one transaction: a replayed or re-sent
 * record is a no-op (`on conflict do nothing`), so the hub may send a batch as often as it likes and
 * every record is stored exactly once. `ts` is the repaired time for records whose clock was not
 * synchronised; the hub's own is kept in `hub_ts`.
 */
export async function storeRecords(
  db: Kysely<Database>,
  deviceId: number,
  records: { record: SyncRecord; ts: number }[],
  receivedAt: number,
): Promise<void> {
  if (records.length === 0) return;
  await db.transaction().execute(async (trx) => {
    for (let i = 0; i < records.length; i += CHUNK) {
      const chunk = records.slice(i, i + CHUNK);
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
      await trx.executeQuery(CompiledQuery.raw(insertSql(db, chunk.length), params));
    }
  });
}
