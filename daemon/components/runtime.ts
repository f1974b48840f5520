import { isNodeType } from '../nodes/registry.js';
import { isDeepStrictEqual } from 'node:util';
import type { Clock } from '../../core/clock.js';
import { AresError } from '../../core/errors.js';
import type { HostRoot } from '../../core/host-root.js';
import type { Logger } from '../../core/logger.js';
import type { GpioPort } from '../../drivers/gpio/port.js';
import type { Command, Driver, DriverDescriptor, DriverOutput } from '../../drivers/types.js';
import type { ComponentSpec } from '../../sync/components.js';
import { Backoff } from '../central/backoff.js';
import type { Pipeline } from './pipeline.js';

export type ComponentHealth = 'starting' | 'ok' | 'faulty';

export interface ComponentStatus {
  id: number;
  component_type: string;
  health: ComponentHealth;
  /** Why it is faulty, for /healthz and logs. */
  reason?: string;
}

interface Running {
  spec: ComponentSpec;
  descriptor?: DriverDescriptor;
  driver?: Driver;
  health: ComponentHealth;
  reason?: string;
  lastOutputAt: number;
  retry?: NodeJS.Timeout;
  backoff: Backoff;
  /** Bumped on each (re)start: outputs and retries of an older generation are ignored. */
  generation: number;
}

export interface RuntimeDeps {
  log: Logger;
  clock: Clock;
  host: HostRoot;
  gpio: GpioPort;
  pipeline: Pipeline;
  load: (type: string) => Promise<DriverDescriptor | undefined>;
  /** Told every time a component's health changes (the LAN state shows it, so a phone sees a dead sensor). */
  onHealth?: (status: ComponentStatus) => void;
  /** First retry delay of a driver that failed to start (doubles up to a minute). Default 1 s. */
  retryBaseMs?: number;
}

const SILENCE_CHECK_MS = 5000;

/**
 * Runs the drivers for the attached-component list. `apply(list)` reconciles: new components start,
 * removed ones stop, changed ones restart; nothing else is touched. Each component is isolated: a
 * driver that fails to start is marked faulty and retried with backoff; a sensor that stops producing
 * output for longer than its descriptor's silence limit is marked faulty (seed §14); an unknown type
 * is reported and skipped. Commands enter through `command()`, validated against the descriptor.
 */
export class ComponentRuntime {
  readonly #running = new Map<number, Running>();
  #silenceTimer: NodeJS.Timeout | undefined;
  #applying: Promise<void> = Promise.resolve();

  constructor(private readonly deps: RuntimeDeps) {}

  /** Serialized: a list that arrives while the previous one is being applied waits its turn. */
  apply(list: readonly ComponentSpec[]): Promise<void> {
    this.#applying = this.#applying.then(() => this.#reconcile(list));
    this.#silenceTimer ??= setInterval(() => this.#checkSilence(), SILENCE_CHECK_MS).unref();
    return this.#applying;
  }

