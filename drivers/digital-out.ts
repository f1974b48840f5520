import { AresError } from '../core/errors.js';
import type { ComponentSpec } from '../sync/components.js';
import { isBcmPin } from './gpio/gpiochip.js';
import { type GpioPin, MAX_BCM_PIN } from './gpio/port.js';
import type { Command, Driver, DriverContext, DriverDescriptor } from './types.js';

/**
 * Digital outputs (led, relay, pump): one pin driven high for ON. Relays and pumps also have a hard
 * maximum on-time, `config.max_on_s`, that no command can extend: a pump left on by a lost 'off'
 * floods the room, so the output switches itself off and says so with a `max_on_time_cutoff` event.
 *
 * Timers are real setTimeouts (the Clock port has none); every one is cleared by 'off' and stop().
 * Commands, timer switch-offs and stop() run one at a time, in order, so a toggle never reads a
 * level another write is still changing.
 */

/** The actions of every digital output (sync/component-actions.ts holds the table central validates with). */
const ACTIONS = ['on', 'off', 'toggle'] as const;

/** Limits of `config.max_on_s`: fractions allowed (tests use 0.05 s), at most one day. */
const MAX_ON_MIN_S = 0.01;
const MAX_ON_MAX_S = 86_400;

/** The descriptor of a digital output type; `defaultMaxOnS` undefined = no cut-off (an LED). */
export function digitalOutDriver(type: string, defaultMaxOnS?: number): DriverDescriptor {
  return {
    type,
    actions: ACTIONS,
    check: (c) => [
      ...pinProblems(c),
      ...(defaultMaxOnS === undefined ? [] : numberProblems(c, 'max_on_s', MAX_ON_MIN_S, MAX_ON_MAX_S, 's')),
    ],
    create: (ctx) =>
      new DigitalOut(
        ctx,
        defaultMaxOnS === undefined ? undefined : numberSetting(ctx.component, 'max_on_s', defaultMaxOnS),
      ),
  };
}

