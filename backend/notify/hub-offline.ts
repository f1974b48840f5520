import type { CentralContext } from '../context.js';
import { openAlert } from '../store/alerts.js';
import { FALL_DETECTION_TYPES } from '../../sync/contract.js';
import { queueAlertNotifications } from './queue.js';

/**
 * A hub that runs fall detection and has gone quiet is a hub whose falls nobody hears of: after
 * `central.hub_offline_alert_s` without a signed request from it (hubs poll their component list
 * every `hub.components_poll_s`, so a live hub is heard from often), its members get a
 * `detection_down` alert of type `hub_offline`; when it is heard from again the alert is resolved and
 * they get `detection_restored`. Driven by `devices.last_seen_at` in the database, so it holds
 * across restarts and instances (the alert id is derived from the silence it reports: two instances
 * open it once). Resolves to the devices whose alerts changed.
 */
export async function watchHubsOffline(ctx: CentralContext): Promise<Set<number>> {
  const db = ctx.db.kysely;
  const now = ctx.clock.now();
  const changed = new Set<number>();
  const silent = await db
    .selectFrom('devices')
    .select(['devices.id', 'devices.last_seen_at'])
    .where('devices.status', '=', 'provisioned')
    .where('devices.last_seen_at', '<', now - ctx.config.central.hub_offline_alert_s * 1000)
    .where((eb) =>
      eb.exists(
        eb
          .selectFrom('attached_components')
          .select('attached_components.id')
          .whereRef('attached_components.device_id', '=', 'devices.id')
          .where('attached_components.component_type', 'in', [...FALL_DETECTION_TYPES]),
      ),
    )
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('device_alerts')
            .select('device_alerts.id')
            .whereRef('device_alerts.device_id', '=', 'devices.id')
            .where('device_alerts.type', '=', 'hub_offline')
            .where('device_alerts.status', 'in', ['open', 'acknowledged']),
        ),
      ),
    )
    .limit(500)
    .execute();
  for (const d of silent) {
    const lastSeen = Number(d.last_seen_at);
    const id = `offline:${lastSeen}`;
    await db.transaction().execute(async (trx) => {
      const opened = await openAlert(trx, {
        id,
        device_id: d.id,
        type: 'hub_offline',
        ts: lastSeen,
        seq: 0,
        node_id: null,
        component_id: null,
        prob: null,
        created_at: now,
        reason: `central has not heard from the hub since ${new Date(lastSeen).toISOString()}`,
      });
      if (!opened) return;
      await queueAlertNotifications(trx, { deviceId: d.id, alertId: id, event: 'detection_down' }, now);
      changed.add(d.id);
      ctx.log.warn({ device_id: d.id, last_seen_at: lastSeen }, 'hub offline: fall detection down');
    });
  }
  const back = await db
    .selectFrom('device_alerts')
    .innerJoin('devices', 'devices.id', 'device_alerts.device_id')
    .select(['device_alerts.device_id', 'device_alerts.id'])
    .where('device_alerts.type', '=', 'hub_offline')
    .where('device_alerts.status', 'in', ['open', 'acknowledged'])
    .whereRef('devices.last_seen_at', '>', 'device_alerts.ts')
    .limit(500)
    .execute();
  for (const a of back) {
    await db.transaction().execute(async (trx) => {
      const res = await trx
        .updateTable('device_alerts')
        .set({ status: 'resolved', resolved_at: now })
        .where('device_id', '=', a.device_id)
        .where('id', '=', a.id)
        .where('status', 'in', ['open', 'acknowledged'])
        .executeTakeFirst();
      if (Number(res.numUpdatedRows) !== 1) return;
      await queueAlertNotifications(trx, { deviceId: a.device_id, alertId: a.id, event: 'detection_restored' }, now);
      changed.add(a.device_id);
      ctx.log.info({ device_id: a.device_id }, 'hub heard from again: fall detection back');
    });
  }
  return changed;
}
