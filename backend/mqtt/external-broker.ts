import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { AresError } from '../../core/errors.js';
import type { CentralContext } from '../context.js';
import { provisionedDeviceId } from '../store/device-credentials.js';
import type { Principal } from './acl.js';
import { DynsecClient } from './dynsec.js';
import { DynsecAccounts } from './dynsec-accounts.js';
import { tellRealtime, type BrokerEvents, type RealtimeBroker } from './realtime.js';

type Device = Extract<Principal, { kind: 'device' }>;

/** Central's own role on the broker: what the realtime layer publishes and listens to. */
const CENTRAL_ROLE = 'ares-central';
/** Every central instance subscribes in one share group: each device message reaches one of them. */
const SHARE = '$share/ares-central/';
const RECONCILE_MS = 60_000;

/**
 * External-broker mode (`central.mqtt_url`): central is a client of a Mosquitto with the
 * dynamic-security plugin. It administers the broker's clients and roles (dynsec-accounts.ts),
 * listens to devices through a shared subscription (several central instances split the work), and
 * publishes state and commands. Presence comes from the hub's own `devices/{uuid}/status`: ONLINE
 * after it subscribed to its commands, OFFLINE from its will when it vanishes.
 */
export class ExternalBroker implements RealtimeBroker {
  readonly shared = true;
  events: BrokerEvents | undefined;
  #client: MqttClient | undefined;
  #accounts: DynsecAccounts | undefined;
  #reconciler: NodeJS.Timeout | undefined;
  /** Device lookups by uuid, as promises: messages of one device are handled in arrival order. */
  readonly #devices = new Map<string, Promise<Device | undefined>>();

  constructor(private readonly ctx: CentralContext) {}

