import { readFileSync } from 'node:fs';
import type Database from 'better-sqlite3';
import type { FastifyInstance } from 'fastify';
import { Bus } from '../core/bus.js';
import { systemClock, type Clock } from '../core/clock.js';
import type { AresConfig } from '../core/config.js';
import { AresError } from '../core/errors.js';
import { HostRoot } from '../core/host-root.js';
import { Lifecycle, type Part } from '../core/lifecycle.js';
import type { Logger } from '../core/logger.js';
import { createGpioPort } from '../drivers/gpio/create.js';
import type { GpioPort } from '../drivers/gpio/port.js';
import { loadDriver } from '../drivers/registry.js';
import type { LoadedModel } from '../models/runtime/engine.js';
import { LocalBroker } from './broker/local-broker.js';
import { NodeRegistry } from './broker/nodes.js';
import { sleep } from './central/backoff.js';
import { CentralLink, type LinkStatus } from './central/central-link.js';
import { HubSync } from './central/hub-sync.js';
import { RealtimeLink } from './central/realtime-link.js';
import { Pipeline } from './components/pipeline.js';
import { RadarIntake } from './components/radar-intake.js';
import { ComponentRuntime, type ComponentStatus } from './components/runtime.js';
import { StatePublisher } from './components/state-publisher.js';
import { FallService, loadShippedFallModel, type FallHealth } from './fall/fall-service.js';
import type { HubBus, HubEvents } from './hub-events.js';
import { buildLocalHttp } from './http/local-http.js';
import { readBoardIdentity } from './identity/board.js';
import { boardChanged, loadOrCreateIdentity, type HubIdentity } from './identity/identity.js';
import { openHubDb } from './state/hub-db.js';

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
  /** Connected to central's MQTT broker (commands, state) right now. */
  realtime: boolean;
}

/** The parts of a running hub, filled in as their start completes. */
interface Running {
  host: HostRoot;
  identity: HubIdentity;
  gpio: GpioPort;
  db: Database.Database;
  sync: HubSync;
  runtime: ComponentRuntime;
  fall: FallService;
  broker: LocalBroker;
  http: FastifyInstance;
  link: CentralLink;
  realtime: RealtimeLink;
}

/**
 * The hub daemon (`ares hub`), the composition root: identity, GPIO, the store-and-forward buffer, the
 * component runtime and fall detection, the LAN broker and HTTP, the link to central and the realtime
 * connection, as parts of one Lifecycle (core/lifecycle.ts): started in that order, stopped in reverse,
 * a part that fails to start unwinds the others. Parts talk through the hub's bus (hub-events.ts).
 */
export class Hub {
  readonly #clock: Clock;
  readonly #parts: Partial<Running> = {};
  readonly #ports: { mqtt: number; http: number; mqttTls?: number } = { mqtt: 0, http: 0 };
  #lifecycle: Lifecycle | undefined;
  readonly pipeline: Pipeline;
  readonly bus: HubBus;

  constructor(
    private readonly config: AresConfig,
    private readonly log: Logger,
    private readonly deps: HubDeps = {},
  ) {
    this.#clock = deps.clock ?? systemClock;
    this.pipeline = new Pipeline(log);
    this.bus = new Bus<HubEvents>(log);
  }

  status(): HubStatus {
    const p = this.#parts;
    const link = p.link?.status() ?? {
      provisioned: false,
      deviceId: undefined,
      central: { reachable: false },
      components: [],
      componentsSource: 'none' as const,
    };
    return {
      ...link,
      deviceUuid: p.identity?.deviceUuid,
      boardChanged: p.identity ? boardChanged(p.identity) : false,
      runtime: p.runtime?.status() ?? [],
      fall: p.fall?.health().status ?? 'off',
      realtime: p.realtime?.connected() ?? false,
    };
  }

  ports(): { mqtt: number; http: number; mqttTls?: number } {
    return this.#ports;
  }

