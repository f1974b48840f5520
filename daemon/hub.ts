import { readFileSync } from 'node:fs';
import type Database from 'better-sqlite3';
import type { FastifyInstance } from 'fastify';
import { systemClock, type Clock } from '../core/clock.js';
import type { AresConfig } from '../core/config.js';
import { AresError } from '../core/errors.js';
import { HostRoot } from '../core/host-root.js';
import type { Logger } from '../core/logger.js';
import { createGpioPort } from '../drivers/gpio/create.js';
import type { GpioPort } from '../drivers/gpio/port.js';
import { loadDriver } from '../drivers/registry.js';
import { LocalBroker } from './broker/local-broker.js';
import { NodeRegistry } from './broker/nodes.js';
import { sleep } from './central/backoff.js';
import { CentralLink, type LinkStatus } from './central/central-link.js';
import { RealtimeLink } from './central/realtime-link.js';
import { Pipeline } from './components/pipeline.js';
import { HubSync } from './central/hub-sync.js';
import { ComponentRuntime, type ComponentStatus } from './components/runtime.js';
import { StatePublisher } from './components/state-publisher.js';
import { buildLocalHttp } from './http/local-http.js';
import { readBoardIdentity } from './identity/board.js';
import { boardChanged, loadOrCreateIdentity, type HubIdentity } from './identity/identity.js';
import { RadarIntake } from './components/radar-intake.js';
import { FallService, loadShippedFallModel, type FallHealth } from './fall/fall-service.js';
import type { LoadedModel } from '../models/runtime/engine.js';
import { openHubDb } from './state/hub-db.js';

function readTlsFiles(cert: string | undefined, key: string | undefined): { cert: Buffer; key: Buffer } {
  if (!cert || !key)
    throw new AresError('ARES_ERR_CONFIG', 'hub.mqtt_tls_cert and hub.mqtt_tls_key must be set together');
  try {
    return { cert: readFileSync(cert), key: readFileSync(key) };
  } catch (err) {
    throw new AresError('ARES_ERR_CONFIG', `hub.mqtt_tls_cert/mqtt_tls_key: ${(err as Error).message}`, { cause: err });
  }
}

export interface HubDeps {
  clock?: Clock;
  /** Tests shorten the waits between polls and retries. */
  wait?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Tests and the demo inject a simulated port they can script. */
  gpio?: GpioPort;
  /** Bind address of the LAN listeners (default all interfaces: they serve the home network). */
  lanHost?: string;
  /** Tests hand in another (or a corrupt) fall model; default the shipped imu-fall. */
  loadFallModel?: () => Promise<LoadedModel>;
  /** Likewise for the radar-fall model. */
  loadRadarModel?: () => Promise<LoadedModel>;
}

export interface HubStatus extends LinkStatus {
  deviceUuid: string | undefined;
  boardChanged: boolean;
  runtime: ComponentStatus[];
  /** Fall detection as /healthz reports it (for `systemctl status`). */
  fall: FallHealth['status'];
}

/**
 * The hub daemon (`ares hub`), the composition root: identity, the link to central, the GPIO port, the
 * component runtime and its pipeline, the LAN broker and the local HTTP. Constructors do nothing;
 * `start()` brings the parts up in dependency order and `stop()` takes them down in reverse. One part
 * failing to stop is logged and the others still stop.
 */
export class Hub {
  readonly #clock: Clock;
  #db: Database.Database | undefined;
  #identity: HubIdentity | undefined;
  #link: CentralLink | undefined;
  #realtime: RealtimeLink | undefined;
  #stopping = false;
  #runtime: ComponentRuntime | undefined;
  #gpio: GpioPort | undefined;
  #broker: LocalBroker | undefined;
  #http: FastifyInstance | undefined;
  #sync: HubSync | undefined;
  #fall: FallService | undefined;
  #ports: { mqtt: number; http: number; mqttTls?: number } = { mqtt: 0, http: 0 };
  readonly pipeline: Pipeline;

