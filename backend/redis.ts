import { createClient } from 'redis';
import { AresError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';

export type RedisClient = ReturnType<typeof createClient>;

/**
 * Opens central's Redis connection (`central.redis_url`). Fails fast at start-up — a wrong URL is a
 * configuration error — and, once connected, rides out outages with capped reconnects.
 */
export async function connectRedis(url: string, log: Logger): Promise<RedisClient> {
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
  return redis;
}

/** Closes a connection once, however many owners tear it down. */
export async function closeRedis(redis: RedisClient): Promise<void> {
  if (!redis.isOpen) return;
  await redis.quit().catch(() => redis.destroy());
}