  runtime(): ComponentRuntime {
    if (!this.#parts.runtime) throw new Error('hub not started');
    return this.#parts.runtime;
  }

  /** Names of the parts running now (tests check that a failed start left none). */
  running(): string[] {
    return this.#lifecycle?.running() ?? [];
  }

  /** Starts every part in order; rejects with a StartError (ARES_ERR_START) naming the one that failed. */
  async start(): Promise<void> {
    this.#lifecycle ??= this.#build();
    await this.#lifecycle.start();
    const p = this.#parts;
    this.log.info(
      {
        device_uuid: p.identity?.deviceUuid,
        mqtt_port: this.#ports.mqtt,
        http_port: this.#ports.http,
        gpio: p.gpio?.name,
      },
      'hub started',
    );
  }

  /** Stops what started, in reverse, each part bounded in time; safe during start() and more than once. */
  async stop(): Promise<void> {
    await this.#lifecycle?.stop();
  }

  #build(): Lifecycle {
    const cfg = this.config.hub;
    const p = this.#parts;
    const need = <K extends keyof Running>(k: K): Running[K] => p[k] ?? fail(`${k} is not running`);
    const wait = this.deps.wait ?? sleep;
    const host = (p.host = new HostRoot(cfg.host_root));
    const clockSynced = () => host.existsSync('/run/systemd/timesync/synchronized');
    const components = () => p.link?.status().components ?? [];
    const lc = new Lifecycle({ log: this.log });
    // Each part listens on the bus under its own name; its listeners go as it stops, so nothing a later
    // event triggers (a list applied during shutdown) can reopen what is being closed.
    const add = (part: Part): Lifecycle =>
      lc.add({
        ...part,
        stop: async () => {
          this.bus.removeAll(part.name);
          await part.stop?.();
        },
      });

    add({
      name: 'identity',
      start: async () => {
        const board = await readBoardIdentity(host);
        const { identity, created } = loadOrCreateIdentity(cfg.state_dir, board, cfg.hardware_variant);
        p.identity = identity;
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
      },
    });
    add({
      name: 'gpio',
      start: async () => {
        p.gpio = this.deps.gpio ?? (await createGpioPort(cfg.gpio, host));
      },
      stop: () => p.gpio?.close(),
    });
    add({
      name: 'hub-db',
      start: () => {
        p.db = openHubDb(cfg.state_dir);
      },
      stop: () => {
        p.db?.close();
      },
    });
    add({
      // Store-and-forward: every output reaches the outbox before anything else can lose it. Stopped
      // after the components and fall detection, so their last outputs are committed before it closes.
      name: 'buffer',
      start: async () => {
        const sync = (p.sync = new HubSync({
          config: this.config,
          log: this.log,
          clock: this.#clock,
          host,
          pipeline: this.pipeline,
          credentials: () => p.link?.credentials(),
          onRevoked: () => p.link?.reset(),
          wait,
          clockSynced,
        }));
        this.bus.on('buffer', 'credentials.changed', () => sync.wake());
        await sync.start();
      },
      stop: () => p.sync?.stop(),
    });
    add({
      name: 'components',
      start: () => {
        const runtime = (p.runtime = new ComponentRuntime({
          log: this.log,
          clock: this.#clock,
          host,
          gpio: need('gpio'),
          pipeline: this.pipeline,
          load: loadDriver,
          onHealth: (status) => publisher.health(status),
        }));
        const publisher = new StatePublisher({
          broker: {
            publish: (topic, payload, retain) => p.broker?.publish(topic, payload, retain) ?? Promise.resolve(),
          },
          deviceUuid: need('identity').deviceUuid,
          userEmail: () => p.link?.userEmail() ?? null,
          components,
          latest: (id) => this.pipeline.latest(id),
          log: this.log,
        });
        this.pipeline.on('broker', (out) => publisher.publish(out));
        this.bus.on('components', 'components.changed', ({ list }) => {
          runtime.apply(list).then(
            () => this.bus.emit('components.running', { list }),
            (err: unknown) => this.log.error({ err }, 'applying the component list failed'),
          );
        });
      },
      stop: () => p.runtime?.stop(),
    });
    add({
      name: 'fall-detection',
      start: () => {
        const fall = (p.fall = new FallService({
          pipeline: this.pipeline,
          clock: this.#clock,
          log: this.log.child({ part: 'fall' }),
          components,
          publish: (topic, payload, retain) => need('broker').publish(topic, payload, retain),
          deviceUuid: need('identity').deviceUuid,
          loadModel: this.deps.loadFallModel ?? loadShippedFallModel,
          ...(this.deps.loadRadarModel ? { loadRadarModel: this.deps.loadRadarModel } : {}),
          command: (componentId, cmd) => this.runtime().command(componentId, cmd),
        }));
        this.bus.on('fall-detection', 'components.changed', ({ list }) => fall.apply(list));
      },
      stop: () => p.fall?.stop(),
    });
    const radar = new RadarIntake({
      pipeline: this.pipeline,
      clock: this.#clock,
      components,
      log: this.log,
      onFrame: (nodeId, frame) => p.fall?.fromRadar(nodeId, frame),
    });
    add({
      name: 'lan-broker',
      start: async () => {
        const broker = (p.broker = new LocalBroker(this.log.child({ part: 'broker' }), new NodeRegistry(need('db'))));
        broker.onNodeMessage = (nodeId, stream, payload) => {
          if (stream !== 'imu') return radar.fromMqtt(nodeId, stream, payload);
          p.fall?.fromMqtt(nodeId, payload); // acknowledged at once: IMU samples are not stored, alerts are
          return Promise.resolve();
        };
        this.#ports.mqtt = await broker.start(cfg.mqtt_port, this.deps.lanHost).catch(named('hub.mqtt_port'));
        if (cfg.mqtt_tls_cert !== undefined || cfg.mqtt_tls_key !== undefined)
          this.#ports.mqttTls = await broker
            .startTls(cfg.mqtt_tls_port, readTlsFiles(cfg.mqtt_tls_cert, cfg.mqtt_tls_key), this.deps.lanHost)
            .catch(named('hub.mqtt_tls_port'));
      },
      stop: () => p.broker?.stop(),
    });
    add({
      name: 'local-http',
      start: async () => {
        const sync = need('sync');
        const fall = need('fall');
        const http = (p.http = await buildLocalHttp({
          log: this.log.child({ part: 'local-http' }),
          nodes: new NodeRegistry(need('db')),
          health: () => ({
            provisioned: p.link?.status().provisioned ?? false,
            centralReachable: p.link?.status().central.reachable ?? false,
            clockSynced: clockSynced(),
            components: p.runtime?.status() ?? [],
            sync: sync.health(),
            fall: fall.health(),
          }),
          onRadarFrame: async (nodeId, frame) => radar.accept(nodeId, frame),
        }));
        await http.listen({ port: cfg.http_port, host: this.deps.lanHost ?? '0.0.0.0' }).catch(named('hub.http_port'));
        const addr = http.server.address();
        this.#ports.http = typeof addr === 'object' && addr ? addr.port : cfg.http_port;
      },
      stop: () => p.http?.close(),
    });
    add({
      // Before the central link: it announces the credentials it loads as it starts.
      name: 'realtime',
      start: () => this.#startRealtime(),
      stop: () => p.realtime?.disconnect(),
    });
    add({
      name: 'central-link',
      start: () => {
        const link = (p.link = new CentralLink({
          config: this.config,
          log: this.log,
          clock: this.#clock,
          db: need('db'),
          identity: need('identity'),
          bus: this.bus,
          wait,
        }));
        link.start();
      },
      stop: () => p.link?.stop(),
    });
    return lc;
  }