  async stop(): Promise<void> {
    await this.#applying;
    if (this.#silenceTimer) clearInterval(this.#silenceTimer);
    this.#silenceTimer = undefined;
    await Promise.all([...this.#running.keys()].map((id) => this.#stopOne(id)));
  }

  status(): ComponentStatus[] {
    return [...this.#running.values()].map((r) => ({
      id: r.spec.id,
      component_type: r.spec.component_type,
      health: r.health,
      ...(r.reason ? { reason: r.reason } : {}),
    }));
  }

  /** The one entry point for actuator commands (from central, the app, or local automations). */
  async command(componentId: number, cmd: Command): Promise<{ state: string }> {
    const r = this.#running.get(componentId);
    if (!r) throw new AresError('ARES_ERR_NOT_FOUND', `component ${componentId} is not attached to this hub`);
    if (!r.descriptor || !r.driver?.command)
      throw new AresError(
        'ARES_ERR_UNPROCESSABLE',
        `component ${componentId} (${r.spec.component_type}) takes no commands`,
      );
    if (!r.descriptor.actions.includes(cmd.action)) {
      throw new AresError(
        'ARES_ERR_UNPROCESSABLE',
        `action ${JSON.stringify(cmd.action)} is not one of ${r.descriptor.actions.join(', ')} for ${r.spec.component_type}`,
      );
    }
    if (
      cmd.durationS !== undefined &&
      !(
        typeof cmd.durationS === 'number' &&
        Number.isFinite(cmd.durationS) &&
        cmd.durationS > 0 &&
        cmd.durationS <= 86400
      )
    ) {
      throw new AresError('ARES_ERR_BAD_REQUEST', 'duration_s must be a number of seconds in (0, 86400]');
    }
    if (r.health !== 'ok')
      throw new AresError(
        'ARES_ERR_UNAVAILABLE',
        `component ${componentId} is ${r.health}${r.reason ? `: ${r.reason}` : ''}`,
        { transient: true },
      );
    return r.driver.command(cmd);
  }

  async #reconcile(list: readonly ComponentSpec[]): Promise<void> {
    // Components a LAN node serves (nodes/registry.ts) have no driver here: their data arrives through
    // the LAN broker (node intake, fall detection), which reports on them.
    const wanted = new Map(list.filter((c) => !isNodeType(c.component_type)).map((c) => [c.id, c]));
    for (const id of [...this.#running.keys()]) {
      const spec = wanted.get(id);
      if (!spec) {
        await this.#stopOne(id);
        this.deps.log.info({ component_id: id }, 'component removed');
      } else if (!isDeepStrictEqual(spec, this.#running.get(id)!.spec)) {
        await this.#stopOne(id);
        this.deps.log.info({ component_id: id }, 'component changed: restarting');
      }
    }
    for (const spec of wanted.values()) if (!this.#running.has(spec.id)) await this.#startOne(spec);
  }

  async #startOne(spec: ComponentSpec, prev?: Running): Promise<void> {
    const r: Running = prev ?? {
      spec,
      health: 'starting',
      lastOutputAt: this.deps.clock.now(),
      backoff: new Backoff(this.deps.retryBaseMs ?? 1000, 60_000),
      generation: 0,
    };
    r.generation++;
    this.#setHealth(r, 'starting');
    this.#running.set(spec.id, r);
    const log = this.deps.log.child({ component_id: spec.id, component_type: spec.component_type });
    r.descriptor ??= await this.deps.load(spec.component_type);
    if (!r.descriptor) {
      this.#fault(r, `no driver for component type ${spec.component_type}`, log, false);
      return;
    }
    const problems = r.descriptor.check(spec);
    if (problems.length > 0) {
      this.#fault(r, `invalid component: ${problems.join('; ')}`, log, false);
      return;
    }
    const generation = r.generation;
    const out = this.#output(r, generation);
    try {
      r.driver = r.descriptor.create({
        log,
        clock: this.deps.clock,
        host: this.deps.host,
        gpio: this.deps.gpio,
        component: spec,
        out,
      });
      r.lastOutputAt = this.deps.clock.now();
      await r.driver.start();
      if (r.generation !== generation) return;
      this.#setHealth(r, 'ok');
      r.backoff.reset();
      log.info('component started');
    } catch (err) {
      await r.driver
        ?.stop()
        .catch((stopErr: unknown) => log.warn({ err: stopErr }, 'component stop after a failed start failed'));
      r.driver = undefined;
      this.#fault(r, `start failed: ${(err as Error).message}`, log, true);
    }
  }

  #output(r: Running, generation: number): DriverOutput {
    const emit = (o: Omit<Parameters<Pipeline['emit']>[0], 'componentId' | 'componentType' | 'ts'>) => {
      if (r.generation !== generation) return;
      r.lastOutputAt = this.deps.clock.now();
      if (r.health === 'faulty' && r.reason?.startsWith('silent')) this.#setHealth(r, 'ok');
      this.deps.pipeline.emit({
        componentId: r.spec.id,
        componentType: r.spec.component_type,
        ts: this.deps.clock.now(),
        ...o,
      });
    };
    return {
      reading: (name, value) => emit({ kind: 'reading', name, value }),
      state: (state) => emit({ kind: 'state', name: 'state', state }),
      event: (name, data) => emit({ kind: 'event', name, ...(data ? { data } : {}) }),
    };
  }

  #setHealth(r: Running, health: ComponentHealth, reason?: string): void {
    const changed = r.health !== health || r.reason !== reason;
    r.health = health;
    r.reason = reason;
    if (!changed || !this.deps.onHealth) return;
    try {
      this.deps.onHealth({
        id: r.spec.id,
        component_type: r.spec.component_type,
        health,
        ...(reason ? { reason } : {}),
      });
    } catch (err) {
      this.deps.log.error({ err }, 'health listener failed');
    }
  }

  #fault(r: Running, reason: string, log: Logger, retry: boolean): void {
    this.#setHealth(r, 'faulty', reason);
    if (!retry) {
      log.error({ reason }, 'component faulty');
      return;
    }
    const delay = r.backoff.next();
    log.error({ reason, retry_in_ms: delay }, 'component faulty: will retry');
    const generation = r.generation;
    r.retry = setTimeout(() => {
      // Through the same queue as apply(), so a retry never races a list change.
      this.#applying = this.#applying.then(async () => {
        if (r.generation === generation && this.#running.get(r.spec.id) === r) await this.#startOne(r.spec, r);
      });
    }, delay);
    r.retry.unref();
  }

  #checkSilence(): void {
    const now = this.deps.clock.now();
    for (const r of this.#running.values()) {
      const declared = r.descriptor?.silenceLimitMs;
      const limit = typeof declared === 'function' ? declared(r.spec) : declared;
      if (r.health === 'ok' && limit !== undefined && now - r.lastOutputAt > limit) {
        this.#setHealth(r, 'faulty', `silent for more than ${Math.round(limit / 1000)} s`);
        this.deps.log.warn({ component_id: r.spec.id, reason: r.reason }, 'component faulty');
      }
    }
  }

  async #stopOne(id: number): Promise<void> {
    const r = this.#running.get(id);
    if (!r) return;
    this.#running.delete(id);
    r.generation++;
    if (r.retry) clearTimeout(r.retry);
    this.deps.pipeline.forget(id);
    try {
      await r.driver?.stop();
    } catch (err) {
      this.deps.log.error({ err, component_id: id }, 'component failed to stop cleanly');
    }
  }

  /** Tests: run the silence check now instead of waiting for its timer. */
  checkSilenceNow(): void {
    this.#checkSilence();
  }
}
