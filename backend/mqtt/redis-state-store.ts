import { randomBytes } from 'node:crypto';
import type { RedisClient } from '../redis.js';
import type { ComponentState, DeviceState, DeviceStateStore, DeviceStatus, SyncedComponent } from './state-store.js';

/** A device's state outlives its silence this long; a device gone for a month starts afresh. */
const STATE_TTL_MS = 30 * 86400_000;
/** Timed-out devices popped per script call: a sweep after an outage never blocks Redis for long. */
const SWEEP_BATCH = 1000;

/**
 * Take (or keep) the sweep lease, then pop the devices last seen before the cut-off — one atomic
 * script, so a device that speaks between the read and the removal cannot be reported.
 * KEYS: lease, seen. ARGV: holder, lease ms, cut-off ms (exclusive), batch.
 */
const SWEEP_SCRIPT = `
local holder = redis.call('GET', KEYS[1])
if holder == false then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
elseif holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
else
  return false
end
local ids = redis.call('ZRANGE', KEYS[2], '-inf', '(' .. ARGV[3], 'BYSCORE', 'LIMIT', 0, tonumber(ARGV[4]))
if #ids > 0 then redis.call('ZREM', KEYS[2], unpack(ids)) end
return ids
`;

/**
 * applySynced() (state-store.ts) inside Redis, so a live update from another instance cannot land
 * between reading a component and writing it back. Redis's cjson writes numbers with 14 significant
 * digits: ms timestamps and sensor readings fit.
 * KEYS: the device's hash. ARGV: TTL ms, JSON { id: SyncedComponent }. Returns the ids changed.
 */
const MERGE_SYNCED_SCRIPT = `
local updates = cjson.decode(ARGV[2])
redis.call('HSETNX', KEYS[1], 'status', 'OFFLINE')
local changed = {}
for id, u in pairs(updates) do
  local field = 'c:' .. id
  local raw = redis.call('HGET', KEYS[1], field)
  local held = nil
  if raw then
    local ok, v = pcall(cjson.decode, raw)
    if ok and type(v) == 'table' then held = v end
  end
  if held == nil or (type(held.at) == 'number' and held.at < u.at) then
    local state = u.state
    if state == nil then state = cjson.null end
    if type(u.readings) == 'table' then
      local base = {}
      if held ~= nil and type(held.state) == 'table' and held.state[1] == nil then base = held.state end
      for k, v in pairs(u.readings) do base[k] = v end
      state = base
    end
    local name = cjson.null
    if held ~= nil and type(held.name) == 'string' then name = held.name end
    redis.call('HSET', KEYS[1], field,
      cjson.encode({ component_type = u.component_type, name = name, state = state, at = u.at }))
    changed[#changed + 1] = id
  end
end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return changed
`;

/**
 * Device state in Redis (`central.redis_url`), shared by every central instance: a hash per device
 * (`status`, and `c:<component id>` → JSON), and one sorted set of connected devices scored by
 * last-seen time, so a sweep reads only the timed-out end (seed §4.5). One instance sweeps at a
 * time, under a lease that passes to another if the holder stops renewing it.
 */
export class RedisStateStore implements DeviceStateStore {
  readonly #holder = randomBytes(8).toString('hex');

  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly limitMs: number,
    private readonly leaseMs: number,
  ) {}

  #key(deviceUuid: string): string {
    return `${this.prefix}rt:dev:${deviceUuid}`;
  }

  async get(deviceUuid: string): Promise<DeviceState | undefined> {
    const h = await this.redis.hGetAll(this.#key(deviceUuid));
    const status = h['status'] as DeviceStatus | undefined;
    if (!status) return undefined;
    const components: Record<string, ComponentState> = {};
    for (const [field, value] of Object.entries(h)) {
      if (!field.startsWith('c:')) continue;
      try {
        components[field.slice(2)] = JSON.parse(value) as ComponentState;
      } catch {
        // Written by us as JSON; anything else was not, and is skipped rather than served.
      }
    }
    return { device_status: status, components };
  }

  async setStatus(deviceUuid: string, status: DeviceStatus): Promise<DeviceStatus | undefined> {
    const key = this.#key(deviceUuid);
    const [before] = (await this.redis
      .multi()
      .hGet(key, 'status')
      .hSet(key, 'status', status)
      .pExpire(key, STATE_TTL_MS)
      .exec()) as unknown as [string | null];
    return (before ?? undefined) as DeviceStatus | undefined;
  }

  async mergeComponents(deviceUuid: string, components: Record<string, ComponentState>): Promise<void> {
    const fields: Record<string, string> = {};
    for (const [id, c] of Object.entries(components)) fields[`c:${id}`] = JSON.stringify(c);
    if (Object.keys(fields).length === 0) return;
    const key = this.#key(deviceUuid);
    // A state message may overtake the ONLINE that came with the connection: the hash is created
    // ONLINE then, never without a status.
    await this.redis.multi().hSetNX(key, 'status', 'ONLINE').hSet(key, fields).pExpire(key, STATE_TTL_MS).exec();
  }

  async mergeSynced(deviceUuid: string, updates: Record<string, SyncedComponent>): Promise<string[]> {
    if (Object.keys(updates).length === 0) return [];
    return (await this.redis.eval(MERGE_SYNCED_SCRIPT, {
      keys: [this.#key(deviceUuid)],
      arguments: [String(STATE_TTL_MS), JSON.stringify(updates)],
    })) as string[];
  }

  async touch(deviceUuid: string, nowMs: number): Promise<boolean> {
    return (await this.redis.zAdd(`${this.prefix}rt:seen`, { score: nowMs, value: deviceUuid })) === 1;
  }

  async forget(deviceUuid: string): Promise<void> {
    await this.redis.zRem(`${this.prefix}rt:seen`, deviceUuid);
  }

  async sweep(nowMs: number): Promise<string[]> {
    const out: string[] = [];
    for (;;) {
      const batch = (await this.redis.eval(SWEEP_SCRIPT, {
        keys: [`${this.prefix}rt:sweep-lease`, `${this.prefix}rt:seen`],
        arguments: [this.#holder, String(this.leaseMs), String(nowMs - this.limitMs), String(SWEEP_BATCH)],
      })) as string[] | null;
      if (!batch) return out; // another instance holds the lease
      out.push(...batch);
      if (batch.length < SWEEP_BATCH) return out;
    }
  }

  close(): Promise<void> {
    return Promise.resolve(); // the connection belongs to central's Redis handle
  }
}