  /**
   * The connection to central's broker opens once the hub holds credentials and the drivers of the
   * current list run: commands held for this hub are delivered on connect and must find their components.
   */
  #startRealtime(): void {
    const p = this.#parts;
    const fall = p.fall!;
    const realtime = (p.realtime = new RealtimeLink({
      log: this.log.child({ part: 'realtime' }),
      identity: p.identity!,
      pipeline: this.pipeline,
      runtime: () => this.runtime(),
      components: () => p.link?.status().components ?? [],
      onReset: () => p.link?.reset(),
      onReload: () => p.link?.pollNow(),
      onCancelAlert: (alertId, by) => fall.desk.cancel(alertId, { by: 'app', who: by }),
    }));
    this.bus.on('realtime', 'components.running', () => {
      const creds = p.link?.credentials();
      if (creds && !realtime.active()) realtime.connect(creds);
    });
    this.bus.on('realtime', 'credentials.changed', ({ creds, reason }) => {
      // A renewed certificate: swap to it; commands held meanwhile are delivered once it listens again.
      if (reason === 'renewed' && creds && realtime.active()) return realtime.connect(creds);
      if (reason === 'renewed') return;
      // New or wiped credentials: the connection waits for the list that goes with them.
      void realtime.disconnect();
    });
  }
}

function fail(message: string): never {
  throw new Error(message);
}

/** A listener that cannot bind says which setting holds the port (EADDRINUSE alone names no setting). */
function named(setting: string): (err: unknown) => never {
  return (err) => {
    throw new Error(`${setting}: ${(err as Error).message}`, { cause: err });
  };
}

function readTlsFiles(cert: string | undefined, key: string | undefined): { cert: Buffer; key: Buffer } {
  if (!cert || !key)
    throw new AresError('ARES_ERR_CONFIG', 'hub.mqtt_tls_cert and hub.mqtt_tls_key must be set together');
  try {
    return { cert: readFileSync(cert), key: readFileSync(key) };
  } catch (err) {
    throw new AresError('ARES_ERR_CONFIG', `hub.mqtt_tls_cert/mqtt_tls_key: ${(err as Error).message}`, { cause: err });
  }
}
