import type { Clock } from '../core/clock.js';
import type { HostRoot } from '../core/host-root.js';
import type { Logger } from '../core/logger.js';
import type { ComponentSpec } from '../sync/components.js';
import type { GpioPort } from './gpio/port.js';

/**
 * What a driver reports. Everything goes through one pipeline (state cache, local broker, and the
 * outbox once sync exists); a driver never talks to those directly.
 */
export interface DriverOutput {
  /** A numeric reading, e.g. ('temperature', 21.5). */
  reading(metric: string, value: number): void;
  /** The component's state changed, e.g. 'ON', 'OFF', 'PRESSED', 'MOTION'. */
  state(state: string): void;
  /** Something happened that is not a state, e.g. ('long_press', { ms: 5200 }). */
  event(name: string, data?: Record<string, unknown>): void;
}

export interface DriverContext {
  readonly log: Logger;
  readonly clock: Clock;
  readonly host: HostRoot;
  readonly gpio: GpioPort;
  readonly component: ComponentSpec;
  readonly out: DriverOutput;
}

export interface Command {
  action: string;
  value?: unknown;
  durationS?: number;
}

/** A running component. Constructors (create) do nothing; start() acquires hardware and timers. */
export interface Driver {
  start(): Promise<void>;
  /** Releases everything start() took; must not throw for a half-started driver. */
  stop(): Promise<void>;
  /** Actuators: apply an already validated command; resolves with the resulting state. */
  command?(cmd: Command): Promise<{ state: string }>;
}

/**
 * A driver module's default export (one file per component_type, loaded with import() only when a
 * hub has that component). Adding a type = one file + one line in drivers/registry.ts.
 */
export interface DriverDescriptor {
  readonly type: string;
  /** Actions `command()` accepts, e.g. ['on', 'off', 'toggle']; [] for sensors. */
  readonly actions: readonly string[];
  /** Problems with this component's pin/config for this driver ([] = fine). */
  check(component: ComponentSpec): string[];
  /**
   * A sensor silent for longer than this (ms) is marked faulty (seed §14); undefined = never. A
   * function when the limit follows the component's own settings (e.g. three sampling intervals).
   */
  readonly silenceLimitMs?: number | ((component: ComponentSpec) => number);
  create(ctx: DriverContext): Driver;
}
