import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from '../../core/logger.js';
import type { ComponentSpec } from '../../sync/components.js';
import type { Pipeline } from '../components/pipeline.js';
import type { ComponentRuntime } from '../components/runtime.js';
import type { HubIdentity } from '../identity/identity.js';
import type { HubCredentials } from '../state/credentials.js';

export interface RealtimeDeps {
  log: Logger;
  identity: HubIdentity;
  pipeline: Pipeline;
  runtime: () => ComponentRuntime;
  components: () => readonly ComponentSpec[];
  /** system/reset: central de-provisioned this hub. */
  onReset: () => void;
  /** system/reload_components: fetch the component list now. */
  onReload: () => void;
  /**
   * system/cancel_alert: a caregiver cancelled the alert in the app ("I'm OK"): the alarm in the
   * home stops and the LAN hears of it. Resolves whether the hub knew the alert open.
   */
  onCancelAlert?: (alertId: string, by: string) => Promise<boolean>;
}

/** State changes are coalesced: a radar reporting every second must not mean a message per reading. */
const STATE_FLUSH_MS = 500;
/** The application heartbeat: central shows TIMEOUT when it stops while the connection stays up. */
const HEARTBEAT_MS = 30_000;
/** How long a clean disconnect waits for central to acknowledge OFFLINE. */
const OFFLINE_ACK_MS = 1000;

/**
 * The hub's one MQTT connection to central (§4.6), authenticated by its device certificate: LWT
 * `devices/{uuid}/status` = OFFLINE, ONLINE on every (re)connect, component state on
 * `devices/{uuid}/state`, commands from `commands/{uuid}/#` run through the runtime's one entry
 * point and answered on `devices/{uuid}/results`. mqtt.js reconnects by itself and resubscribes.
 */
export class RealtimeLink {
  #client: MqttClient | undefined;
  #dirty = new Set<number>();
  #flush: NodeJS.Timeout | undefined;
  #heartbeat: NodeJS.Timeout | undefined;

  constructor(private readonly deps: RealtimeDeps) {}

  /** A connection exists or is being (re)established. */
  active(): boolean {
    return this.#client !== undefined;
  }

  /** Connected to central's broker right now. */
  connected(): boolean {
    return this.#client?.connected === true;
  }

