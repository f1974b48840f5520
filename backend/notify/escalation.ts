import type { CentralContext } from '../context.js';
import { FALL_TYPES } from './events.js';
import { queueAlertNotifications } from './queue.js';

/**
 * Sends a fall alert again to every member when nobody has acknowledged or cancelled it within
 * `central.alert_escalation_s` of the last notice, at most `alert_escalation_max` times. Each round
 * is claimed with a compare-and-set on the alert's escalation count, so two central instances
 * escalate it once. Central's own clock decides (a hub's may be wrong). Resolves to the devices whose
 * alerts changed.
 */
export async function escalateUnanswered(ctx: CentralContext): Promise<Set<number>> {
  const cfg = ctx.config.central;
  const changed = new Set<number>();
  if (cfg.alert_escalation_max === 0) return changed;
  const now = ctx.clock.now();
  const due = now - cfg.alert_escalation_s * 1000;
  const db = ctx.db.kysely;
  const rows = await db
    .selectFrom('device_alerts')
    .select(['device_id', 'id', 'escalations', 'created_at', 'escalated_at'])
    .where('status', '=', 'open')
    .where('type', 'in', [...FALL_TYPES])
    .where('escalations', '<', cfg.alert_escalation_max)
    .where((eb) =>
      eb.or([eb.and([eb('escalated_at', 'is', null), eb('created_at', '<=', due)]), eb('escalated_at', '<=', due)]),
    )
    .limit(500)
    .execute();
  for (const r of rows) {
    const round = Number(r.escalations) + 1;
    await db.transaction().execute(async (trx) => {
      const res = await trx
        .updateTable('device_alerts')
        .set({ escalations: round, escalated_at: now })
        .where('device_id', '=', r.device_id)
        .where('id', '=', r.id)
        .where('status', '=', 'open')
        .where('escalations', '=', round - 1)
        .executeTakeFirst();
      if (Number(res.numUpdatedRows) !== 1) return;
      await queueAlertNotifications(trx, { deviceId: r.device_id, alertId: r.id, event: 'fall_alert', round }, now);
      changed.add(r.device_id);
      ctx.log.warn(
        { device_id: r.device_id, alert_id: r.id, round },
        'fall alert unanswered: sent again to every member',
      );
    });
  }
  return changed;
}
