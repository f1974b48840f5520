import { KeyedQueue } from '../../core/keyed-queue.js';
import type { RedisRelay } from '../cluster/redis-relay.js';
import type { CentralContext } from '../context.js';
import type { Principal } from './acl.js';
import { alertView, type AlertView } from '../notify/events.js';
import { openAlertsOfDevice } from '../store/alert-watch.js';
import { recordCommandResult } from '../store/command-delivery.js';
import { memberEmails } from '../store/realtime-access.js';
import { deliverCommands } from './command-delivery.js';
import type { ComponentState, DeviceStateStore, DeviceStatus } from './state-store.js';

type Device = Extract<Principal, { kind: 'device' }>;
/** Alerts carried in `client/state`: enough for any real household; the API lists them all. */
const OPEN_ALERTS_SHOWN = 20;
export type { DeviceStatus } from './state-store.js';

/** What the realtime layer hears from a broker (embedded or external). */
export interface BrokerEvents {
  deviceOnline(device: Device): void;
  /** The device subscribed to its commands: from now on a published command reaches it. */
  deviceListening(device: Device): void;
  /** The device's last connection closed (or its LWT fired). */
  deviceOffline(device: Device): void;
  deviceMessage(device: Device, topic: string, payload: Buffer): void;
  stateRequested(app: Extract<Principal, { kind: 'app' }>, deviceUuid: string): void;
}

/** Calls the realtime layer, if attached; a handler that throws is logged, never thrown into a broker. */
export function tellRealtime(
  events: BrokerEvents | undefined,
  log: { error(obj: object, msg: string): void },
  fn: (events: BrokerEvents) => void,
): void {
  if (!events) return;
  try {
    fn(events);
  } catch (err) {
    log.error({ err }, 'realtime handler failed');
  }
}

/** What the realtime layer needs of a broker. */
export interface RealtimeBroker {
  events: BrokerEvents | undefined;
  /**
   * True when every central instance talks to this one broker (external mode): what one publishes
   * reaches every client, and whether a device listens is known from the shared store.
   */
  readonly shared: boolean;
  /** On this instance's broker, the device is connected and subscribed to its commands. */
  isListening(deviceUuid: string): boolean;
  publish(topic: string, payload: string, retain?: boolean): Promise<void>;
}

/**
 * Central's realtime layer over a broker: presence (ONLINE on connect, OFFLINE on LWT or the last
 * connection closing, TIMEOUT when silent too long), each device's latest component state, the full
 * state pushed to its members on `client/state/{email}/{uuid}` on every change and on request
 * (seed §4.3), command delivery (held in the database while the device is away, delivered when it
 * listens, until they expire) and command results. State lives in a DeviceStateStore: in memory, or
 * in Redis shared by several instances. Everything about one device runs in order, one step after
 * another, so an app never receives an older state after a newer one.
 */
