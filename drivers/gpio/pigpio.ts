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

/** The part of the `pigpio` npm package this port uses (it ships no types we depend on). */
interface PigpioGpio {
  digitalRead(): number;
  digitalWrite(level: number): void;
  glitchFilter(steadyMicros: number): void;
  on(event: 'alert', listener: (level: number, tick: number) => void): void;
  removeAllListeners(event: 'alert'): void;
  enableAlert(): void;
  disableAlert(): void;
  mode(mode: number): void;
}
interface PigpioModule {
  Gpio: { new (pin: number, options: { mode: number; alert?: boolean }): PigpioGpio; INPUT: number; OUTPUT: number };
  terminate(): void;
}

/** pigpio's glitch filter takes at most 300 ms. */
const MAX_FILTER_MS = 300;

/**
 * GPIO through the pigpio C library (`hub.gpio: pigpio`): opt-in for Pi 4 and older (no Pi 5), needs
 * root and the library from Raspberry Pi OS, and is not in the cross-built bundle — install it on the
 * Pi with `npm install pigpio`. Loaded lazily, so every other hub never touches it. Debounce uses
 * pigpio's glitch filter (a level must be steady that long), edges are filtered here as in the other
 * ports. It runs the shared contract suite only on such a Pi.
 */
export class PigpioGpioPort implements GpioPort {
  readonly name = 'pigpio';
  readonly #pins = new Map<number, PigpioPin>();
  #lib: PigpioModule | undefined;

  /** Rejects with a GpioError telling how to get pigpio when it cannot be loaded. */
  static async load(): Promise<PigpioGpioPort> {
    const port = new PigpioGpioPort();
    const specifier = 'pigpio'; // a variable: the package is optional and absent from most builds
    try {
      const mod = (await import(specifier)) as { default?: PigpioModule } & PigpioModule;
      port.#lib = mod.default ?? mod;
    } catch (err) {
      throw new GpioError(
        `the pigpio package is not available (${(err as Error).message}); on a Pi 4 or older with Raspberry Pi OS run \`npm install pigpio\` as root, or use hub.gpio: auto`,
      );
    }
    return port;
  }

  async open(pin: number, direction: Direction, options: PinOptions = {}): Promise<GpioPin> {
    checkOpenArgs(pin, direction, options);
    if (this.#pins.has(pin)) throw new GpioError(`GPIO ${pin} is already open`, pin);
    const lib = this.#lib!;
    let gpio: PigpioGpio;
    try {
      gpio = new lib.Gpio(pin, {
        mode: direction === 'out' ? lib.Gpio.OUTPUT : lib.Gpio.INPUT,
        alert: direction === 'in',
      });
      if (direction === 'out') gpio.digitalWrite(options.initial ?? 0);
      else if (options.debounceMs) gpio.glitchFilter(Math.min(options.debounceMs, MAX_FILTER_MS) * 1000);
    } catch (err) {
      throw new GpioError(`GPIO ${pin}: pigpio refused it: ${(err as Error).message}`, pin);
    }
    const opened = new PigpioPin(pin, direction, options.edge ?? 'none', gpio, () => this.#pins.delete(pin));
    this.#pins.set(pin, opened);
    return opened;
  }

  async close(): Promise<void> {
    await Promise.all([...this.#pins.values()].map((p) => p.close()));
    this.#lib?.terminate();
  }
}

class PigpioPin implements GpioPin {
  #closed = false;
  #last: Bit | undefined;
  readonly #listeners: Array<(v: Bit) => void> = [];

  constructor(
    readonly pin: number,
    readonly direction: Direction,
    private readonly edge: Edge,
    private readonly gpio: PigpioGpio,
    private readonly release: () => void,
  ) {}

  #live(): void {
    if (this.#closed) throw new GpioError(`GPIO ${this.pin} is closed`, this.pin);
  }

  async read(): Promise<Bit> {
    this.#live();
    return this.gpio.digitalRead() ? 1 : 0;
  }

  async write(value: Bit): Promise<void> {
    this.#live();
    if (this.direction !== 'out') throw new GpioError(`GPIO ${this.pin} is an input: it cannot be written`, this.pin);
    this.gpio.digitalWrite(value);
  }

  watch(listener: (value: Bit) => void): void {
    this.#live();
    checkWatchable(this.pin, this.direction, this.edge);
    if (this.#listeners.length === 0) {
      this.#last = this.gpio.digitalRead() ? 1 : 0;
      this.gpio.on('alert', (level) => {
        const bit: Bit = level ? 1 : 0;
        // pigpio may report a level twice around a filtered glitch; listeners hear changes only.
        if (bit === this.#last) return;
        this.#last = bit;
        if (!edgeWanted(this.edge, bit)) return;
        for (const l of this.#listeners) l(bit);
      });
    }
    this.#listeners.push(listener);
  }

  unwatchAll(): void {
    this.#listeners.length = 0;
    this.gpio.removeAllListeners('alert');
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.unwatchAll();
    if (this.direction === 'in') this.gpio.disableAlert();
    this.release();
  }
}