  async start(): Promise<void> {
    const { ctx } = this;
    const cfg = ctx.config.central;
    const url = new URL(cfg.mqtt_url!);
    if (!cfg.mqtt_device_url)
      throw new AresError(
        'ARES_ERR_CONFIG',
        'central.mqtt_device_url: required with central.mqtt_url (where hubs connect)',
      );
    if (!url.username)
      throw new AresError(
        'ARES_ERR_CONFIG',
        'central.mqtt_url: needs the login central administers the broker with (mqtts://user:password@host:port)',
      );
    let ca: string[];
    try {
      ca = cfg.mqtt_ca_file ? [readFileSync(cfg.mqtt_ca_file, 'utf8')] : [ctx.ca.certificatePem, ...rootCertificates];
    } catch (err) {
      throw new AresError('ARES_ERR_CONFIG', `central.mqtt_ca_file: ${(err as Error).message}`, { cause: err });
    }
    const self = decodeURIComponent(url.username);
    const client = mqtt.connect(`${url.protocol}//${url.host}`, {
      username: self,
      password: decodeURIComponent(url.password),
      clientId: `ares-central-${randomBytes(6).toString('hex')}`,
      ca,
      protocolVersion: 4,
      connectTimeout: 5000,
      reconnectPeriod: 1000,
    });
    this.#client = client;
    client.on('error', (err) => ctx.log.warn({ err: err.message }, 'external MQTT broker connection error'));
    client.on('offline', () => ctx.log.warn('external MQTT broker unreachable: reconnecting'));
    try {
      await new Promise<void>((resolve, reject) => {
        client.once('connect', () => resolve());
        client.once('error', reject);
        // A refused or unreachable broker may only close (no 'error'): either way, not connected.
        client.once('close', () => reject(new Error('connection closed before it was accepted')));
      });
    } catch (err) {
      client.end(true);
      throw new AresError('ARES_ERR_CONFIG', `central.mqtt_url: cannot connect: ${(err as Error).message}`, {
        cause: err,
      });
    }
    client.on('message', (topic, payload) => this.#message(topic, payload));
    const dynsec = new DynsecClient(client);
    await dynsec.start();
    await this.#grantSelf(client, dynsec, self);
    const granted = await client.subscribeAsync({
      [`${SHARE}devices/+/+`]: { qos: 1 },
      [`${SHARE}client/request_state/+/+`]: { qos: 1 },
    });
    if (granted.some((g) => g.qos === 128))
      throw new AresError(
        'ARES_ERR_CONFIG',
        `central.mqtt_url: the broker refused central's subscriptions (is ${self} a dynamic-security admin?)`,
      );
    const accounts = new DynsecAccounts(ctx, dynsec);
    accounts.start();
    this.#accounts = accounts;
    ctx.bus.on('external-broker', 'device.revoked', ({ deviceUuid }) => this.#devices.delete(deviceUuid));
    await accounts.reconcile();
    this.#reconciler = setInterval(
      () => void accounts.reconcile().catch((err: unknown) => ctx.log.warn({ err }, 'broker reconcile failed')),
      RECONCILE_MS,
    );
    this.#reconciler.unref();
    ctx.log.info({ broker: `${url.protocol}//${url.host}` }, 'central connected to the external MQTT broker');
  }

  /**
   * Central grants itself what it publishes and hears (the login `mosquitto_ctrl dynsec init` made
   * may only administer). Mosquitto disconnects a client whose roles change, so the grant is sent
   * once, without waiting for an answer, and central carries on when it has reconnected.
   */
  async #grantSelf(client: MqttClient, dynsec: DynsecClient, self: string): Promise<void> {
    await dynsec.apply([
      {
        command: 'createRole',
        rolename: CENTRAL_ROLE,
        acls: [
          { acltype: 'publishClientSend', topic: 'commands/#', allow: true },
          { acltype: 'publishClientSend', topic: 'client/state/#', allow: true },
          { acltype: 'subscribePattern', topic: `${SHARE}devices/#`, allow: true },
          { acltype: 'subscribePattern', topic: `${SHARE}client/request_state/#`, allow: true },
          { acltype: 'publishClientReceive', topic: 'devices/#', allow: true },
          { acltype: 'publishClientReceive', topic: 'client/request_state/#', allow: true },
        ],
      },
    ]);
    const [me] = await dynsec.apply([{ command: 'getClient', username: self }]);
    const client_ = me?.data?.['client'] as { roles?: { rolename?: string }[] } | undefined;
    if (client_?.roles?.some((r) => r.rolename === CENTRAL_ROLE)) return;
    const back = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new AresError('ARES_ERR_UNAVAILABLE', 'central.mqtt_url: no reconnect after granting central its role', {
              transient: true,
            }),
          ),
        15_000,
      );
      client.once('connect', () => (clearTimeout(timer), resolve()));
    });
    await dynsec.send([{ command: 'addClientRole', username: self, rolename: CENTRAL_ROLE, priority: 10 }]);
    await back;
    this.ctx.log.info({ role: CENTRAL_ROLE }, 'external MQTT broker: central granted itself its role');
  }

  /** Shared: whether a device listens is known from the shared state store, not here. */
  isListening(): boolean {
    return false;
  }

  async publish(topic: string, payload: string, retain = false): Promise<void> {
    if (!this.#client || this.#client.disconnecting) return;
    await this.#client.publishAsync(topic, payload, { qos: 1, retain });
  }

  /** Tests: reconcile the broker's accounts now. */
  housekeeping(): Promise<void> {
    return this.#accounts?.reconcile() ?? Promise.resolve();
  }

  #message(topic: string, payload: Buffer): void {
    const parts = topic.split('/');
    if (parts[0] === 'devices' && parts.length === 3) {
      void this.#device(parts[1]!).then(
        (device) => device && this.#fromDevice(device, parts[2]!, topic, payload),
        (err: unknown) => this.ctx.log.error({ err }, 'device lookup failed'),
      );
    } else if (parts[0] === 'client' && parts[1] === 'request_state' && parts.length === 4) {
      // The broker let this app publish here only for a device it owns or views.
      this.#tell((e) => e.stateRequested({ kind: 'app', userId: 0, email: parts[2]! }, parts[3]!));
    }
  }

  #fromDevice(device: Device, kind: string, topic: string, payload: Buffer): void {
    if (kind === 'status') {
      const status = payload.toString('utf8');
      if (status === 'ONLINE') this.#tell((e) => (e.deviceOnline(device), e.deviceListening(device)));
      else if (status === 'OFFLINE') this.#tell((e) => e.deviceOffline(device));
      return;
    }
    this.#tell((e) => e.deviceMessage(device, topic, payload));
  }

  /** The provisioned device behind a uuid (cached; forgotten when it is revoked, or not found). */
  #device(uuid: string): Promise<Device | undefined> {
    let lookup = this.#devices.get(uuid);
    if (lookup) return lookup;
    lookup = provisionedDeviceId(this.ctx.db, uuid).then((deviceId): Device | undefined => {
      if (deviceId === undefined) this.#devices.delete(uuid);
      return deviceId === undefined ? undefined : { kind: 'device', deviceId, deviceUuid: uuid, serial: '' };
    });
    lookup.catch(() => this.#devices.delete(uuid));
    if (this.#devices.size > 100_000) this.#devices.clear();
    this.#devices.set(uuid, lookup);
    return lookup;
  }

  #tell(fn: (events: BrokerEvents) => void): void {
    tellRealtime(this.events, this.ctx.log, fn);
  }

  async stop(): Promise<void> {
    this.events = undefined;
    if (this.#reconciler) clearInterval(this.#reconciler);
    this.ctx.bus.removeAll('external-broker');
    this.#accounts?.stop();
    await this.#client
      ?.endAsync()
      .catch((err: unknown) => this.ctx.log.warn({ err }, 'external MQTT broker connection did not close cleanly'));
  }
}
