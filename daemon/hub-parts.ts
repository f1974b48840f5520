import { readFileSync } from 'node:fs';
import type Database from 'better-sqlite3';
import type { FastifyInstance } from 'fastify';
import type { Clock } from '../core/clock.js';
import type { AresConfig } from '../core/config.js';
import { AresError } from '../core/errors.js';
import type { HostRoot } from '../core/host-root.js';
import type { Part } from '../core/lifecycle.js';
import type { Logger } from '../core/logger.js';
import { createGpioPort } from '../drivers/gpio/create.js';
import type { GpioPort } from '../drivers/gpio/port.js';
import { loadDriver } from '../drivers/registry.js';
import type { LoadedModel } from '../models/runtime/engine.js';
import { LocalBroker } from './broker/local-broker.js';
import { NodeRegistry } from './broker/nodes.js';
import { CentralLink } from './central/central-link.js';
import { HubSync } from './central/hub-sync.js';
import { RealtimeLink } from './central/realtime-link.js';
import type { Pipeline } from './components/pipeline.js';
import { ComponentRuntime } from './components/runtime.js';
import { StatePublisher } from './components/state-publisher.js';
import { FallService } from './fall/fall-service.js';
import type { HubBus } from './hub-events.js';
import { buildLocalHttp } from './http/local-http.js';
import { readBoardIdentity } from './identity/board.js';
import { boardChanged, loadOrCreateIdentity, type HubIdentity } from './identity/identity.js';
import { NodeIntake } from './nodes/intake.js';
import { openHubDb } from './state/hub-db.js';

export interface HubDeps {
  clock?: Clock;
  /** Tests shorten the waits between polls and retries. */
  wait?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Tests and the demo inject a simulated port they can script. */
  gpio?: GpioPort;
  /** Bind address of the LAN listeners (default all interfaces: they serve the home network). */
  lanHost?: string;
  /** Fall models by node kind (tests hand in another or a corrupt one); default each kind's shipped model. */
  fallModels?: Readonly<Record<string, () => Promise<LoadedModel>>>;
}

