import t from 'tap';
import { RedisStateStore } from '../../backend/mqtt/redis-state-store.js';
import { MemoryStateStore, type DeviceStateStore } from '../../backend/mqtt/state-store.js';
import { closeRedis, connectRedis } from '../../backend/redis.js';
import { silentLogger } from '../../core/logger.js';
import { REDIS_URL, redisPrefix, redisProblem } from '../helpers/redis.js';
import { holds, until } from '../helpers/wait.js';

/** The contract both stores keep (the realtime layer relies on nothing else). */
function contract(name: string, skip: string | false, make: (t: Tap) => Promise<DeviceStateStore>) {
  t.test(name, { skip }, async (t) => {
    t.test('status and components', async (t) => {
      const s = await make(t);
      t.equal(await s.get('a'), undefined, 'unknown device');
      t.equal(await s.setStatus('a', 'ONLINE'), undefined, 'first status: nothing replaced');
      t.equal(await s.setStatus('a', 'ONLINE'), 'ONLINE', 'resolves to the status replaced');
      await s.mergeComponents('a', { '1': { component_type: 'led', name: 'Hall', state: 'ON' } });
      await s.mergeComponents('a', { '2': { component_type: 'pir', name: null, state: { motion: true } } });
      await s.mergeComponents('a', { '1': { component_type: 'led', name: 'Hall', state: 'OFF' } });
      t.same(await s.get('a'), {
        device_status: 'ONLINE',
        components: {
          '1': { component_type: 'led', name: 'Hall', state: 'OFF' },
          '2': { component_type: 'pir', name: null, state: { motion: true } },
        },
      });
      t.equal(await s.setStatus('a', 'OFFLINE'), 'ONLINE');
      t.equal((await s.get('a'))!.device_status, 'OFFLINE', 'components kept across presence changes');
      await s.mergeComponents('b', { '5': { component_type: 'led', name: null, state: 'ON' } });
      t.equal((await s.get('b'))!.device_status, 'ONLINE', 'state before any status: ONLINE');
    });

    t.test('synced updates apply only where newer than what is held', async (t) => {
      const s = await make(t);
      t.same(
        await s.mergeSynced('d', {
          '1': { component_type: 'dht22', at: 1000, readings: { temperature: 21.5 } },
          '2': { component_type: 'led', at: 1000, state: 'ON' },
        }),
        ['1', '2'],
        'a device never seen: everything applies',
      );
      t.equal((await s.get('d'))!.device_status, 'OFFLINE', 'sync says nothing about the connection');
      // The live channel: component 1 with a time, component 3 from a hub that sends none.
      await s.mergeComponents('d', {
        '1': { component_type: 'dht22', name: 'Hall', state: { temperature: 23, humidity: 40 }, at: 5000 },
        '3': { component_type: 'pir', name: null, state: { motion: true } },
      });
      t.same(
        await s.mergeSynced('d', {
          '1': { component_type: 'dht22', at: 4000, readings: { temperature: 19 } },
          '2': { component_type: 'led', at: 999, state: 'OFF' },
          '3': { component_type: 'pir', at: 9e12, state: { motion: false } },
        }),
        [],
        'older than held, or held without a time: nothing changes',
      );
      t.same(
        await s.mergeSynced('d', {
          '1': { component_type: 'dht22', at: 6000, readings: { temperature: 24.25 } },
          '2': { component_type: 'led', at: 1001, state: null },
        }),
        ['1', '2'],
      );
      t.same((await s.get('d'))!.components, {
        '1': { component_type: 'dht22', name: 'Hall', state: { temperature: 24.25, humidity: 40 }, at: 6000 },
        '2': { component_type: 'led', name: null, state: null, at: 1001 },
        '3': { component_type: 'pir', name: null, state: { motion: true } },
      });
      t.same(
        await s.mergeSynced('d', { '2': { component_type: 'led', at: 1001, state: 'ON' } }),
        [],
        'the same time again is not newer',
      );
    });

    t.test('presence order: sweeps find only the silent, each once', async (t) => {
      const s = await make(t);
      t.equal(await s.touch('a', 0), true, 'new');
      t.equal(await s.touch('b', 100), true);
      t.equal(await s.touch('c', 200), true);
      t.equal(await s.touch('a', 600), false, 'already tracked');
      t.same(await s.sweep(1000), [], 'nobody silent for longer than 1000 ms');
      t.same(await s.sweep(1150), ['b']);
      t.same(await s.sweep(1150), [], 'reported once');
      await s.forget('c');
      t.same((await s.sweep(5000)).sort(), ['a'], 'a disconnected device is never timed out');
      t.equal(await s.touch('b', 5000), true, 'swept devices are new again when they speak');
      t.same(await s.sweep(6500), ['b']);
    });
  });
}

type Tap = { teardown(fn: () => unknown): void };

contract('in memory', false, () => Promise.resolve(new MemoryStateStore(1000)));

const skip = (await redisProblem()) ?? false;
contract('in Redis', skip, async (t) => {
  const redis = await connectRedis(REDIS_URL, silentLogger());
  t.teardown(() => closeRedis(redis));
  return new RedisStateStore(redis, redisPrefix(), 1000, 60_000);
});

t.test('Redis: one instance sweeps at a time; the lease passes on when its holder stops', { skip }, async (t) => {
  const redis = await connectRedis(REDIS_URL, silentLogger());
  t.teardown(() => closeRedis(redis));
  const prefix = redisPrefix();
  // Long enough that a slow machine cannot let it lapse between two steps of the test by accident.
  const LEASE_MS = 1000;
  const one = new RedisStateStore(redis, prefix, 1000, LEASE_MS);
  const two = new RedisStateStore(redis, prefix, 1000, LEASE_MS);
  for (let i = 0; i < 2500; i++) await one.touch(`dev-${i}`, i < 2400 ? 0 : 5000);
  const first = await one.sweep(2000);
  t.equal(first.length, 2400, 'the timed-out devices, across several batches');
  // For twice the lease, while the holder keeps sweeping (renewing it), the other instance is left out
  // even with a timed-out device waiting, and the holder sweeps each one.
  await holds(
    'another instance leaves the sweep to the lease holder; the holder keeps sweeping',
    async () => {
      await one.touch('late', 0);
      const other = await two.sweep(2000);
      const mine = await one.sweep(2000);
      return other.length === 0 && mine.length === 1 && mine[0] === 'late';
    },
    2 * LEASE_MS,
  );
  t.pass('the holder kept the lease for twice its length by sweeping');
  // The holder stops: once its lease lapses, the other instance takes the sweep over.
  await two.touch('later', 0);
  let taken: string[] = [];
  await until('a lapsed lease is taken over', async () => (taken = await two.sweep(2000)).length > 0, 5 * LEASE_MS);
  t.same(taken, ['later'], 'a lapsed lease is taken over');
});
