import { randomBytes } from 'node:crypto';
import { createClient } from 'redis';

export const REDIS_URL = process.env['ARES_TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';

/** Undefined when Redis answers; otherwise why not. CI (CI=true) must have it. */
export async function redisProblem(): Promise<string | undefined> {
  const client = createClient({ url: REDIS_URL, socket: { connectTimeout: 2000, reconnectStrategy: false } });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.ping();
    return undefined;
  } catch (err) {
    if (process.env['CI']) throw new Error(`CI requires Redis at ${REDIS_URL}: ${(err as Error).message}`);
    return `Redis not reachable at ${REDIS_URL} (${(err as Error).message}); start it or set ARES_TEST_REDIS_URL to run these`;
  } finally {
    await client.destroy();
  }
}

/** A key prefix of this test file's own: files run in parallel against one Redis. */
export const redisPrefix = () => `ares-test:${process.pid}:${randomBytes(4).toString('hex')}:`;
