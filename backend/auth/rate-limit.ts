import type { Clock } from '../../core/clock.js';

/**
 * Fixed-window counters for throttles (login failures, claim attempts, mail requests). The interface
 * is async so the Redis implementation (several central instances) can stand in without changes.
 */
export interface CounterStore {
  /** Current count in the key's window (0 when none). */
  peek(key: string): Promise<{ count: number; retryAfterS: number }>;
  /** Adds one; starts a window of `windowS` seconds if none is open. */
  increment(key: string, windowS: number): Promise<{ count: number; retryAfterS: number }>;
  reset(key: string): Promise<void>;
  /** Releases connections (Redis); the in-memory store has none. */
  close?(): Promise<void>;
}

/** In-process counters, bounded so a flood of distinct keys cannot exhaust memory. */
export class MemoryCounterStore implements CounterStore {
  readonly #entries = new Map<string, { count: number; resetAt: number }>();
  constructor(
    private readonly clock: Clock,
    private readonly maxKeys = 100_000,
  ) {}

  async peek(key: string): Promise<{ count: number; retryAfterS: number }> {
    const e = this.#live(key);
    return e ? { count: e.count, retryAfterS: this.#retry(e) } : { count: 0, retryAfterS: 0 };
  }

  async increment(key: string, windowS: number): Promise<{ count: number; retryAfterS: number }> {
    let e = this.#live(key);
    if (!e) {
      this.#makeRoom();
      e = { count: 0, resetAt: this.clock.now() + windowS * 1000 };
      this.#entries.set(key, e);
    }
    e.count++;
    return { count: e.count, retryAfterS: this.#retry(e) };
  }

  async reset(key: string): Promise<void> {
    this.#entries.delete(key);
  }

  #live(key: string) {
    const e = this.#entries.get(key);
    if (e && e.resetAt <= this.clock.now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return e;
  }

  #retry(e: { resetAt: number }): number {
    return Math.max(1, Math.ceil((e.resetAt - this.clock.now()) / 1000));
  }

  #makeRoom(): void {
    if (this.#entries.size < this.maxKeys) return;
    const now = this.clock.now();
    for (const [k, e] of this.#entries) if (e.resetAt <= now) this.#entries.delete(k);
    // Still full: drop the oldest insertions (Map keeps insertion order).
    for (const k of this.#entries.keys()) {
      if (this.#entries.size < this.maxKeys) break;
      this.#entries.delete(k);
    }
  }
}
