import type { Kysely } from 'kysely';
import type { Database } from '../db/types.js';
import type { SyncRecord } from '../../sync/records.js';

/** Rows per INSERT: 14 columns × 400 stays far below SQLite's and PostgreSQL's parameter limits. */
const CHUNK = 400;

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
      await trx
        .insertInto('telemetry_data')
        .values(
          records.slice(i, i + CHUNK).map(({ record: r, ts }) => ({
            device_id: deviceId,
            seq: r.seq,
            lane: r.lane,
            type: r.type,
            ts,
            hub_ts: r.clock_synced ? null : r.ts,
            clock_synced: r.clock_synced ? 1 : 0,
            received_at: receivedAt,
            component_type: r.component_type ?? null,
            component_id: r.component_id ?? null,
            node_id: r.node_id ?? null,
            metric: r.metric ?? null,
            value: r.value ?? null,
            data: r.data ? JSON.stringify(r.data) : null,
          })),
        )
        .onConflict((oc) => oc.columns(['device_id', 'seq']).doNothing())
        .execute();
    }
  });
}
