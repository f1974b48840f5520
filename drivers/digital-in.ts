import { booleanProblems, booleanSetting, numberProblems, numberSetting, pinProblems } from './digital-out.js';
import type { Bit, GpioPin } from './gpio/port.js';
import type { Driver, DriverContext, DriverDescriptor } from './types.js';

/**
 * Digital inputs (button, pir): one pin watched on both edges, debounced, reported as a two-valued
 * state once at start and on every change. `config.active_low` says which level means active
 * (a button pulls its pin to ground, a PIR drives it high). An input with a long-press threshold also
 * reports `long_press` when released after holding at least that long (it starts BLE provisioning);
 * the hold is measured on the injected clock, so tests can advance it by hand.
 */
export interface DigitalInKind {
  type: string;
  /** State names for the active and the idle level, e.g. 'PRESSED' / 'RELEASED'. */
  active: string;
  inactive: string;
  defaultDebounceMs: number;
  defaultActiveLow: boolean;
  /** undefined = this type has no long press. */
  defaultLongPressMs?: number;
}

const DEBOUNCE_MAX_MS = 10_000;
const LONG_PRESS_MAX_MS = 600_000;

export function digitalInDriver(kind: DigitalInKind): DriverDescriptor {
  return {
    type: kind.type,
    actions: [],
    check: (c) => [
      ...pinProblems(c),
      ...numberProblems(c, 'debounce_ms', 0, DEBOUNCE_MAX_MS, 'ms'),
      ...booleanProblems(c, 'active_low'),
      ...(kind.defaultLongPressMs === undefined ? [] : numberProblems(c, 'long_press_ms', 1, LONG_PRESS_MAX_MS, 'ms')),
    ],
    create: (ctx) => {
      const c = ctx.component;
      return new DigitalIn(ctx, kind, {
        debounceMs: numberSetting(c, 'debounce_ms', kind.defaultDebounceMs),
        activeLow: booleanSetting(c, 'active_low', kind.defaultActiveLow),
        longPressMs:
          kind.defaultLongPressMs === undefined
            ? undefined
            : numberSetting(c, 'long_press_ms', kind.defaultLongPressMs),
      });
    },
  };
}

interface Settings {
  debounceMs: number;
  activeLow: boolean;
  longPressMs: number | undefined;
}

class DigitalIn implements Driver {
  #pin: GpioPin | undefined;
  #active: boolean | undefined;
  #activeSince: number | undefined;

  constructor(
    private readonly ctx: DriverContext,
    private readonly kind: DigitalInKind,
    private readonly settings: Settings,
  ) {}

  async start(): Promise<void> {
    const pin = await this.ctx.gpio.open(this.ctx.component.pin_number!, 'in', {
      edge: 'both',
      debounceMs: this.settings.debounceMs,
    });
    this.#pin = pin;
    // Watch before reading, so a change between the two is not lost; the read only fills in the
    // first state if no edge has reported one already.
    pin.watch((level) => this.#heard(level));
    const level = await pin.read();
    if (this.#active === undefined) this.#heard(level);
  }

  async stop(): Promise<void> {
    const pin = this.#pin;
    this.#pin = undefined;
    if (!pin) return;
    try {
      pin.unwatchAll();
      await pin.close();
    } catch (err) {
      this.ctx.log.error({ err }, 'could not release the pin');
    }
  }

  #heard(level: Bit): void {
    // Called from GPIO interrupts and timers: an exception here would have no caller to reach.
    try {
      const active = (level === 1) !== this.settings.activeLow;
      if (active === this.#active) return;
      const wasActive = this.#active === true;
      this.#active = active;
      const now = this.ctx.clock.monotonic();
      this.ctx.out.state(active ? this.kind.active : this.kind.inactive);
      if (active) {
        this.#activeSince = now;
      } else if (wasActive && this.#activeSince !== undefined && this.settings.longPressMs !== undefined) {
        const ms = Math.round(now - this.#activeSince);
        if (ms >= this.settings.longPressMs) this.ctx.out.event('long_press', { ms });
      }
    } catch (err) {
      this.ctx.log.error({ err, level }, 'could not report an input change');
    }
  }
}
