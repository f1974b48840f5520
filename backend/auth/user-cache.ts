import type { Clock } from '../../core/clock.js';
import type { AuthUser } from '../http/request-types.js';

/**
 * The user behind a token, remembered for a few seconds: every authenticated request needs it, and
 * it changes rarely. Changes made through this instance (roles, password reset, account deletion)
 * invalidate at once; with several central instances, another instance's change is seen within
 * `ttlMs` (`central.auth_cache_ms`, 0 disables the cache).
 */
export class AuthUserCache {
  readonly #entries = new Map<number, { user: AuthUser; tokenVersion: number; until: number }>();
  constructor(
    private readonly clock: Clock,
    private readonly ttlMs: number,
    private readonly max = 10_000,
  ) {}

  get(userId: number, tokenVersion: number): AuthUser | undefined {
    const e = this.#entries.get(userId);
    if (!e) return undefined;
    if (e.until <= this.clock.now() || e.tokenVersion !== tokenVersion) {
      this.#entries.delete(userId);
      return undefined;
    }
    return e.user;
  }

  set(user: AuthUser, tokenVersion: number): void {
    if (this.ttlMs <= 0) return;
    if (this.#entries.size >= this.max) this.#entries.delete(this.#entries.keys().next().value!);
    this.#entries.set(user.id, { user, tokenVersion, until: this.clock.now() + this.ttlMs });
  }

  invalidate(userId: number): void {
    this.#entries.delete(userId);
  }
}
