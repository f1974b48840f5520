import type { CentralContext } from '../context.js';
import type { BrokerEvents, CentralBroker } from './central-broker.js';
import type { Principal } from './acl.js';
import { PresenceTracker } from './presence.js';

type Device = Extract<Principal, { kind: 'device' }>;
export type DeviceStatus = 'ONLINE' | 'OFFLINE' | 'TIMEOUT';

interface ComponentState {
  component_type: string;
  name: string | null;
  state: unknown;
}

interface DeviceState {
  device_status: DeviceStatus;
  components: Record<string, ComponentState>;
}

/**
 * Central's realtime layer over the broker: presence (ONLINE on connect, OFFLINE on LWT or the last
 * connection closing), each device's latest component state, the full state pushed to its members
 * on `client/state/{email}/{uuid}` on every change and on request (seed §4.3), command delivery
 * (held in the database while the device is away, delivered when it connects, until they expire),
 * and command results. State lives in memory here; with `central.redis_url` it moves to Redis.
 */
export class Realtime implements BrokerEvents {
  readonly #state = new Map<string, DeviceState>();
  readonly #presence: PresenceTracker;
  #sweeper: NodeJS.Timeout | undefined;

  constructor(
    private readonly ctx: CentralContext,
    private readonly broker: CentralBroker,
  ) {
    this.#presence = new PresenceTracker(ctx.config.central.presence_timeout_s * 1000);
  }