  connect(creds: HubCredentials): void {
    void this.disconnect(); // the old client is ended at once; only its OFFLINE is not waited for
    const uuid = this.deps.identity.deviceUuid;
    const client = mqtt.connect(creds.mqtt_url, {
      clientId: `hub-${uuid}`,
      protocolVersion: 4,
      cert: creds.device_certificate,
      key: this.deps.identity.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      ca: creds.ca_certificate,
      reconnectPeriod: 5000,
      connectTimeout: 15_000,
      will: { topic: `devices/${uuid}/status`, payload: Buffer.from('OFFLINE'), qos: 1, retain: true },
    });
    this.#client = client;
    client.on('connect', () => {
      this.deps.log.info({ url: creds.mqtt_url }, 'connected to central’s broker');
      // Subscribed first: once ONLINE is out, a command sent this instant must find the subscription.
      client.subscribe(`commands/${uuid}/#`, { qos: 1 }, () =>
        client.publish(`devices/${uuid}/status`, 'ONLINE', { qos: 1, retain: true }),
      );
      // Everything central may have missed while we were away.
      for (const c of this.deps.components()) this.#dirty.add(c.id);
      this.#schedule();
    });
    client.on('message', (topic, payload) => void this.#command(topic, payload));
    this.#heartbeat = setInterval(() => {
      if (client.connected) client.publish(`devices/${uuid}/status`, 'ONLINE', { qos: 1, retain: true });
    }, HEARTBEAT_MS);
    client.on('error', (err) => this.deps.log.warn({ err: err.message }, 'central broker connection error'));
    this.deps.pipeline.on('central', (out) => {
      if (out.kind === 'event') return;
      this.#dirty.add(out.componentId);
      this.#schedule();
    });
  }

  disconnect(): Promise<void> {
    this.deps.pipeline.off('central');
    if (this.#flush) clearTimeout(this.#flush);
    this.#flush = undefined;
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
    const client = this.#client;
    this.#client = undefined;
    if (!client) return Promise.resolve();
    // A clean stop says OFFLINE itself (the LWT covers crashes and cut cables).
    return new Promise((resolve) => {
      // Still connecting (or reconnecting): end it without waiting, mqtt.js may never call back then.
      if (!client.connected) {
        client.end(true);
        return resolve();
      }
      // The connection may drop right now (central stopping too): the OFFLINE's acknowledgement would then
      // wait for a reconnection that never comes, and mqtt.js would retry for ever and keep the hub from
      // exiting. So it gets a bounded time, then the client is ended by force (the LWT still says OFFLINE).
      const force = setTimeout(() => {
        client.end(true);
        resolve();
      }, OFFLINE_ACK_MS);
      client.publish(`devices/${this.deps.identity.deviceUuid}/status`, 'OFFLINE', { qos: 1, retain: true }, () =>
        client.end(false, {}, () => {
          clearTimeout(force);
          resolve();
        }),
      );
    });
  }

  #schedule(): void {
    this.#flush ??= setTimeout(() => {
      this.#flush = undefined;
      this.#publishState();
    }, STATE_FLUSH_MS);
  }

  #publishState(): void {
    const client = this.#client;
    if (!client?.connected || this.#dirty.size === 0) return;
    const specs = new Map(this.deps.components().map((c) => [c.id, c]));
    const components: Record<string, { component_type: string; name: string | null; state: unknown; at: number }> = {};
    for (const id of this.#dirty) {
      const spec = specs.get(id);
      const latest = this.deps.pipeline.latest(id);
      if (!spec || !latest) continue;
      components[String(id)] = {
        component_type: spec.component_type,
        name: spec.name,
        state: latest.state ?? latest.readings,
        // In the hub's clock, like sync records' ts: central orders the two by it.
        at: latest.ts,
      };
    }
    this.#dirty.clear();
    if (Object.keys(components).length > 0)
      client.publish(`devices/${this.deps.identity.deviceUuid}/state`, JSON.stringify({ components }), { qos: 1 });
  }

  async #command(topic: string, payload: Buffer): Promise<void> {
    const uuid = this.deps.identity.deviceUuid;
    const [, , componentId, action] = topic.split('/');
    let body: { command_id?: unknown; value?: unknown; duration_s?: unknown };
    try {
      body = JSON.parse(payload.toString('utf8')) as typeof body;
    } catch {
      this.deps.log.warn({ topic }, 'command with a payload that is not JSON: ignored');
      return;
    }
    const commandId = typeof body.command_id === 'string' ? body.command_id : undefined;
    const answer = (status: 'done' | 'failed', detail: Record<string, unknown>) => {
      if (commandId)
        this.#client?.publish(`devices/${uuid}/results`, JSON.stringify({ command_id: commandId, status, ...detail }), {
          qos: 1,
        });
    };
    try {
      if (componentId === 'system') {
        if (action === 'reset') {
          answer('done', { result: { reset: true } });
          this.deps.onReset();
        } else if (action === 'reload_components') {
          this.deps.onReload();
          answer('done', { result: { reloaded: true } });
        } else if (action === 'cancel_alert') {
          const v = (body.value ?? {}) as { alert_id?: unknown; by?: unknown };
          if (typeof v.alert_id !== 'string' || !/^[A-Za-z0-9_.:-]{1,64}$/.test(v.alert_id)) {
            answer('failed', { error: 'value.alert_id: expected an alert id' });
            return;
          }
          const by = typeof v.by === 'string' ? v.by.slice(0, 320) : 'app';
          const cancelled = (await this.deps.onCancelAlert?.(v.alert_id, by)) ?? false;
          answer('done', { result: { cancelled } });
        } else if (action === 'change_wifi' || action === 'ota_notify') {
          // Applied by the BLE/Wi-Fi and OTA work; acknowledged so central knows the hub has it.
          answer('done', { result: { acknowledged: true } });
        } else answer('failed', { error: `unknown system action ${String(action)}` });
        return;
      }
      const result = await this.deps.runtime().command(Number(componentId), {
        action: String(action),
        ...(body.value !== undefined ? { value: body.value } : {}),
        ...(typeof body.duration_s === 'number' ? { durationS: body.duration_s } : {}),
      });
      answer('done', { result });
    } catch (err) {
      answer('failed', { error: (err as Error).message });
    }
  }
}
