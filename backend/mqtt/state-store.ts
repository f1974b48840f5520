import { PresenceTracker } from './presence.js';

export type DeviceStatus = 'ONLINE' | 'OFFLINE' | 'TIMEOUT';

export interface ComponentState {
  component_type: string;
  name: string | null;
  state: unknown;
  /** When the hub produced this state, in the hub's clock (ms); absent from hubs that do not say. */
  at?: number;
}

/**
 * What store-and-forward sync learned about one component (backend/mqtt/synced-state.ts): its
 * latest state, or its latest readings, as of `at` in the hub's clock.
 */
export interface SyncedComponent {
  component_type: string;
  at: number;
  state?: unknown;
  readings?: Record<string, number>;
}

/**
 * The component after a synced update, or undefined when the update is not newer than what is held.
 * Sync delivers the past (a backlog drained after an outage), so it never overwrites a fresher state:
 * it applies to a component never seen, or one whose `at` is older. A state the live channel set
 * without a time is taken as the freshest. Readings merge into the held readings object.
 */
export function applySynced(held: ComponentState | undefined, u: SyncedComponent): ComponentState | undefined {
  if (held && (typeof held.at !== 'number' || held.at >= u.at)) return undefined;
  let state: unknown = u.state ?? null;
  if (u.readings) {
    const base = held?.state && typeof held.state === 'object' && !Array.isArray(held.state) ? held.state : {};
    state = { ...base, ...u.readings };
  }
  return { component_type: u.component_type, name: held?.name ?? null, state, at: u.at };
}

export interface DeviceState {
  device_status: DeviceStatus;
  components: Record<string, ComponentState>;
}

/**
 * Each device's latest presence and component state, and the last-seen order that finds silent
 * devices (seed §4.5). In memory for one central instance; in Redis (redis-state-store.ts) when
 * several instances share the devices. Both pass tests/backend/state-store.test.ts.
 */
export interface DeviceStateStore {
  get(deviceUuid: string): Promise<DeviceState | undefined>;
  /** Sets the status; resolves to the one it replaced (undefined for a device never seen). */
  setStatus(deviceUuid: string, status: DeviceStatus): Promise<DeviceStatus | undefined>;
  /** Merges component states in (a hub sends only what changed). */
  mergeComponents(deviceUuid: string, components: Record<string, ComponentState>): Promise<void>;
  /**
   * Applies synced updates by applySynced(), atomically per device (a live update on another
   * instance cannot slip between the read and the write). A device not yet known is created
   * OFFLINE: sync says nothing about its connection. Resolves to the component ids changed.
   */
  mergeSynced(deviceUuid: string, updates: Record<string, SyncedComponent>): Promise<string[]>;
  /** The device spoke at `nowMs`; resolves true if it was not being tracked (new, or swept as TIMEOUT). */
  touch(deviceUuid: string, nowMs: number): Promise<boolean>;
  /** The device disconnected: no longer a TIMEOUT candidate. */
  forget(deviceUuid: string): Promise<void>;
  /**
   * Devices silent past the limit, each returned once; they leave the order until they speak again.
   * With several instances, one sweeps at a time: the others get [] until its lease lapses.
   */
  sweep(nowMs: number): Promise<string[]>;
  close(): Promise<void>;
}

export class MemoryStateStore implements DeviceStateStore {
  readonly #state = new Map<string, DeviceState>();
  readonly #presence: PresenceTracker;

  constructor(limitMs: number) {
    this.#presence = new PresenceTracker(limitMs);
  }

  get(deviceUuid: string): Promise<DeviceState | undefined> {
    const s = this.#state.get(deviceUuid);
    // A copy: callers serialise it later, after other updates may have landed.
    return Promise.resolve(s && { device_status: s.device_status, components: { ...s.components } });
  }

  setStatus(deviceUuid: string, status: DeviceStatus): Promise<DeviceStatus | undefined> {
    const s = this.#state.get(deviceUuid);
    if (!s) {
      this.#state.set(deviceUuid, { device_status: status, components: {} });
      return Promise.resolve(undefined);
    }
    const before = s.device_status;
    s.device_status = status;
    return Promise.resolve(before);
  }

  mergeComponents(deviceUuid: string, components: Record<string, ComponentState>): Promise<void> {
    let s = this.#state.get(deviceUuid);
    if (!s) this.#state.set(deviceUuid, (s = { device_status: 'ONLINE', components: {} }));
    Object.assign(s.components, components);
    return Promise.resolve();
  }

  mergeSynced(deviceUuid: string, updates: Record<string, SyncedComponent>): Promise<string[]> {
    let s = this.#state.get(deviceUuid);
    if (!s) this.#state.set(deviceUuid, (s = { device_status: 'OFFLINE', components: {} }));
    const changed: string[] = [];
    for (const [id, u] of Object.entries(updates)) {
      const next = applySynced(s.components[id], u);
      if (!next) continue;
      s.components[id] = next;
      changed.push(id);
    }
    return Promise.resolve(changed);
  }

  touch(deviceUuid: string, nowMs: number): Promise<boolean> {
    return Promise.resolve(this.#presence.touch(deviceUuid, nowMs));
  }

  forget(deviceUuid: string): Promise<void> {
    this.#presence.remove(deviceUuid);
    return Promise.resolve();
  }

  sweep(nowMs: number): Promise<string[]> {
    return Promise.resolve(this.#presence.sweep(nowMs));
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
