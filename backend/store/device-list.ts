import { CompiledQuery } from 'kysely';
import type { CentralDb } from '../db/connect.js';

/**
 * `GET /api/devices`: a user's hubs as the finished JSON body, built by the database (as PostgREST
 * does) rather than as rows turned into objects and serialized again. Every app start and refresh
 * asks for it; materializing eight columns per row as JS strings and objects and then serializing
 * them cost more than the query (bench/central-api: 34k vs 41k req/s for a 3-hub list).
 *
 * The body must equal what the route's response schema describes: keys and order as
 * `deviceItem` in routes/devices.ts, ordered by device id, `last_seen_at` as ISO 8601 UTC with
 * milliseconds (`Date.prototype.toISOString`), computed from the integer epoch milliseconds so no
 * floating point is involved. tests/backend/device-list.test.ts holds both dialects to it.
 */

// The object's fields in the published order; `last_seen_at` is written per dialect.
const FIELDS = `
    'device_id', d.id,
    'device_uuid', d.device_uuid,
    'role', ud.role,
    'nickname', ud.nickname,
    'status', d.status,
    'hardware_version', d.hardware_version,
    'hardware_variant', d.hardware_variant,
    'last_seen_at',`;
const FROM = `
from user_devices ud
join devices d on d.id = ud.device_id`;

const SQLITE = `
select coalesce(json_group_array(json_object(${FIELDS}
      strftime('%Y-%m-%dT%H:%M:%S', d.last_seen_at / 1000, 'unixepoch') || printf('.%03dZ', d.last_seen_at % 1000)
  ) order by ud.device_id), '[]') as body ${FROM}
where ud.user_id = ?`;

const POSTGRES = `
select coalesce(json_agg(json_build_object(${FIELDS}
      to_char(to_timestamp(d.last_seen_at / 1000) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')
      || '.' || lpad((d.last_seen_at % 1000)::text, 3, '0') || 'Z'
  ) order by ud.device_id), '[]'::json)::text as body ${FROM}
where ud.user_id = $1`;

/** Synchronous on SQLite (committed reads), a promise on PostgreSQL. */
export function deviceListJson(db: CentralDb, userId: number): string | Promise<string> {
  if (db.committedReads) return db.committedReads.value<string>(SQLITE, [userId]) ?? '[]';
  return viaKysely(db, userId);
}

async function viaKysely(db: CentralDb, userId: number): Promise<string> {
  const text = db.dialect === 'postgres' ? POSTGRES : SQLITE;
  const { rows } = await db.kysely.executeQuery<{ body: string }>(CompiledQuery.raw(text, [userId]));
  return rows[0]?.body ?? '[]';
}
