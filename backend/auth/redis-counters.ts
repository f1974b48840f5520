import { createClient } from 'redis';
import { AresError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { CounterStore } from './rate-limit.js';

type Redis = ReturnType<typeof createClient>;

/**
 * Throttle and rate-limit counters in Redis (`central.redis_url`), shared by every central instance
 * behind a load balancer: a brute-force guesser gains nothing by hopping between instances. Each key
 * is an INCR with a window set by PEXPIRE NX (Redis ≥ 7), so the window starts at the first hit.
 */
export class RedisCounterStore implements CounterStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = 'ares:counter:',
  ) {}

  static async connect(url: string, log: Logger, prefix?: string): Promise<RedisCounterStore> {
    // Fail fast at start-up (a wrong URL is a configuration error); once connected, ride out outages.
    let connectedOnce = false;
    const redis = createClient({
      url,
      socket: {
        connectTimeout: 5000,
        reconnectStrategy: (retries) => (connectedOnce ? Math.min(retries * 200, 5000) : false),
      },
    });
    // Without a listener a lost connection would be an uncaught 'error' event and end central.
    redis.on('error', (err: Error) => log.warn({ err: err.message }, 'Redis connection error'));
    try {
      await redis.connect();
      connectedOnce = true;
    } catch (err) {
      // A client that never connected may already count as closed: destroying it again throws.
      await Promise.resolve()
        .then(() => redis.destroy())
        .catch(() => undefined);
      throw new AresError('ARES_ERR_CONFIG', `central.redis_url: cannot connect: ${(err as Error).message}`, {
        cause: err,
      });
    }
    return new RedisCounterStore(redis, prefix);
  }

  async peek(key: string): Promise<{ count: number; retryAfterS: number }> {
    const k = this.prefix + key;
    const [count, ttl] = await Promise.all([this.redis.get(k), this.redis.pTTL(k)]);
    return { count: Number(count ?? 0), retryAfterS: ttl > 0 ? Math.ceil(ttl / 1000) : 0 };
  }

  async increment(key: string, windowS: number): Promise<{ count: number; retryAfterS: number }> {
    const k = this.prefix + key;
    const [count, , ttl] = (await this.redis
      .multi()
      .incr(k)
      .pExpire(k, windowS * 1000, 'NX')
      .pTTL(k)
      .exec()) as unknown as [number, number, number];
    return { count: Number(count), retryAfterS: Math.max(1, Math.ceil(Number(ttl) / 1000)) };
  }

  async reset(key: string): Promise<void> {
    await this.redis.del(this.prefix + key);
  }

  #closed = false;

  /** Idempotent: a second call (two owners tearing down) does nothing. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.redis.quit().catch(() => undefined);
  }
}
