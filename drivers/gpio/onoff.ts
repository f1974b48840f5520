import type { Gpio } from 'onoff';
import type { HostRoot } from '../../core/host-root.js';
import { gpioBase, sysfsNumber } from './gpiochip.js';
import {
  type Bit,
  type Direction,
  type Edge,
  type GpioPin,
  type GpioPort,
  GpioError,
  type PinOptions,
} from './port.js';
import { checkOpenArgs, checkWatchable, edgeWanted } from './sim.js';

type GpioClass = typeof Gpio;

/**
 * GPIO through sysfs with `onoff`, on every Pi. BCM numbers are shifted by the header controller's
 * gpiochip base (gpiochip.ts), read from the host root once, on the first open.
 *
 * onoff always opens the real /sys/class/gpio, whatever the host root says, so off a Pi only the
 * offset logic and the "no GPIO" failures are testable; the contract suite runs here only on a Pi.
 */
export class OnoffGpioPort implements GpioPort {
  readonly name = 'onoff';
  readonly #pins = new Map<number, OnoffPin | 'opening'>();
  #base: Promise<number> | undefined;

  constructor(private readonly host: HostRoot) {}

  async open(pin: number, direction: Direction, options: PinOptions = {}): Promise<GpioPin> {
    checkOpenArgs(pin, direction, options);
    if (this.#pins.has(pin)) throw new GpioError(`GPIO ${pin} is already open`, pin);
    // Claimed before the first await so two concurrent opens of one pin cannot both succeed.
    this.#pins.set(pin, 'opening');
    try {
      const number = sysfsNumber(await this.#gpioBase(), pin);
      const opened = new OnoffPin(
        pin,
        direction,
        options,
        openGpio(await loadOnoff(), pin, number, direction, options),
        () => {
          if (this.#pins.get(pin) === opened) this.#pins.delete(pin);
        },
      );
      this.#pins.set(pin, opened);
      return opened;
    } catch (err) {
      this.#pins.delete(pin);
      throw err;
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.#pins.values()].map((p) => (p === 'opening' ? undefined : p.close())));
  }

  #gpioBase(): Promise<number> {
    // Cached once found; a failure is not cached, so a later open tries again.
    this.#base ??= gpioBase(this.host).catch((err: unknown) => {
      this.#base = undefined;
      throw err;
    });
    return this.#base;
  }
}

/** Imported lazily: onoff loads the native `epoll` addon, which a development machine may lack. */
async function loadOnoff(): Promise<GpioClass> {
  let Gpio: GpioClass;
  try {
    ({ Gpio } = await import('onoff'));
  } catch (err) {
    throw new GpioError(
      `no GPIO: the onoff package could not load (${(err as Error).message}); set hub.gpio: sim for development`,
    );
  }
  if (!Gpio.accessible) {
    throw new GpioError(
      'no GPIO access: cannot open /sys/class/gpio/export (not a Raspberry Pi, or this user is not in the gpio group); set hub.gpio: sim for development',
    );
  }
  return Gpio;
}

function openGpio(Gpio: GpioClass, pin: number, number: number, direction: Direction, options: PinOptions): Gpio {
  try {
    if (direction === 'out') return new Gpio(number, options.initial === 1 ? 'high' : 'low');
    // The kernel reports both edges whenever any is wanted: OnoffPin tracks every level itself, so
    // it can drop repeats (onoff re-reports an unchanged level after a debounced glitch) and filter.
    const edge = (options.edge ?? 'none') === 'none' ? 'none' : 'both';
    return new Gpio(number, 'in', edge, { debounceTimeout: options.debounceMs ?? 0 });
  } catch (err) {
    throw new GpioError(`GPIO ${pin} (sysfs ${number}) could not be opened: ${(err as Error).message}`, pin);
  }
}

class OnoffPin implements GpioPin {
  readonly #edge: Edge;
  #listeners: ((value: Bit) => void)[] = [];
  #heard: Bit = 0;
  #closed = false;

  constructor(
    readonly pin: number,
    readonly direction: Direction,
    options: PinOptions,
    private readonly gpio: Gpio,
    private readonly release: () => void,
  ) {
    this.#edge = options.edge ?? 'none';
  }

  async read(): Promise<Bit> {
    this.#assertOpen('read');
    try {
      return await this.gpio.read();
    } catch (err) {
      throw this.#failed('read', err);
    }
  }

  async write(value: Bit): Promise<void> {
    this.#assertOpen('write');
    if (this.direction !== 'out') throw new GpioError(`GPIO ${this.pin} is an input: it cannot be written`, this.pin);
    if (value !== 0 && value !== 1)
      throw new GpioError(`GPIO ${this.pin}: level must be 0 or 1, not ${String(value)}`, this.pin);
    try {
      await this.gpio.write(value);
    } catch (err) {
      throw this.#failed('write', err);
    }
  }

  watch(listener: (value: Bit) => void): void {
    this.#assertOpen('watch');
    checkWatchable(this.pin, this.direction, this.#edge);
    this.#listeners.push(listener);
    if (this.#listeners.length > 1) return;
    // No interrupts were followed while nobody watched: start from the level as it is now.
    this.#heard = this.gpio.readSync();
    this.gpio.watch(this.#onInterrupt);
  }

  unwatchAll(): void {
    this.#listeners = [];
    if (!this.#closed) this.gpio.unwatchAll();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#listeners = [];
    // unexport hands the line back to the kernel; an output keeps its level (the pin stays driven).
    try {
      this.gpio.unexport();
    } catch (err) {
      throw this.#failed('unexport', err);
    } finally {
      // Our claim on the pin ends either way; a stuck export is the kernel's state, not ours.
      this.release();
    }
  }

  readonly #onInterrupt = (err: Error | null | undefined, value: Bit): void => {
    if (err) {
      // No logger reaches a port; a warning still lands in the journal instead of vanishing.
      process.emitWarning(`GPIO ${this.pin}: interrupt error: ${err.message}`, 'GpioWarning');
      return;
    }
    if (value === this.#heard) return;
    this.#heard = value;
    if (!edgeWanted(this.#edge, value)) return;
    for (const listener of [...this.#listeners]) listener(value);
  };

  #failed(what: string, err: unknown): GpioError {
    return new GpioError(`GPIO ${this.pin}: ${what} failed: ${(err as Error).message}`, this.pin);
  }

  #assertOpen(what: string): void {
    if (this.#closed) throw new GpioError(`GPIO ${this.pin} is closed: cannot ${what}`, this.pin);
  }
}
