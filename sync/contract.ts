import type { Lane, RecordType } from './records.js';

/**
 * The named events a hub syncs to central, in one table both sides import: the lane each travels
 * (`alert`: committed and fsync'd at once, sent at once, never evicted; `event`; `telemetry`), the record
 * type it is sent as, and the shape of its `data`. A name missing from the table is an ordinary event on
 * the event lane — so a typo in a life-safety event's name is a compile error where it is emitted
 * (`syncEvent()` only takes names from here), never a record silently sent on an evictable lane.
 */
export interface SyncEventData {
  /** A fall: by the model, the sensor's own flag, or both; with what was recorded before it. */
  fall_detected: {
    alert_id: string;
    node_id: string;
    prob: number | null;
    by: 'model' | 'sensor' | 'both';
    model: string | null;
    /** IMU: samples before the fall (rate in rate_hz); radar: frames before it. */
    samples_before?: number[][];
    frames_before?: unknown[];
    rate_hz?: number;
    node_ts?: number;
  };
  /** What the node streamed after the fall, sent when it is complete. */
  fall_recording: {
    alert_id: string;
    node_id: string;
    rate_hz?: number;
    samples_after?: number[][];
    frames_after?: unknown[];
  };
  /** The person said "I'm OK" (the hub's button) or a caregiver cancelled it in the app. */
  fall_cancelled: { alert_id: string; node_id: string; by: string; who?: string; after_s: number };
  /** Decisions latched as repeats of an open alert (a running total). */
  fall_duplicates: { alert_id: string; node_id: string; duplicates: number };
  /** Fall detection stopped working for a node (silent, model failed to load…). */
  detection_down: { alert_id: string; reason: string; node_id?: string };
  /** …and works again: ends the detection_down alert it names. */
  detection_restored: { alert_id: string; why: string; down_s: number; node_id?: string };
  /** Older hubs (before the radar decision moved onto the hub) sent the sensor's fall flag itself. */
  radar_fall_state: { node_id?: string };
}

export type SyncEventName = keyof SyncEventData;

export interface SyncEventSpec {
  lane: Lane;
  type: Extract<RecordType, 'event' | 'alert' | 'ota_status'>;
}

/** Alerts open an alert at central; the rest travel with them so none arrives before its alert. */
const BUILT_IN: { readonly [K in SyncEventName]: SyncEventSpec } = {
  fall_detected: { lane: 'alert', type: 'alert' },
  detection_down: { lane: 'alert', type: 'alert' },
  radar_fall_state: { lane: 'alert', type: 'alert' },
  fall_recording: { lane: 'alert', type: 'event' },
  fall_cancelled: { lane: 'alert', type: 'event' },
  fall_duplicates: { lane: 'alert', type: 'event' },
  detection_restored: { lane: 'alert', type: 'event' },
};

/**
 * Component types whose LAN nodes run fall detection on the hub (the hub's node kinds with a `fall`
 * part: daemon/nodes/registry.ts, which a test holds to this list). Central watches hubs with one of
 * them attached: a silent hub there is fall detection down.
 */
export const FALL_DETECTION_TYPES: readonly string[] = Object.freeze(['imu', 'radar']);

/** Every name of the table, as a value: `SyncEvent.fall_cancelled` is checked by the compiler, a literal is not. */
export const SyncEvent = Object.freeze(
  Object.fromEntries(Object.keys(BUILT_IN).map((k) => [k, k])) as { readonly [K in SyncEventName]: K },
);

/** Events registered beside the built-in ones (an extension's record type; tests). */
const extra = new Map<string, SyncEventSpec>();

/** The lane and record type of a named event; undefined for a name the contract does not know. */
export function syncEventSpec(name: string): SyncEventSpec | undefined {
  return Object.hasOwn(BUILT_IN, name) ? BUILT_IN[name as SyncEventName] : extra.get(name);
}

/** Adds an event to the contract (a name already there is refused: its meaning cannot change underneath). */
export function registerSyncEvent(name: string, spec: SyncEventSpec): void {
  if (syncEventSpec(name)) throw new Error(`sync event ${name} is already in the contract`);
  extra.set(name, Object.freeze({ ...spec }));
}

/** Removes a registered event (tests clean up after themselves); built-in ones stay. */
export function unregisterSyncEvent(name: string): void {
  extra.delete(name);
}

/** A pipeline event of the contract: the name and its data's shape checked together. */
export function syncEvent<K extends SyncEventName>(
  name: K,
  data: SyncEventData[K],
): { kind: 'event'; name: K; data: SyncEventData[K] & Record<string, unknown> } {
  return { kind: 'event', name, data: data as SyncEventData[K] & Record<string, unknown> };
}
