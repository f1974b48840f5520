import { isBcmPin } from './gpiochip.js';
import {
  type Bit,
  type Direction,
  type Edge,
  type GpioPin,
  type GpioPort,
  GpioError,
  MAX_BCM_PIN,
  type PinOptions,
} from './port.js';

/**
 * In-memory GPIO for tests and the demo. The port models the wire: every pin has a level that
 * outlives open/close (an output released by close() stays where it was, as on a Pi), `setInput`
 * drives an input's wire as a button or sensor would, and `level` shows what a meter on the pin would.
 *
 * Watchers: with debounceMs 0 they are called synchronously inside `setInput`, so tests need no
 * waiting; with debounceMs > 0 a real setTimeout restarts on every change and watchers hear the level
 * only if it still differs from the last level they heard when the timer fires (a glitch is swallowed).
 */
export class SimGpioPort implements GpioPort {
  readonly name = 'sim';
  readonly #pins = new Map<number, SimPin>();
  readonly #wire = new Map<number, Bit>();

  async open(pin: number, direction: Direction, options: PinOptions = {}): Promise<GpioPin> {
    checkOpenArgs(pin, direction, options);
    if (this.#pins.has(pin)) throw new GpioError(`GPIO ${pin} is already open`, pin);
    if (direction === 'out') this.#wire.set(pin, options.initial ?? 0);
    const opened = new SimPin(pin, direction, options, this.#wire, () => {
      // A stale handle closing late must not release a newer open of the same pin.
      if (this.#pins.get(pin) === opened) this.#pins.delete(pin);
    });
    this.#pins.set(pin, opened);
    return opened;
  }

  async close(): Promise<void> {
    await Promise.all([...this.#pins.values()].map((p) => p.close()));
  }

  /** Drives an input's level (or presets it before the pin is opened). Throws for an open output. */
  setInput(pin: number, value: Bit): void {
    if (!isBcmPin(pin)) throw new GpioError(`GPIO ${pin} is not a BCM pin number (0–${MAX_BCM_PIN})`, pin);
    if (value !== 0 && value !== 1) throw new GpioError(`GPIO ${pin}: level must be 0 or 1, not ${String(value)}`, pin);
    const open = this.#pins.get(pin);
    if (open?.direction === 'out') throw new GpioError(`GPIO ${pin} is an output: setInput drives inputs only`, pin);
    const before = this.#wire.get(pin) ?? 0;
    this.#wire.set(pin, value);
    if (open && value !== before) open.changed();
  }

  /** The pin's level on the wire (open or not); undefined for a pin never opened or driven. */
  level(pin: number): Bit | undefined {
    return this.#wire.get(pin);
  }

  isOpen(pin: number): boolean {
    return this.#pins.has(pin);
  }
}

class SimPin implements GpioPin {
  readonly #edge: Edge;
  readonly #debounceMs: number;
  #listeners: ((value: Bit) => void)[] = [];
  #heard: Bit;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(
    readonly pin: number,
    readonly direction: Direction,
    options: PinOptions,
    private readonly wire: Map<number, Bit>,
    private readonly release: () => void,
  ) {
    this.#edge = options.edge ?? 'none';
    this.#debounceMs = options.debounceMs ?? 0;
    this.#heard = this.#level();
  }

  async read(): Promise<Bit> {
    this.#assertOpen('read');
    return this.#level();
  }

  async write(value: Bit): Promise<void> {
    this.#assertOpen('write');
    if (this.direction !== 'out') throw new GpioError(`GPIO ${this.pin} is an input: it cannot be written`, this.pin);
    if (value !== 0 && value !== 1)
      throw new GpioError(`GPIO ${this.pin}: level must be 0 or 1, not ${String(value)}`, this.pin);
    this.wire.set(this.pin, value);
  }

  watch(listener: (value: Bit) => void): void {
    this.#assertOpen('watch');
    checkWatchable(this.pin, this.direction, this.#edge);
    this.#listeners.push(listener);
  }

  unwatchAll(): void {
    this.#listeners = [];
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#listeners = [];
    this.release();
  }

  /** The port calls this when setInput changed the wire level. */
  changed(): void {
    if (this.#debounceMs <= 0) return this.#settle();
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#settle(), this.#debounceMs);
  }

  #settle(): void {
    this.#timer = undefined;
    const level = this.#level();
    if (level === this.#heard) return;
    this.#heard = level;
    if (!edgeWanted(this.#edge, level)) return;
    for (const listener of [...this.#listeners]) listener(level);
  }

  #level(): Bit {
    return this.wire.get(this.pin) ?? 0;
  }

  #assertOpen(what: string): void {
    if (this.#closed) throw new GpioError(`GPIO ${this.pin} is closed: cannot ${what}`, this.pin);
  }
}

/**
 * The argument rules of GpioPort.open, shared by every port so they all fail the same way (the
 * contract suite checks them). Lives with the simulator, the reference implementation.
 */
export function checkOpenArgs(pin: number, direction: Direction, options: PinOptions): void {
  if (!isBcmPin(pin)) throw new GpioError(`GPIO ${pin} is not a BCM pin number (0–${MAX_BCM_PIN})`, pin);
  if (direction !== 'in' && direction !== 'out') {
    throw new GpioError(`GPIO ${pin}: direction must be 'in' or 'out', not ${JSON.stringify(direction)}`, pin);
  }
  const { edge, debounceMs, initial } = options;
  if (edge !== undefined && !['none', 'rising', 'falling', 'both'].includes(edge)) {
    throw new GpioError(`GPIO ${pin}: edge must be none, rising, falling or both, not ${JSON.stringify(edge)}`, pin);
  }
  if (debounceMs !== undefined && !(Number.isFinite(debounceMs) && debounceMs >= 0)) {
    throw new GpioError(`GPIO ${pin}: debounceMs must be a number ≥ 0, not ${String(debounceMs)}`, pin);
  }
  if (initial !== undefined && initial !== 0 && initial !== 1) {
    throw new GpioError(`GPIO ${pin}: initial must be 0 or 1, not ${String(initial)}`, pin);
  }
}

/** watch() is for inputs opened with an edge; anything else would be a listener never called. */
export function checkWatchable(pin: number, direction: Direction, edge: Edge): void {
  if (direction !== 'in') throw new GpioError(`GPIO ${pin} is an output: only inputs can be watched`, pin);
  if (edge === 'none') {
    throw new GpioError(`GPIO ${pin} was opened with edge 'none': open it with an edge to watch it`, pin);
  }
}

/** Whether a change to `level` is an edge the pin was opened to report. */
export function edgeWanted(edge: Edge, level: Bit): boolean {
  return edge === 'both' || (edge === 'rising' && level === 1) || (edge === 'falling' && level === 0);
}
