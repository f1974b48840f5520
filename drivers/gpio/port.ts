/**
 * The GPIO port: the one interface drivers use for digital pins. Implementations: `sim` (scriptable,
 * for tests and the demo), `onoff` (sysfs, every Pi; handles the gpiochip base offset of kernel ≥ 6.6
 * and the Pi 5), `pigpio` (opt-in, Pi ≤ 4, PWM). Pins are BCM numbers, as central's pin rules use.
 * Every implementation passes tests/drivers/gpio-contract.ts.
 */
import { AresError } from '../../core/errors.js';

export type Direction = 'in' | 'out';
export type Edge = 'none' | 'rising' | 'falling' | 'both';
export type Bit = 0 | 1;

export interface PinOptions {
  /** Inputs: which edges call watchers (default 'none'). */
  edge?: Edge;
  /** Inputs: a level must hold this long before watchers hear of it (default 0). */
  debounceMs?: number;
  /** Outputs: the level written when the pin opens (default 0). */
  initial?: Bit;
}

export interface GpioPin {
  readonly pin: number;
  readonly direction: Direction;
  read(): Promise<Bit>;
  /** Outputs only; writing an input rejects with GpioError. */
  write(value: Bit): Promise<void>;
  /** Inputs only: called with the new level on each (debounced) edge. */
  watch(listener: (value: Bit) => void): void;
  unwatchAll(): void;
  /** Releases the pin (an output is left at its current level). Idempotent. */
  close(): Promise<void>;
}

export interface GpioPort {
  readonly name: 'sim' | 'onoff' | 'pigpio';
  /** Rejects with GpioError for a pin outside 0–53, a pin already open, or hardware trouble. */
  open(pin: number, direction: Direction, options?: PinOptions): Promise<GpioPin>;
  /** Releases every pin this port opened. */
  close(): Promise<void>;
}

/** ARES_ERR_GPIO: a bad pin, a pin already open, no GPIO on this machine, hardware trouble. */
export class GpioError extends AresError {
  constructor(
    message: string,
    readonly pin?: number,
  ) {
    super('ARES_ERR_GPIO', message);
    this.name = 'GpioError';
  }
}

/** BCM numbering on every Raspberry Pi model: GPIO 0–53 (the header exposes 2–27). */
export const MAX_BCM_PIN = 53;
