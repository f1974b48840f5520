/**
 * Time as a port: the real clock and a manual one for tests (expiry, throttles, clock skew).
 */
export interface Clock {
  /** Wall-clock epoch milliseconds. */
  now(): number;
  /** Monotonic milliseconds since an arbitrary origin; never goes backwards. */
  monotonic(): number;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
};

export class ManualClock implements Clock {
  #now: number;
  #mono = 0;
  constructor(start = Date.UTC(2026, 0, 1)) {
    this.#now = start;
  }
  now(): number {
    return this.#now;
  }
  monotonic(): number {
    return this.#mono;
  }
  advance(ms: number): void {
    this.#now += ms;
    this.#mono += ms;
  }
  set(epochMs: number): void {
    this.#now = epochMs;
  }
}
