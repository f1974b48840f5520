/**
 * What central tells people about (webhook `events`, mail, `client/state`). A fall alert nobody
 * acknowledges is sent again as `fall_alert` with `alert.escalation` > 0.
 */
export const NOTIFY_EVENTS = [
  'fall_alert',
  'alert_acknowledged',
  'alert_cancelled',
  'detection_down',
  'detection_restored',
] as const;
export type NotifyEvent = (typeof NOTIFY_EVENTS)[number];

/** Alert types that are falls (escalated until someone takes them); the rest say detection is down. */
export const FALL_TYPES = ['fall', 'fall_sensor'] as const;
export const DETECTION_DOWN_TYPES = ['detection_down', 'hub_offline'] as const;

/** An alert as webhooks, mail and apps see it. */
export interface AlertView {
  id: string;
  type: string;
  status: string;
  ts: string;
  node_id: string | null;
  component_id: string | null;
  prob: number | null;
  acknowledged_by: string | null;
  cancelled_by: string | null;
  reason: string | null;
  duplicates: number;
  escalation: number;
}

export interface AlertRow {
  id: string;
  device_id: number;
  type: string;
  status: string;
  ts: number;
  node_id: string | null;
  component_id: string | null;
  prob: number | null;
  acknowledged_by: string | null;
  cancelled_by: string | null;
  reason: string | null;
  escalations: number;
  duplicates: number;
}

export const ALERT_ROW_COLUMNS = [
  'id',
  'device_id',
  'type',
  'status',
  'ts',
  'node_id',
  'component_id',
  'prob',
  'acknowledged_by',
  'cancelled_by',
  'reason',
  'escalations',
  'duplicates',
] as const;

export function alertView(r: AlertRow, escalation = 0): AlertView {
  return {
    id: r.id,
    type: r.type,
    status: r.status,
    ts: new Date(Number(r.ts)).toISOString(),
    node_id: r.node_id,
    component_id: r.component_id,
    prob: r.prob,
    acknowledged_by: r.acknowledged_by,
    cancelled_by: r.cancelled_by,
    reason: r.reason,
    duplicates: Number(r.duplicates),
    escalation,
  };
}

/** Subject and text of the mail for an event (plain text: it must read well on any phone). */
export function mailFor(
  event: NotifyEvent,
  a: AlertView,
  hub: string,
  by: string | undefined,
): { subject: string; text: string } {
  const when = `${a.ts.replace('T', ' ').slice(0, 19)} UTC`;
  const where = a.node_id ? ` (sensor ${a.node_id})` : '';
  const take = 'Open the Ares app to acknowledge it, or cancel it if everyone is fine.';
  switch (event) {
    case 'fall_alert':
      return a.escalation > 0
        ? {
            subject: `STILL UNANSWERED: possible fall at ${hub}`,
            text: `A possible fall at ${hub}${where} at ${when} has not been acknowledged by anyone yet (reminder ${a.escalation}).\n${take}\n`,
          }
        : {
            subject: `Possible fall at ${hub}`,
            text: `A possible fall was detected at ${hub}${where} at ${when}.\n${take}\n`,
          };
    case 'alert_acknowledged':
      return {
        subject: `Fall alert at ${hub} taken by ${by ?? 'a caregiver'}`,
        text: `${by ?? 'A caregiver'} acknowledged the fall alert of ${when} at ${hub}.\n`,
      };
    case 'alert_cancelled':
      return {
        subject: `Fall alert at ${hub} cancelled`,
        text: `The fall alert of ${when} at ${hub} was cancelled by ${by ?? 'the hub'} ("I'm OK").\n`,
      };
    case 'detection_down':
      return {
        subject: `Fall detection is NOT running at ${hub}`,
        text: `Fall detection at ${hub}${where} stopped working at ${when}: ${a.reason ?? 'unknown reason'}.\nFalls there will not raise alerts until this is fixed. Check the hub's power and network, and the sensor.\n`,
      };
    case 'detection_restored':
      return {
        subject: `Fall detection is running again at ${hub}`,
        text: `Fall detection at ${hub}${where} is working again (it had stopped at ${when}: ${a.reason ?? 'unknown reason'}).\n`,
      };
  }
}
