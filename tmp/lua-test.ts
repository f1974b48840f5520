import { RedisStateStore } from '../backend/mqtt/redis-state-store.js';
import { connectRedis, closeRedis } from '../backend/redis.js';
import { silentLogger } from '../core/logger.js';
const r = await connectRedis('redis://127.0.0.1:6379', silentLogger());
const s = new RedisStateStore(r, 'x-debug:', 1000, 1000);
const T = Date.UTC(2026, 10, 23, 12);
try {
console.log(await s.mergeSynced('d1', { '3': { component_type: 'dht22', at: T + 2000, readings: { temperature: 21, humidity: 40 } } }));
console.log(JSON.stringify(await s.get('d1')));
} catch (e) { console.log(e); }
await closeRedis(r);
