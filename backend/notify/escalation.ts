import type { CentralContext } from '../context.js';
import { claimEscalationRound, unansweredFallAlerts } from '../store/alert-watch.js';
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
  const due = await unansweredFallAlerts(ctx.db, {
    dueBefore: now - cfg.alert_escalation_s * 1000,
    maxRounds: cfg.alert_escalation_max,
    limit: 500,
  });
  for (const r of due) {
    const round = r.escalations + 1;
    const claimed = await claimEscalationRound(ctx.db, r, round, now, (trx) =>
      queueAlertNotifications(trx, { deviceId: r.device_id, alertId: r.id, event: 'fall_alert', round }, now),
    );
    if (!claimed) continue;
    changed.add(r.device_id);
    ctx.log.warn(
      { device_id: r.device_id, alert_id: r.id, round },
      'fall alert unanswered: sent again to every member',
    );
  }
  return changed;
}