/** The parts of a running hub, filled in as their start completes. */
export interface Running {
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

/** What every part of the hub shares (CONVENTIONS §5: one context object). */
export interface HubScope {
  config: AresConfig;
  log: Logger;
  clock: Clock;
  host: HostRoot;
  bus: HubBus;
  pipeline: Pipeline;
  deps: HubDeps;
  wait: (ms: number, signal: AbortSignal) => Promise<void>;
  running: Partial<Running>;
  ports: { mqtt: number; http: number; mqttTls?: number };
}

/**
 * The hub's parts in start order (stopped in reverse): identity, GPIO, hub.db, the store-and-forward
 * buffer, the component runtime, fall detection, the LAN broker and HTTP, the realtime connection and the
 * link to central. The buffer stops after the components and fall detection, so their last outputs are
 * committed before it closes; the realtime part listens before the central link starts, which announces
 * the credentials it loads. Each part listens on the bus under its own name and its listeners go as it
 * stops, so nothing a later event triggers (a list applied during shutdown) can reopen what is closing.
 */
export function hubParts(s: HubScope): Part[] {
  const intake = new NodeIntake({
    pipeline: s.pipeline,
    clock: s.clock,
    components: () => components(s),
    log: s.log,
    onMessage: (type, nodeId, msg) => s.running.fall?.accept(type, nodeId, msg),
    onRefused: (type, nodeId) => s.running.fall?.heard(type, nodeId),
  });
  return [
    identityPart(s),
    {
      name: 'gpio',
      start: async () => void (s.running.gpio = s.deps.gpio ?? (await createGpioPort(s.config.hub.gpio, s.host))),
      stop: () => s.running.gpio?.close(),
    },
    {
      name: 'hub-db',
      start: () => void (s.running.db = openHubDb(s.config.hub.state_dir)),
      stop: () => s.running.db?.close(),
    },
    bufferPart(s),
    componentsPart(s),
    fallPart(s),
    lanBrokerPart(s, intake),
    localHttpPart(s, intake),
    realtimePart(s),
    { name: 'central-link', start: () => startLink(s), stop: () => s.running.link?.stop() },
  ].map((part) => ({
    ...part,
    stop: async () => {
      s.bus.removeAll(part.name);
      await part.stop?.();
    },
  }));
}

const components = (s: HubScope) => s.running.link?.status().components ?? [];
const clockSynced = (s: HubScope) => s.host.existsSync('/run/systemd/timesync/synchronized');

/** A part's prerequisite, started before it (the order of hubParts guarantees it). */
function need<K extends keyof Running>(s: HubScope, k: K): Running[K] {
  const v = s.running[k];
  if (v === undefined) throw new Error(`${k} is not running`);
  return v;
}

function identityPart(s: HubScope): Part {
  return {
    name: 'identity',
    start: async () => {
      const cfg = s.config.hub;
      const { identity, created } = loadOrCreateIdentity(
        cfg.state_dir,
        await readBoardIdentity(s.host),
        cfg.hardware_variant,
      );
      s.running.identity = identity;
      if (created) s.log.info({ device_uuid: identity.deviceUuid }, 'new hub identity created');
      // Seed §10: the SD card now runs on another board (moved or cloned). Central decides what that
      // means; the hub reports the truth and says so loudly instead of adopting the new board.
      if (boardChanged(identity))
        s.log.error(
          {
            enrolled_cpu_serial: identity.enrolledCpuSerial,
            cpu_serial: identity.cpuSerial,
            device_uuid: identity.deviceUuid,
          },
          'hardware identity changed: this SD card was enrolled on another board; central will refuse it until an administrator re-registers it',
        );
    },
  };
}

/** Store-and-forward: every output reaches the outbox before anything else can lose it. */
function bufferPart(s: HubScope): Part {
  return {
    name: 'buffer',
    start: async () => {
      const sync = (s.running.sync = new HubSync({
        config: s.config,
        log: s.log,
        clock: s.clock,
        host: s.host,
        pipeline: s.pipeline,
        credentials: () => s.running.link?.credentials(),
        onRevoked: () => s.running.link?.reset(),
        wait: s.wait,
        clockSynced: () => clockSynced(s),
      }));
      s.bus.on('buffer', 'credentials.changed', () => sync.wake());
      await sync.start();
    },
    stop: () => s.running.sync?.stop(),
  };
}

function componentsPart(s: HubScope): Part {
  return {
    name: 'components',
    start: () => {
      const publisher = new StatePublisher({
        // The LAN broker starts after the components: looked up when there is something to publish.
        broker: {
          publish: (topic, payload, retain) => s.running.broker?.publish(topic, payload, retain) ?? Promise.resolve(),
        },
        deviceUuid: need(s, 'identity').deviceUuid,
        userEmail: () => s.running.link?.userEmail() ?? null,
        components: () => components(s),
        latest: (id) => s.pipeline.latest(id),
        log: s.log,
      });
      const runtime = (s.running.runtime = new ComponentRuntime({
        log: s.log,
        clock: s.clock,
        host: s.host,
        gpio: need(s, 'gpio'),
        pipeline: s.pipeline,
        load: loadDriver,
        onHealth: (status) => publisher.health(status),
      }));
      s.pipeline.on('broker', (out) => publisher.publish(out));
      s.bus.on('components', 'components.changed', ({ list }) => {
        void runtime.apply(list).then(
          () => s.bus.emit('components.running', { list }),
          (err: unknown) => s.log.error({ err }, 'applying the component list failed'),
        );
      });
    },
    stop: () => s.running.runtime?.stop(),
  };
}

function fallPart(s: HubScope): Part {
  return {
    name: 'fall-detection',
    start: () => {
      const fall = (s.running.fall = new FallService({
        pipeline: s.pipeline,
        clock: s.clock,
        log: s.log.child({ part: 'fall' }),
        components: () => components(s),
        publish: (topic, payload, retain) => need(s, 'broker').publish(topic, payload, retain),
        deviceUuid: need(s, 'identity').deviceUuid,
        ...(s.deps.fallModels ? { loaders: s.deps.fallModels } : {}),
        command: (componentId, cmd) => need(s, 'runtime').command(componentId, cmd),
      }));
      s.bus.on('fall-detection', 'components.changed', ({ list }) => fall.apply(list));
    },
    stop: () => s.running.fall?.stop(),
  };
}

function lanBrokerPart(s: HubScope, intake: NodeIntake): Part {
  return {
    name: 'lan-broker',
    start: async () => {
      const cfg = s.config.hub;
      const broker = (s.running.broker = new LocalBroker(
        s.log.child({ part: 'broker' }),
        new NodeRegistry(need(s, 'db')),
      ));
      broker.onNodeMessage = (nodeId, stream, payload) => intake.fromMqtt(nodeId, stream, payload);
      s.ports.mqtt = await broker.start(cfg.mqtt_port, s.deps.lanHost).catch(named('hub.mqtt_port'));
      if (cfg.mqtt_tls_cert !== undefined || cfg.mqtt_tls_key !== undefined)
        s.ports.mqttTls = await broker
          .startTls(cfg.mqtt_tls_port, readTlsFiles(cfg.mqtt_tls_cert, cfg.mqtt_tls_key), s.deps.lanHost)
          .catch(named('hub.mqtt_tls_port'));
    },
    stop: () => s.running.broker?.stop(),
  };
}

function localHttpPart(s: HubScope, intake: NodeIntake): Part {
  return {
    name: 'local-http',
    start: async () => {
      const cfg = s.config.hub;
      const sync = need(s, 'sync');
      const fall = need(s, 'fall');
      const http = (s.running.http = await buildLocalHttp({
        log: s.log.child({ part: 'local-http' }),
        nodes: new NodeRegistry(need(s, 'db')),
        health: () => ({
          provisioned: s.running.link?.status().provisioned ?? false,
          centralReachable: s.running.link?.status().central.reachable ?? false,
          clockSynced: clockSynced(s),
          components: s.running.runtime?.status() ?? [],
          sync: sync.health(),
          fall: fall.health(),
        }),
        onRadarFrame: (nodeId, frame) => intake.accept('radar', nodeId, frame),
      }));
      await http.listen({ port: cfg.http_port, host: s.deps.lanHost ?? '0.0.0.0' }).catch(named('hub.http_port'));
      const addr = http.server.address();
      s.ports.http = typeof addr === 'object' && addr ? addr.port : cfg.http_port;
    },
    stop: () => s.running.http?.close(),
  };
}

/**
 * The connection to central's broker opens once the hub holds credentials and the drivers of the
 * current list run: commands held for this hub are delivered on connect and must find their components.
 */
function realtimePart(s: HubScope): Part {
  return {
    name: 'realtime',
    start: () => {
      const fall = need(s, 'fall');
      const realtime = (s.running.realtime = new RealtimeLink({
        log: s.log.child({ part: 'realtime' }),
        identity: need(s, 'identity'),
        pipeline: s.pipeline,
        runtime: () => need(s, 'runtime'),
        components: () => components(s),
        onReset: () => s.running.link?.reset(),
        onReload: () => s.running.link?.pollNow(),
        onCancelAlert: (alertId, by) => fall.desk.cancel(alertId, { by: 'app', who: by }),
      }));
      s.bus.on('realtime', 'components.running', () => {
        const creds = s.running.link?.credentials();
        if (creds && !realtime.active()) realtime.connect(creds);
      });
      s.bus.on('realtime', 'credentials.changed', ({ creds, reason }) => {
        // A renewed certificate: swap to it; commands held meanwhile are delivered once it listens again.
        if (reason === 'renewed') return creds && realtime.active() ? realtime.connect(creds) : undefined;
        // New or wiped credentials: the connection waits for the list that goes with them.
        void realtime.disconnect();
      });
    },
    stop: () => s.running.realtime?.disconnect(),
  };
}

function startLink(s: HubScope): void {
  const link = (s.running.link = new CentralLink({
    config: s.config,
    log: s.log,
    clock: s.clock,
    db: need(s, 'db'),
    identity: need(s, 'identity'),
    bus: s.bus,
    wait: s.wait,
  }));
  link.start();
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
