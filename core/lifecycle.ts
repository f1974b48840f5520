import { AresError } from './errors.js';
import type { Logger } from './logger.js';

/**
 * One part of a daemon (the buffer, the LAN broker, central's HTTP listener…). `start` brings it up and
 * may use the signal to give up early when the daemon is told to stop meanwhile; `stop` takes it down
 * and must be safe on a part whose `start` failed half-way (it is called for every part whose start
 * began), and must cancel the part's retries: the runner waits for it only `stopTimeoutMs`.
 */
export interface Part {
  readonly name: string;
  start(signal: AbortSignal): Promise<void> | void;
  stop?(): Promise<void> | void;
  /** How long `stop` may take before the runner gives up on it and goes on (default: the runner's). */
  readonly stopTimeoutMs?: number;
}

/** The part that failed to start, and why; the CLI prints it as one line and exits 1. */
export class StartError extends AresError {
  constructor(
    readonly part: string,
    cause: unknown,
  ) {
    super('ARES_ERR_START', `${part}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'StartError';
  }
}

/** start() ended because stop() was called first: not a failure (SIGTERM during start-up). */
export class StartAbortedError extends AresError {
  constructor(readonly part: string | undefined) {
    super('ARES_ERR_STOPPED', part ? `stopped while starting ${part}` : 'stopped before starting');
    this.name = 'StartAbortedError';
  }
}

export interface LifecycleOptions {
  log: Logger;
  /** Default bound on each part's stop (ms). */
  stopTimeoutMs?: number;
  /** How long stop() waits for a part's start under way to give up (ms). */
  startGiveUpMs?: number;
}

const DEFAULT_STOP_TIMEOUT_MS = 3000;
const DEFAULT_START_GIVE_UP_MS = 2000;

/**
 * The one lifecycle runner of hub and central: an ordered list of parts, started in order and stopped in
 * reverse. A part that fails to start stops everything already started (itself included) and `start()`
 * rejects with a StartError naming it; `stop()` during `start()` aborts it at the next part boundary (the
 * part under way sees its signal abort) and unwinds the same way. Each stop is bounded: a part that hangs
 * is logged and left behind, the others still stop, so a daemon told to stop always gets to exit.
 */
export class Lifecycle {
  readonly #parts: Part[] = [];
  /** Parts whose start began, in order: the ones to stop. */
  readonly #entered: Part[] = [];
  readonly #abort = new AbortController();
  #starting: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;

  constructor(private readonly opts: LifecycleOptions) {}

  /** Appends a part (before start). */
  add(part: Part): this {
    if (this.#starting) throw new Error(`lifecycle: part ${part.name} added after start`);
    this.#parts.push(part);
    return this;
  }

  /** Names of the parts whose start began and that are not stopped yet. */
  running(): string[] {
    return this.#entered.map((p) => p.name);
  }

  start(): Promise<void> {
    this.#starting ??= this.#start();
    return this.#starting;
  }

  async #start(): Promise<void> {
    const signal = this.#abort.signal;
    for (const part of this.#parts) {
      if (signal.aborted) throw new StartAbortedError(part.name);
      this.#entered.push(part);
      this.opts.log.debug({ part: part.name }, `starting ${part.name}`);
      try {
        await part.start(signal);
        // Given up on while it hung (stop() went on without it): what it opened since is closed again.
        if (signal.aborted && !this.#entered.includes(part)) await this.#stopPart(part);
      } catch (err) {
        if (signal.aborted) throw new StartAbortedError(part.name);
        this.opts.log.error({ err, part: part.name }, `${part.name} failed to start: stopping what had started`);
        await this.#unwind();
        throw new StartError(part.name, err);
      }
    }
    if (signal.aborted) throw new StartAbortedError(undefined);
  }

  /** Stops what started, in reverse; resolves when every part stopped or ran out of time. Idempotent. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    this.#abort.abort();
    // A start under way is given time to finish its current part (it has seen the signal), so that what
    // the part opens is stopped too; a part that hangs in start (a server that never answers) is stopped
    // as it is after that time, like one that hangs in stop.
    if (this.#starting) {
      const limit = this.opts.startGiveUpMs ?? DEFAULT_START_GIVE_UP_MS;
      const settled = await within(this.#starting.then(noop, noop), limit);
      if (!settled) this.opts.log.error({ timeout_ms: limit }, 'start did not give up in time: stopping what started');
    }
    await this.#unwind();
  }

  async #unwind(): Promise<void> {
    while (this.#entered.length > 0) {
      const part = this.#entered.pop()!;
      await this.#stopPart(part);
    }
  }

  async #stopPart(part: Part): Promise<void> {
    if (!part.stop) return;
    const limit = part.stopTimeoutMs ?? this.opts.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS;
    try {
      const stopped = await within(
        Promise.resolve().then(() => part.stop!()),
        limit,
      );
      if (!stopped)
        this.opts.log.error({ part: part.name, timeout_ms: limit }, `${part.name} did not stop in time: going on`);
    } catch (err) {
      this.opts.log.error({ err, part: part.name }, `stopping ${part.name} failed`);
    }
  }
}

const noop = (): void => undefined;

/** Whether `work` settled within `ms` (its rejection propagates); the timer never outlives the race. */
async function within(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([work.then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