  constructor(
    private readonly config: AresConfig,
    private readonly log: Logger,
    private readonly deps: HubDeps = {},
  ) {
    this.#clock = deps.clock ?? systemClock;
    this.pipeline = new Pipeline(log);
  }

  status(): HubStatus {
    const link = this.#link?.status() ?? {
      provisioned: false,
      deviceId: undefined,
      central: { reachable: false },
      components: [],
      componentsSource: 'none' as const,
    };
    return {
      ...link,
      deviceUuid: this.#identity?.deviceUuid,
      boardChanged: this.#identity ? boardChanged(this.#identity) : false,
      runtime: this.#runtime?.status() ?? [],
      fall: this.#fall?.health().status ?? 'off',
    };
  }

  ports(): { mqtt: number; http: number; mqttTls?: number } {
    return this.#ports;
  }

  runtime(): ComponentRuntime {
    if (!this.#runtime) throw new Error('hub not started');
    return this.#runtime;
  }

  async start(): Promise<void> {
    const cfg = this.config.hub;
    const host = new HostRoot(cfg.host_root);
    const board = await readBoardIdentity(host);
    const { identity, created } = loadOrCreateIdentity(cfg.state_dir, board, cfg.hardware_variant);
    this.#identity = identity;
    if (created) this.log.info({ device_uuid: identity.deviceUuid }, 'new hub identity created');
    if (boardChanged(identity)) {
      // Seed §10: the SD card now runs on another board (moved or cloned). Central decides what that
      // means; the hub reports the truth and says so loudly instead of adopting the new board.
      this.log.error(
        {
          enrolled_cpu_serial: identity.enrolledCpuSerial,
          cpu_serial: identity.cpuSerial,
          device_uuid: identity.deviceUuid,
        },
        'hardware identity changed: this SD card was enrolled on another board; central will refuse it until an administrator re-registers it',
      );
    }
    this.#gpio = this.deps.gpio ?? (await createGpioPort(cfg.gpio, host));
    const db = (this.#db = openHubDb(cfg.state_dir));
    const nodes = new NodeRegistry(db);

    const link = (this.#link = new CentralLink({
      config: this.config,
      log: this.log,
      clock: this.#clock,
      db,
      identity,
      wait: this.deps.wait ?? sleep,
    }));
    const clockSynced = () => host.existsSync('/run/systemd/timesync/synchronized');
    // Store-and-forward: every output reaches the outbox before anything else can lose it.
    const sync = (this.#sync = new HubSync({
      config: this.config,
      log: this.log,
      clock: this.#clock,
      host,
      pipeline: this.pipeline,
      credentials: () => link.credentials(),
      onRevoked: () => link.reset(),
      wait: this.deps.wait ?? sleep,
      clockSynced,
    }));
    await sync.start();
    const broker = (this.#broker = new LocalBroker(this.log.child({ part: 'broker' }), nodes));
    this.#ports.mqtt = await broker.start(cfg.mqtt_port, this.deps.lanHost);
    if (cfg.mqtt_tls_cert !== undefined || cfg.mqtt_tls_key !== undefined) {
      this.#ports.mqttTls = await broker.startTls(
        cfg.mqtt_tls_port,
        readTlsFiles(cfg.mqtt_tls_cert, cfg.mqtt_tls_key),
        this.deps.lanHost,
      );
    }
    const publisher = new StatePublisher({
      broker,
      deviceUuid: identity.deviceUuid,
      userEmail: () => link.userEmail(),
      components: () => link.status().components,
      latest: (id) => this.pipeline.latest(id),
      log: this.log,
    });
    this.pipeline.on('broker', (out) => publisher.publish(out));
    this.#runtime = new ComponentRuntime({
      log: this.log,
      clock: this.#clock,
      host,
      gpio: this.#gpio,
      pipeline: this.pipeline,
      load: loadDriver,
      onHealth: (status) => publisher.health(status),
    });
    const radar = new RadarIntake({
      pipeline: this.pipeline,
      clock: this.#clock,
      components: () => link.status().components,
      log: this.log,
      onFrame: (nodeId, frame) => fall.fromRadar(nodeId, frame),
    });
    const fall = (this.#fall = new FallService({
      pipeline: this.pipeline,
      clock: this.#clock,
      log: this.log.child({ part: 'fall' }),
      components: () => link.status().components,
      publish: (topic, payload, retain) => broker.publish(topic, payload, retain),
      deviceUuid: identity.deviceUuid,
      loadModel: this.deps.loadFallModel ?? loadShippedFallModel,
      ...(this.deps.loadRadarModel ? { loadRadarModel: this.deps.loadRadarModel } : {}),
      command: (componentId, cmd) => this.runtime().command(componentId, cmd),
    }));
    broker.onNodeMessage = (nodeId, stream, payload) => {
      if (stream !== 'imu') return radar.fromMqtt(nodeId, stream, payload);
      fall.fromMqtt(nodeId, payload); // acknowledged at once: IMU samples are not stored, alerts are
      return Promise.resolve();
    };

    this.#http = await buildLocalHttp({
      log: this.log.child({ part: 'local-http' }),
      nodes,
      health: () => ({
        provisioned: link.status().provisioned,
        centralReachable: link.status().central.reachable,
        clockSynced: clockSynced(),
        components: this.#runtime?.status() ?? [],
        sync: sync.health(),
        fall: fall.health(),
      }),
      onRadarFrame: async (nodeId, frame) => radar.accept(nodeId, frame),
    });
    await this.#http.listen({ port: cfg.http_port, host: this.deps.lanHost ?? '0.0.0.0' });
    const addr = this.#http.server.address();
    this.#ports.http = typeof addr === 'object' && addr ? addr.port : cfg.http_port;

    const realtime = (this.#realtime = new RealtimeLink({
      log: this.log.child({ part: 'realtime' }),
      identity,
      pipeline: this.pipeline,
      runtime: () => this.runtime(),
      components: () => link.status().components,
      onReset: () => link.reset(),
      onReload: () => link.pollNow(),
      onCancelAlert: (alertId, by) => fall.desk.cancel(alertId, { by: 'app', who: by }),
    }));
    // The connection to central's broker opens only once the drivers of the current list run:
    // commands held for this hub are delivered on connect and must find their components.
    let applied = false;
    const connectWhenReady = () => {
      const creds = link.credentials();
      // A list applied after stop() began must not open a new connection (it would keep the process alive).
      if (creds && applied && !this.#stopping && !realtime.active()) realtime.connect(creds);
    };
    link.onComponents = (list) => {
      fall.apply(list);
      this.#runtime!.apply(list).then(
        () => {
          applied = true;
          connectWhenReady();
        },
        (err: unknown) => this.log.error({ err }, 'applying the component list failed'),
      );
    };
    link.onCertificateRenewed = (next) => {
      // Swap to the new certificate; commands held meanwhile are delivered once it listens again.
      if (realtime.active()) realtime.connect(next);
    };
    link.onCredentials = () => {
      applied = false;
      void realtime.disconnect();
      sync.wake();
    };
    link.start();
    this.log.info(
      {
        device_uuid: identity.deviceUuid,
        mqtt_port: this.#ports.mqtt,
        http_port: this.#ports.http,
        gpio: this.#gpio.name,
      },
      'hub started',
    );
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    const step = async (what: string, fn: (() => Promise<unknown>) | undefined) => {
      try {
        await fn?.();
      } catch (err) {
        this.log.error({ err }, `stopping ${what} failed`);
      }
    };
    await step('realtime link', this.#realtime && (() => this.#realtime!.disconnect()));
    await step('central link', this.#link && (() => this.#link!.stop()));
    await step('local HTTP', this.#http && (() => this.#http!.close()));
    await step('broker', this.#broker && (() => this.#broker!.stop()));
    await step('components', this.#runtime && (() => this.#runtime!.stop()));
    await step('fall detection', this.#fall && (() => this.#fall!.stop()));
    // After the components: their last outputs are committed before the outbox closes.
    await step('sync', this.#sync && (() => this.#sync!.stop()));
    await step('GPIO', this.#gpio && (() => this.#gpio!.close()));
    this.#db?.close();
    this.#db = undefined;
  }
}
