import type { Kysely } from 'kysely';
import type { SyncRecord } from '../../sync/records.js';
import type { Database } from '../db/types.js';

const ALERT_ID = /^[A-Za-z0-9_.:-]{1,64}$/;

/**
 * The alerts a stored sync batch raises or ends: an alert-lane `alert` record opens one (its
 * `data.alert_id` when the hub gave one, else `{device_uuid}:{seq}`), a `fall_cancelled` record (the
 * "I'm OK" button on the hub) cancels the open one it names. Idempotent: a re-sent batch changes
 * nothing. Returns the ids of alerts newly opened.
 */
export async function recordAlerts(
  db: Kysely<Database>,
  device: { id: number; uuid: string },
  records: { record: SyncRecord; ts: number }[],
  now: number,
): Promise<string[]> {
  const opened: string[] = [];
  for (const { record: r, ts } of records) {
    if (r.lane !== 'alert') continue;
    const given = r.data?.['alert_id'];
    if (r.type === 'alert') {
      const id = typeof given === 'string' && ALERT_ID.test(given) ? given : `${device.uuid}:${r.seq}`;
      const prob = r.data?.['prob'];
      const node = r.data?.['node_id'];
      const res = await db
        .insertInto('device_alerts')
        .values({
          id,
          device_id: device.id,
          type: r.metric === 'radar_fall_state' ? 'fall_sensor' : 'fall',
          status: 'open',
          ts,
          seq: r.seq,
          node_id: typeof node === 'string' ? node.slice(0, 64) : (r.node_id ?? null),
          component_id: r.component_id ?? null,
          prob: typeof prob === 'number' && Number.isFinite(prob) ? prob : null,
          acknowledged_by: null,
          acknowledged_at: null,
          cancelled_by: null,
          cancelled_at: null,
          created_at: now,
        })
        .onConflict((oc) => oc.columns(['device_id', 'id']).doNothing())
        .executeTakeFirst();
      if (Number(res.numInsertedOrUpdatedRows ?? 0) > 0) opened.push(id);
    } else if (r.metric === 'fall_cancelled' && typeof given === 'string') {
      await db
        .updateTable('device_alerts')
        .set({ status: 'cancelled', cancelled_by: 'hub button', cancelled_at: ts })
        .where('id', '=', given)
        .where('device_id', '=', device.id)
        .where('status', '!=', 'cancelled')
        .execute();
    }
  }
  return opened;
}
