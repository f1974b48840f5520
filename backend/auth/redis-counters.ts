import type { Logger } from '../../core/logger.js';
import { closeRedis, connectRedis, type RedisClient } from '../redis.js';
import type { CounterStore } from './rate-limit.js';

/**
 * Throttle and rate-limit counters in Redis (`central.redis_url`), shared by every central instance
 * behind a load balancer: a brute-force guesser gains nothing by hopping between instances. Each key
 * is an INCR with a window set by PEXPIRE NX (Redis ≥ 7), so the window starts at the first hit.
 */
export class RedisCounterStore implements CounterStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix = 'ares:counter:',
    /** Whether close() ends the connection (false when central's shared connection is lent). */
    private readonly ownsConnection = false,
  ) {}

  /** A store with its own connection, closed by close(). */
  static async connect(url: string, log: Logger, prefix?: string): Promise<RedisCounterStore> {
    return new RedisCounterStore(await connectRedis(url, log), prefix, true);
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

  /** Idempotent: a second call (two owners tearing down) does nothing. */
  async close(): Promise<void> {
    if (this.ownsConnection) await closeRedis(this.redis);
  }
}