class DigitalOut implements Driver {
  #pin: GpioPin | undefined;
  #on = false;
  #stopped = false;
  /** Ends a requested `durationS`. */
  #durationTimer: NodeJS.Timeout | undefined;
  /** Ends any ON period after maxOnS, counted from the moment it went ON (repeated 'on' does not extend it). */
  #cutoffTimer: NodeJS.Timeout | undefined;
  #queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly ctx: DriverContext,
    private readonly maxOnS: number | undefined,
  ) {}

  async start(): Promise<void> {
    const on = (this.ctx.component.default_state ?? '').toUpperCase() === 'ON';
    this.#pin = await this.ctx.gpio.open(this.ctx.component.pin_number!, 'out', { initial: on ? 1 : 0 });
    this.#on = on;
    if (on) this.#armCutoff();
    this.ctx.out.state(stateName(on));
  }

  /**
   * 'on' with durationS switches off by itself after that long; a plain 'on' cancels such a pending
   * switch-off (stay on until 'off'). durationS is ignored for 'off' and 'toggle'.
   */
  command(cmd: Command): Promise<{ state: string }> {
    return this.#serially(async () => {
      if (this.#stopped || !this.#pin) {
        throw new AresError('ARES_ERR_UNAVAILABLE', `${this.#what()} is not running`, { transient: true });
      }
      if (!(ACTIONS as readonly string[]).includes(cmd.action)) {
        throw new AresError('ARES_ERR_UNPROCESSABLE', `${this.#what()} has no action ${JSON.stringify(cmd.action)}`);
      }
      const on = cmd.action === 'toggle' ? !this.#on : cmd.action === 'on';
      await this.#set(on);
      if (on) {
        this.#clearDuration();
        if (cmd.action === 'on' && cmd.durationS !== undefined) {
          this.#durationTimer = setTimeout(() => this.#timedOff(false), cmd.durationS * 1000);
        }
      }
      return { state: stateName(this.#on) };
    });
  }

  /** Leaves the output OFF (the safe state) and releases the pin; never throws. */
  stop(): Promise<void> {
    this.#stopped = true;
    return this.#serially(async () => {
      this.#clearDuration();
      this.#clearCutoff();
      const pin = this.#pin;
      this.#pin = undefined;
      if (!pin) return;
      try {
        await this.#writeOff(pin);
      } catch (err) {
        this.ctx.log.error({ err }, 'could not switch the output off while stopping');
      }
      try {
        await pin.close();
      } catch (err) {
        this.ctx.log.error({ err }, 'could not release the pin');
      }
    });
  }

  async #set(on: boolean): Promise<void> {
    if (on === this.#on) return;
    if (!on) return this.#writeOff(this.#pin!);
    await this.#pin!.write(1);
    this.#on = true;
    this.#armCutoff();
    this.ctx.out.state(stateName(true));
  }

  async #writeOff(pin: GpioPin): Promise<void> {
    this.#clearDuration();
    this.#clearCutoff();
    const was = this.#on;
    await pin.write(0);
    this.#on = false;
    if (was) this.ctx.out.state(stateName(false));
  }

  /** A timer switched the output off: by a requested duration, or by the cut-off (which is reported). */
  #timedOff(cutoff: boolean): void {
    if (cutoff) this.#cutoffTimer = undefined;
    else this.#durationTimer = undefined;
    this.#serially(async () => {
      if (this.#stopped || !this.#pin || !this.#on) return;
      await this.#set(false);
      if (cutoff) this.ctx.out.event('max_on_time_cutoff', { max_on_s: this.maxOnS });
    }).catch((err: unknown) => this.ctx.log.error({ err, cutoff }, 'could not switch the output off on time'));
  }

  #armCutoff(): void {
    if (this.maxOnS === undefined || this.#stopped || this.#cutoffTimer) return;
    this.#cutoffTimer = setTimeout(() => this.#timedOff(true), this.maxOnS * 1000);
  }

  #clearDuration(): void {
    clearTimeout(this.#durationTimer);
    this.#durationTimer = undefined;
  }

  #clearCutoff(): void {
    clearTimeout(this.#cutoffTimer);
    this.#cutoffTimer = undefined;
  }

  #serially<T>(step: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(step);
    // The queue only orders steps; each step's failure goes to its own caller through `run`.
    this.#queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  #what(): string {
    return `${this.ctx.component.component_type} ${this.ctx.component.id}`;
  }
}

function stateName(on: boolean): 'ON' | 'OFF' {
  return on ? 'ON' : 'OFF';
}

// ---- Checks shared by the digital drivers (digital-in.ts uses them too) ----

export function pinProblems(c: ComponentSpec): string[] {
  if (c.pin_number === null || c.pin_number === undefined) return [`pin_number is required for a ${c.component_type}`];
  if (!isBcmPin(c.pin_number)) return [`pin_number ${c.pin_number} is not a BCM GPIO number (0–${MAX_BCM_PIN})`];
  return [];
}

/** A problem when `config[key]` is present but not a number in [min, max]. */
export function numberProblems(c: ComponentSpec, key: string, min: number, max: number, unit: string): string[] {
  const v = c.config?.[key];
  if (v === undefined) return [];
  if (typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max) return [];
  return [`config.${key} must be a number from ${min} to ${max} ${unit}, not ${JSON.stringify(v)}`];
}

export function booleanProblems(c: ComponentSpec, key: string): string[] {
  const v = c.config?.[key];
  return v === undefined || typeof v === 'boolean'
    ? []
    : [`config.${key} must be true or false, not ${JSON.stringify(v)}`];
}

/** The setting after check() accepted it: the configured value or the type's default. */
export function numberSetting(c: ComponentSpec, key: string, fallback: number): number {
  const v = c.config?.[key];
  return typeof v === 'number' ? v : fallback;
}

export function booleanSetting(c: ComponentSpec, key: string, fallback: boolean): boolean {
  const v = c.config?.[key];
  return typeof v === 'boolean' ? v : fallback;
}