export class Realtime implements BrokerEvents {
  readonly #queue = new KeyedQueue((err, deviceUuid) =>
    this.ctx.log.error({ err, device_uuid: deviceUuid }, 'realtime update failed'),
  );
  #sweeper: NodeJS.Timeout | undefined;
  #sweeping: Promise<void> | undefined;

  constructor(
    private readonly ctx: CentralContext,
    private readonly broker: RealtimeBroker,
    private readonly store: DeviceStateStore,
    private readonly relay?: RedisRelay,
  ) {}

  start(): void {
    this.broker.events = this;
    const everyMs = Math.max(1000, (this.ctx.config.central.presence_timeout_s * 1000) / 4);
    this.#sweeper = setInterval(() => void this.sweepPresence(), everyMs);
    this.#sweeper.unref();
    this.ctx.bus.on('realtime', 'command.queued', ({ deviceUuid, commandId }) => {
      void this.#isListening(deviceUuid)
        .then((yes) => (yes ? this.#deliver(deviceUuid, [commandId]) : undefined))
        .catch((err: unknown) => this.ctx.log.error({ err }, 'command delivery failed'));
    });
    // What a sync batch brought (a backlog after an outage, or readings while MQTT was down) reaches
    // apps like live state, but never overwrites a fresher one (applySynced).
    this.ctx.bus.on('realtime', 'alerts.changed', ({ deviceUuid }) => {
      void this.#inOrder(deviceUuid, () => this.#push(deviceUuid));
    });
    this.ctx.bus.on('realtime', 'sync.stored', ({ deviceUuid, components }) => {
      void this.#inOrder(deviceUuid, async () => {
        if ((await this.store.mergeSynced(deviceUuid, components)).length > 0) await this.#push(deviceUuid);
      });
    });
  }

  /** Resolves once every queued step has run. */
  async stop(): Promise<void> {
    if (this.#sweeper) clearInterval(this.#sweeper);
    this.ctx.bus.removeAll('realtime');
    this.broker.events = undefined;
    await this.#sweeping;
    await this.#queue.idle();
  }

  deviceOnline(device: Device): void {
    void this.#inOrder(device.deviceUuid, async () => {
      await this.store.touch(device.deviceUuid, this.ctx.clock.now());
      await this.#setStatus(device.deviceUuid, 'ONLINE');
    });
  }

  /** Held commands go out once the device listens: published earlier they would reach no subscriber. */
  deviceListening(device: Device): void {
    void this.#deliver(device.deviceUuid).catch((err: unknown) =>
      this.ctx.log.error({ err }, 'held command delivery failed'),
    );
  }

  deviceOffline(device: Device): void {
    void this.#inOrder(device.deviceUuid, async () => {
      await this.store.forget(device.deviceUuid);
      await this.#setStatus(device.deviceUuid, 'OFFLINE');
    });
  }

  /** Connected devices silent past `central.presence_timeout_s` become TIMEOUT (run by a timer; tests await it). */
  sweepPresence(): Promise<void> {
    this.#sweeping ??= this.store
      .sweep(this.ctx.clock.now())
      .then((uuids) =>
        Promise.all(uuids.map((uuid) => this.#inOrder(uuid, () => this.#setStatus(uuid, 'TIMEOUT')))).then(
          () => undefined,
        ),
      )
      .catch((err: unknown) => this.ctx.log.error({ err }, 'presence sweep failed'))
      .finally(() => (this.#sweeping = undefined));
    return this.#sweeping;
  }

  deviceMessage(device: Device, topic: string, payload: Buffer): void {
    const uuid = device.deviceUuid;
    const kind = topic.slice(`devices/${uuid}/`.length);
    if (kind === 'status') {
      const status = payload.toString('utf8');
      if (status === 'OFFLINE') this.deviceOffline(device);
      else if (status === 'ONLINE') this.deviceOnline(device);
      return;
    }
    const body = parseJson(payload);
    void this.#inOrder(uuid, async () => {
      // Any message proves the hub alive: one no longer tracked (swept as TIMEOUT) is ONLINE again.
      if (await this.store.touch(uuid, this.ctx.clock.now())) await this.#setStatus(uuid, 'ONLINE');
      if (kind === 'state' && body && typeof body === 'object') await this.#mergeState(uuid, body);
    });
    if (kind === 'results' && body && typeof body === 'object') {
      void this.#result(device, body as Record<string, unknown>).catch((err: unknown) =>
        this.ctx.log.error({ err }, 'command result not recorded'),
      );
    } else if (kind !== 'state') this.ctx.log.debug({ device_uuid: uuid, topic }, 'device message ignored');
  }

  stateRequested(_app: Extract<Principal, { kind: 'app' }>, deviceUuid: string): void {
    void this.#inOrder(deviceUuid, () => this.#push(deviceUuid));
  }

  /** The full state of a device in the §4.6 shape, with flat per-type keys for types with one component. */
  async view(deviceUuid: string): Promise<Record<string, unknown>> {
    const s = (await this.store.get(deviceUuid)) ?? { device_status: 'OFFLINE' as DeviceStatus, components: {} };
    const out: Record<string, unknown> = {
      device_status: s.device_status,
      components: s.components,
      alerts: await this.#openAlerts(deviceUuid),
    };
    const byType = new Map<string, ComponentState[]>();
    for (const c of Object.values(s.components))
      byType.set(c.component_type, [...(byType.get(c.component_type) ?? []), c]);
    for (const [type, list] of byType) if (list.length === 1 && !(type in out)) out[type] = list[0]!.state;
    return out;
  }

  /**
   * The device's alerts still awaiting someone (open or acknowledged, newest first): an app that
   * connects, or reconnects after missing the push, sees an unanswered fall at once.
   */
  async #openAlerts(deviceUuid: string): Promise<AlertView[]> {
    const rows = await openAlertsOfDevice(this.ctx.db, deviceUuid, OPEN_ALERTS_SHOWN);
    return rows.map((r) => alertView(r, r.escalations));
  }

  /** Runs `step` after every earlier step for the device; a failure is logged, never thrown at a broker. */
  #inOrder(deviceUuid: string, step: () => Promise<void>): Promise<void> {
    return this.#queue.run(deviceUuid, step);
  }

  async #isListening(deviceUuid: string): Promise<boolean> {
    if (!this.broker.shared) return this.broker.isListening(deviceUuid);
    const status = (await this.store.get(deviceUuid))?.device_status;
    return status === 'ONLINE' || status === 'TIMEOUT';
  }

  async #setStatus(deviceUuid: string, status: DeviceStatus): Promise<void> {
    if ((await this.store.setStatus(deviceUuid, status)) !== status) await this.#push(deviceUuid);
  }

  async #mergeState(deviceUuid: string, body: { components?: unknown }): Promise<void> {
    if (!body.components || typeof body.components !== 'object') return;
    const merged: Record<string, ComponentState> = {};
    for (const [id, c] of Object.entries(body.components as Record<string, unknown>).slice(0, 256)) {
      const v = c as Partial<ComponentState> | null;
      if (!/^\d{1,10}$/.test(id) || !v || typeof v.component_type !== 'string') continue;
      merged[id] = {
        component_type: v.component_type.slice(0, 64),
        name: typeof v.name === 'string' ? v.name.slice(0, 128) : null,
        state: v.state ?? null,
        ...(Number.isSafeInteger(v.at) && v.at! >= 0 ? { at: v.at! } : {}),
      };
    }
    await this.store.mergeComponents(deviceUuid, merged);
    await this.#push(deviceUuid);
  }

  async #push(deviceUuid: string): Promise<void> {
    const emails = await memberEmails(this.ctx.db, deviceUuid);
    if (emails.length === 0) return;
    const payload = JSON.stringify(await this.view(deviceUuid));
    for (const email of emails) {
      const topic = `client/state/${email}/${deviceUuid}`;
      await this.broker.publish(topic, payload, true);
      // Apps on other instances' embedded brokers get it too; an external broker already serves them all.
      if (!this.broker.shared) this.relay?.publishElsewhere(topic, payload, true);
    }
  }

  #deliver(deviceUuid: string, ids?: string[]): Promise<void> {
    return deliverCommands(this.ctx, (topic, payload) => this.broker.publish(topic, payload), deviceUuid, ids);
  }

  async #result(device: Device, body: Record<string, unknown>): Promise<void> {
    const id = body['command_id'];
    const status = body['status'];
    if (typeof id !== 'string' || (status !== 'done' && status !== 'failed')) return;
    const result = JSON.stringify(body['result'] ?? body['error'] ?? null).slice(0, 4096);
    // Only the device a command was for can report on it.
    await recordCommandResult(this.ctx.db, device.deviceId, id, { status, result, now: this.ctx.clock.now() });
  }
}

function parseJson(payload: Buffer): unknown {
  if (payload.length > 64 * 1024) return undefined;
  try {
    return JSON.parse(payload.toString('utf8'));
  } catch {
    return undefined;
  }
}
