import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { CentralDb } from '../db/connect.js';
import type { Database } from '../db/types.js';

/** App usernames carry this prefix, so the broker can tell them from an email login at a glance. */
export const MQTT_USERNAME_PREFIX = 'app-';

// 192-bit random secrets: SHA-256 is enough (no guessing possible), and the broker checks them on
// every app connection.
const digest = (secret: string) => 'sha256:' + createHash('sha256').update(secret).digest('hex');

/** A new app login for the account, valid `ttlS`; the password is returned once and stored hashed. */
export async function issueMqttCredentials(
  db: CentralDb,
  userId: number,
  now: number,
  ttlS: number,
): Promise<{ username: string; password: string; expiresAt: number }> {
  const username = MQTT_USERNAME_PREFIX + randomBytes(12).toString('hex');
  const password = randomBytes(24).toString('base64url');
  const expiresAt = now + ttlS * 1000;
  // Expired rows are cleared as new ones are made: the table stays the size of the live logins.
  await db.kysely.deleteFrom('mqtt_credentials').where('expires_at', '<=', now).execute();
  await db.kysely
    .insertInto('mqtt_credentials')
    .values({ username, user_id: userId, secret_hash: digest(password), created_at: now, expires_at: expiresAt })
    .execute();
  return { username, password, expiresAt };
}

/** The account behind a live app login, or undefined (unknown, expired or wrong password: all alike). */
export async function checkMqttCredentials(
  db: Kysely<Database>,
  username: string,
  password: string,
  now: number,
): Promise<{ userId: number; email: string } | undefined> {
  const row = await db
    .selectFrom('mqtt_credentials')
    .innerJoin('users', 'users.id', 'mqtt_credentials.user_id')
    .select([
      'mqtt_credentials.secret_hash',
      'mqtt_credentials.expires_at',
      'users.id',
      'users.email',
      'users.is_active',
    ])
    .where('mqtt_credentials.username', '=', username)
    .executeTakeFirst();
  if (!row || row.expires_at <= now || row.is_active !== 1) return undefined;
  const given = Buffer.from(digest(password));
  const stored = Buffer.from(row.secret_hash);
  return given.length === stored.length && timingSafeEqual(given, stored)
    ? { userId: row.id, email: row.email }
    : undefined;
}

/** The usernames of every app login still valid at `now`. */
export async function liveAppLogins(db: CentralDb, now: number): Promise<string[]> {
  const rows = await db.kysely
    .selectFrom('mqtt_credentials')
    .select('username')
    .where('expires_at', '>', now)
    .execute();
  return rows.map((r) => r.username);
}

/** The usernames of the account's app logins still valid at `now`. */
export async function liveAppLoginsOf(db: CentralDb, userId: number, now: number): Promise<string[]> {
  const rows = await db.kysely
    .selectFrom('mqtt_credentials')
    .select('username')
    .where('user_id', '=', userId)
    .where('expires_at', '>', now)
    .execute();
  return rows.map((r) => r.username);
}
