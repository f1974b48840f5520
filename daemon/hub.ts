import { Bus } from '../core/bus.js';
import { systemClock, type Clock } from '../core/clock.js';
import type { AresConfig } from '../core/config.js';
import { HostRoot } from '../core/host-root.js';
import { Lifecycle } from '../core/lifecycle.js';
import type { Logger } from '../core/logger.js';
import { sleep } from './central/backoff.js';
import type { LinkStatus } from './central/central-link.js';
import { Pipeline } from './components/pipeline.js';
import type { ComponentRuntime, ComponentStatus } from './components/runtime.js';
import type { FallHealth } from './fall/fall-service.js';
import type { HubBus, HubEvents } from './hub-events.js';
import { hubParts, type HubDeps, type HubScope } from './hub-parts.js';
import { boardChanged } from './identity/identity.js';

export type { HubDeps } from './hub-parts.js';

export interface HubStatus extends LinkStatus {
  deviceUuid: string | undefined;
  boardChanged: boolean;
  runtime: ComponentStatus[];
  /** Fall detection as /healthz reports it (for `systemctl status`). */
  fall: FallHealth['status'];
  /** Connected to central's MQTT broker (commands, state) right now. */
  realtime: boolean;
}

/**
 * The hub daemon (`ares hub`), the composition root: its parts (hub-parts.ts) run as one Lifecycle
 * (core/lifecycle.ts), started in order and stopped in reverse; a part that fails to start unwinds the
 * others. Parts talk through the hub's bus (hub-events.ts). Constructors do nothing.
 */
export class Hub {
  readonly #scope: HubScope;
  #lifecycle: Lifecycle | undefined;
  readonly pipeline: Pipeline;
  readonly bus: HubBus;

  constructor(config: AresConfig, log: Logger, deps: HubDeps = {}) {
    const clock: Clock = deps.clock ?? systemClock;
    this.pipeline = new Pipeline(log);
    this.bus = new Bus<HubEvents>(log);
    this.#scope = {
      config,
      log,
      clock,
      host: new HostRoot(config.hub.host_root),
      bus: this.bus,
      pipeline: this.pipeline,
      deps,
      wait: deps.wait ?? sleep,
      running: {},
      ports: { mqtt: 0, http: 0 },
    };
  }

  status(): HubStatus {
    const r = this.#scope.running;
    const link = r.link?.status() ?? {
      provisioned: false,
      deviceId: undefined,
      central: { reachable: false },
      components: [],
      componentsSource: 'none' as const,
    };
    return {
      ...link,
      deviceUuid: r.identity?.deviceUuid,
      boardChanged: r.identity ? boardChanged(r.identity) : false,
      runtime: r.runtime?.status() ?? [],
      fall: r.fall?.health().status ?? 'off',
      realtime: r.realtime?.connected() ?? false,
    };
  }

  ports(): { mqtt: number; http: number; mqttTls?: number } {
    return this.#scope.ports;
  }

  runtime(): ComponentRuntime {
    const runtime = this.#scope.running.runtime;
    if (!runtime) throw new Error('hub not started');
    return runtime;
  }

  /** Names of the parts running now (tests check that a failed start left none). */
  running(): string[] {
    return this.#lifecycle?.running() ?? [];
  }

  /** Starts every part in order; rejects with a StartError (ARES_ERR_START) naming the one that failed. */
  async start(): Promise<void> {
    const s = this.#scope;
    if (!this.#lifecycle) {
      this.#lifecycle = new Lifecycle({ log: s.log });
      for (const part of hubParts(s)) this.#lifecycle.add(part);
    }
    await this.#lifecycle.start();
    s.log.info(
      {
        device_uuid: s.running.identity?.deviceUuid,
        mqtt_port: s.ports.mqtt,
        http_port: s.ports.http,
        gpio: s.running.gpio?.name,
      },
      'hub started',
    );
  }

  /** Stops what started, in reverse, each part bounded in time; safe during start() and more than once. */
  async stop(): Promise<void> {
    await this.#lifecycle?.stop();
  }
}