  start(): void {
    this.broker.events = this;
    const everyMs = Math.max(1000, (this.ctx.config.central.presence_timeout_s * 1000) / 4);
    this.#sweeper = setInterval(() => this.sweepPresence(), everyMs);
    this.#sweeper.unref();
    this.ctx.bus.on('realtime', 'command.queued', ({ deviceUuid, commandId }) => {
      if (this.broker.isListening(deviceUuid))
        void this.#deliver(deviceUuid, [commandId]).catch((err: unknown) =>
          this.ctx.log.error({ err }, 'command delivery failed'),
        );
    });
  }

  stop(): void {
    if (this.#sweeper) clearInterval(this.#sweeper);
    this.ctx.bus.removeAll('realtime');
    this.broker.events = undefined;
  }

  deviceOnline(device: Device): void {
    this.#presence.touch(device.deviceUuid, this.ctx.clock.now());
    this.#setStatus(device.deviceUuid, 'ONLINE');
  }

  /** Connected devices silent past `central.presence_timeout_s` become TIMEOUT (run by a timer; tests call it). */
  sweepPresence(): void {
    for (const uuid of this.#presence.sweep(this.ctx.clock.now())) this.#setStatus(uuid, 'TIMEOUT');
  }

  /** Held commands go out once the device listens: published earlier they would reach no subscriber. */
  deviceListening(device: Device): void {
    void this.#deliver(device.deviceUuid).catch((err: unknown) =>
      this.ctx.log.error({ err }, 'held command delivery failed'),
    );
  }

  deviceOffline(device: Device): void {
    this.#presence.remove(device.deviceUuid);
    this.#setStatus(device.deviceUuid, 'OFFLINE');
  }

  deviceMessage(device: Device, topic: string, payload: Buffer): void {
    const kind = topic.slice(`devices/${device.deviceUuid}/`.length);
    if (kind === 'status') {
      const status = payload.toString('utf8');
      if (status === 'OFFLINE') {
        this.#presence.remove(device.deviceUuid);
        this.#setStatus(device.deviceUuid, 'OFFLINE');
      } else if (status === 'ONLINE') {
        this.#presence.touch(device.deviceUuid, this.ctx.clock.now());
        this.#setStatus(device.deviceUuid, 'ONLINE');
      }
      return;
    }
    // Any message proves the hub alive: a TIMEOUT ends with it.
    this.#presence.touch(device.deviceUuid, this.ctx.clock.now());
    if (this.#state.get(device.deviceUuid)?.device_status === 'TIMEOUT') this.#setStatus(device.deviceUuid, 'ONLINE');
    const body = parseJson(payload);
    if (kind === 'state' && body && typeof body === 'object')
      return this.#mergeState(device.deviceUuid, body as { components?: unknown });
    if (kind === 'results' && body && typeof body === 'object') {
      void this.#result(device, body as Record<string, unknown>).catch((err: unknown) =>
        this.ctx.log.error({ err }, 'command result not recorded'),
      );
      return;
    }
    this.ctx.log.debug({ device_uuid: device.deviceUuid, topic }, 'device message ignored');
  }

  stateRequested(_app: Extract<Principal, { kind: 'app' }>, deviceUuid: string): void {
    this.#pushSoon(deviceUuid);
  }

  /** The full state of a device in the §4.6 shape, with flat per-type keys for types with one component. */
  view(deviceUuid: string): Record<string, unknown> {
    const s = this.#state.get(deviceUuid) ?? { device_status: 'OFFLINE' as DeviceStatus, components: {} };
    const out: Record<string, unknown> = { device_status: s.device_status, components: s.components };
    const byType = new Map<string, ComponentState[]>();
    for (const c of Object.values(s.components))
      byType.set(c.component_type, [...(byType.get(c.component_type) ?? []), c]);
    for (const [type, list] of byType) if (list.length === 1 && !(type in out)) out[type] = list[0]!.state;
    return out;
  }

  #setStatus(deviceUuid: string, status: DeviceStatus): void {
    const s = this.#state.get(deviceUuid) ?? { device_status: status, components: {} };
    const changed = s.device_status !== status || !this.#state.has(deviceUuid);
    s.device_status = status;
    this.#state.set(deviceUuid, s);
    if (changed) this.#pushSoon(deviceUuid);
  }

  #mergeState(deviceUuid: string, body: { components?: unknown }): void {
    if (!body.components || typeof body.components !== 'object') return;
    const s = this.#state.get(deviceUuid) ?? { device_status: 'ONLINE' as DeviceStatus, components: {} };
    for (const [id, c] of Object.entries(body.components as Record<string, unknown>).slice(0, 256)) {
      const v = c as Partial<ComponentState> | null;
      if (!/^\d{1,10}$/.test(id) || !v || typeof v.component_type !== 'string') continue;
      s.components[id] = {
        component_type: v.component_type.slice(0, 64),
        name: typeof v.name === 'string' ? v.name.slice(0, 128) : null,
        state: v.state ?? null,
      };
    }
    this.#state.set(deviceUuid, s);
    this.#pushSoon(deviceUuid);
  }

  /** Fire-and-forget push: a failure is logged, never an unhandled rejection that could end central. */
  #pushSoon(deviceUuid: string): void {
    this.#push(deviceUuid).catch((err: unknown) =>
      this.ctx.log.error({ err, device_uuid: deviceUuid }, 'state push failed'),
    );
  }

  async #push(deviceUuid: string): Promise<void> {
    const members = await this.ctx.db.kysely
      .selectFrom('user_devices')
      .innerJoin('devices', 'devices.id', 'user_devices.device_id')
      .innerJoin('users', 'users.id', 'user_devices.user_id')
      .select('users.email')
      .where('devices.device_uuid', '=', deviceUuid)
      .execute();
    const payload = JSON.stringify(this.view(deviceUuid));
    await Promise.all(members.map((m) => this.broker.publish(`client/state/${m.email}/${deviceUuid}`, payload, true)));
  }

  /** Publishes queued, unexpired commands (all of the device's, or the given ones) and marks them delivered. */
  async #deliver(deviceUuid: string, ids?: string[]): Promise<void> {
    const now = this.ctx.clock.now();
    let q = this.ctx.db.kysely
      .selectFrom('device_commands')
      .innerJoin('devices', 'devices.id', 'device_commands.device_id')
      .select([
        'device_commands.id',
        'device_commands.component_id',
        'device_commands.action',
        'device_commands.payload',
        'device_commands.expires_at',
      ])
      .where('devices.device_uuid', '=', deviceUuid)
      .where('device_commands.status', '=', 'queued')
      .orderBy('device_commands.created_at');
    if (ids) q = q.where('device_commands.id', 'in', ids);
    for (const cmd of await q.execute()) {
      if (cmd.expires_at <= now) {
        await this.ctx.db.kysely
          .updateTable('device_commands')
          .set({ status: 'expired', updated_at: now })
          .where('id', '=', cmd.id)
          .execute();
        continue;
      }
      await this.broker.publish(`commands/${deviceUuid}/${cmd.component_id ?? 'system'}/${cmd.action}`, cmd.payload);
      // A Wi-Fi password is kept only until the hub has it.
      const scrub = cmd.action === 'change_wifi' ? { payload: '{}' } : {};
      await this.ctx.db.kysely
        .updateTable('device_commands')
        .set({ status: 'delivered', updated_at: now, ...scrub })
        .where('id', '=', cmd.id)
        .where('status', '=', 'queued')
        .execute();
    }
  }

  async #result(device: Device, body: Record<string, unknown>): Promise<void> {
    const id = body['command_id'];
    const status = body['status'];
    if (typeof id !== 'string' || (status !== 'done' && status !== 'failed')) return;
    const result = JSON.stringify(body['result'] ?? body['error'] ?? null).slice(0, 4096);
    // Only the device a command was for can report on it.
    await this.ctx.db.kysely
      .updateTable('device_commands')
      .set({ status, result, updated_at: this.ctx.clock.now() })
      .where('id', '=', id)
      .where('device_id', '=', device.deviceId)
      .execute();
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
