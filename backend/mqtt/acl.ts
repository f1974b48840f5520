/**
 * Who may touch which topic on central's broker (ARCHITECTURE §4.6). Pure functions over topic
 * strings; the broker supplies the identity (certificate CN for devices, the account for apps) and
 * the membership check.
 */
export type Principal =
  | { kind: 'device'; deviceId: number; deviceUuid: string; serial: string }
  | { kind: 'app'; userId: number; email: string };

const WILDCARD = /[+#]/;

/** A device publishes only under `devices/{its uuid}/`, never with wildcards. */
export function devicePublishAllowed(deviceUuid: string, topic: string): boolean {
  return topic.startsWith(`devices/${deviceUuid}/`) && !WILDCARD.test(topic) && topic.length <= 256;
}

/** A device subscribes only to `commands/{its uuid}/#` (or narrower filters under it). */
export function deviceSubscribeAllowed(deviceUuid: string, filter: string): boolean {
  return filter.startsWith(`commands/${deviceUuid}/`) && filter.length <= 256;
}

/**
 * The device uuid an app topic names, if the topic is exactly `client/{state|request_state}/{email}/{uuid}`
 * for this app's own email; undefined otherwise (wrong shape, wildcards, another email).
 */
export function appTopicDevice(email: string, topic: string, kind: 'state' | 'request_state'): string | undefined {
  const prefix = `client/${kind}/${email}/`;
  if (!topic.startsWith(prefix)) return undefined;
  const uuid = topic.slice(prefix.length);
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(uuid) ? uuid : undefined;
}
