import type { CentralContext } from '../context.js';
import {
  hubOfflineAlertsHeardFrom,
  openHubOfflineAlert,
  resolveUnansweredAlert,
  silentFallDetectingHubs,
} from '../store/alert-watch.js';
import { queueAlertNotifications } from './queue.js';

/** Hubs (and returning hubs) one pass handles; the rest wait for the next pass. */
const PER_PASS = 500;

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
  const now = ctx.clock.now();
  const changed = new Set<number>();
  const silent = await silentFallDetectingHubs(ctx.db, now - ctx.config.central.hub_offline_alert_s * 1000, PER_PASS);
  for (const d of silent) {
    const id = `offline:${d.lastSeenAt}`;
    const opened = await openHubOfflineAlert(
      ctx.db,
      {
        id,
        deviceId: d.id,
        lastSeenAt: d.lastSeenAt,
        now,
        reason: `central has not heard from the hub since ${new Date(d.lastSeenAt).toISOString()}`,
      },
      (trx) => queueAlertNotifications(trx, { deviceId: d.id, alertId: id, event: 'detection_down' }, now),
    );
    if (!opened) continue;
    changed.add(d.id);
    ctx.log.warn({ device_id: d.id, last_seen_at: d.lastSeenAt }, 'hub offline: fall detection down');
  }
  for (const a of await hubOfflineAlertsHeardFrom(ctx.db, PER_PASS)) {
    const resolved = await resolveUnansweredAlert(ctx.db, a, now, (trx) =>
      queueAlertNotifications(trx, { deviceId: a.device_id, alertId: a.id, event: 'detection_restored' }, now),
    );
    if (!resolved) continue;
    changed.add(a.device_id);
    ctx.log.info({ device_id: a.device_id }, 'hub heard from again: fall detection back');
  }
  return changed;
}
