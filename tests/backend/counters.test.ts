import t from 'tap';
import { MemoryCounterStore, type CounterStore } from '../../backend/auth/rate-limit.js';
import { RedisCounterStore } from '../../backend/auth/redis-counters.js';
import { ManualClock } from '../../core/clock.js';
import { silentLogger } from '../../core/logger.js';
import { REDIS_URL, redisPrefix, redisProblem } from '../helpers/redis.js';

/** The contract every CounterStore meets (throttles and rate limits depend on it). */
function counterContract(
  name: string,
  make: () => Promise<{ store: CounterStore; pass(ms: number): Promise<void> }>,
  skip: string | false,
) {
  t.test(`CounterStore contract: ${name}`, { skip }, async (t) => {
    const { store, pass } = await make();
    t.teardown(() => store.close?.());
    t.same(await store.peek('k'), { count: 0, retryAfterS: 0 }, 'unknown key');
    t.equal((await store.increment('k', 1)).count, 1);
    t.equal((await store.increment('k', 1)).count, 2);
    const seen = await store.peek('k');
    t.equal(seen.count, 2);
    t.ok(seen.retryAfterS >= 1 && seen.retryAfterS <= 1, 'retry-after within the window');
    t.equal((await store.increment('other', 60)).count, 1, 'keys are independent');
    await store.reset('k');
    t.equal((await store.peek('k')).count, 0, 'reset');
    await store.increment('k', 1);
    await pass(1100);
    t.equal((await store.peek('k')).count, 0, 'the window ends');
    t.equal((await store.increment('k', 1)).count, 1, 'a new window starts at the next hit');
  });
}

counterContract(
  'memory',
  async () => {
    const clock = new ManualClock();
    return { store: new MemoryCounterStore(clock), pass: async (ms) => clock.advance(ms) };
  },
  false,
);

const problem = await redisProblem();
counterContract(
  'redis',
  async () => ({
    store: await RedisCounterStore.connect(REDIS_URL, silentLogger(), redisPrefix()),
    pass: (ms) => new Promise((r) => setTimeout(r, ms)),
  }),
  problem ?? false,
);

t.test('an unreachable Redis is a configuration error naming the setting', async (t) => {
  await t.rejects(RedisCounterStore.connect('redis://127.0.0.1:1', silentLogger()), {
    code: 'ARES_ERR_CONFIG',
    message: /central\.redis_url/,
  });
});

t.test(
  'two central instances share login throttling through central.redis_url',
  { skip: problem ?? false },
  async (t) => {
    const { startTestCentral } = await import('../helpers/central.js');
    // One prefix for both instances (they share it), shared with no other run of this test.
    const shared = { 'central.redis_url': REDIS_URL, 'central.redis_prefix': redisPrefix() };
    const a = await startTestCentral(t, undefined, shared);
    const b = await startTestCentral(t, undefined, shared);
    const email = `victim-${process.pid}-${Date.now()}@ares.test`;
    await a.app.inject({
      method: 'POST',
      url: '/auth/register',
      payload: { username: 'v', email, password: 'the-real-password' },
    });
    for (let i = 0; i < 5; i++) {
      const res = await a.app.inject({
        method: 'POST',
        url: '/auth/login',
        payload: { email, password: `guess-${i}-xx` },
      });
      t.equal(res.statusCode, 401, `guess ${i + 1} on instance A`);
    }
    const onB = await b.app.inject({
      method: 'POST',
      url: '/auth/login',
      payload: { email, password: 'another-guess' },
    });
    t.equal(onB.statusCode, 429, 'instance B already knows: the guesser gains nothing by switching instances');
  },
);
