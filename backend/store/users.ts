import type { Kysely } from 'kysely';
import { conflict } from '../../core/errors.js';
import type { CentralDb } from '../db/connect.js';
import { isUniqueViolation } from '../db/errors.js';
import { preparedQuery } from '../db/prepared.js';
import { GLOBAL_ROLES, type GlobalRole } from '../db/seed-data.js';
import type { Database } from '../db/types.js';
import type { AuthUser } from '../http/request-types.js';
import { audit } from './audit.js';
import { deprovisionDevice, devicesOwnedAlone } from './devices.js';

/** Emails are compared case-insensitively: stored and looked up lower-cased and trimmed. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** The user behind an access token, with global roles; undefined if gone, inactive or logged out. */
const userWithRoles = preparedQuery((db, userId: number) =>
  db
    .selectFrom('users')
    .leftJoin('user_roles', 'user_roles.user_id', 'users.id')
    .leftJoin('roles', 'roles.id', 'user_roles.role_id')
    .select([
      'users.id',
      'users.email',
      'users.username',
      'users.is_active',
      'users.token_version',
      'roles.name as role',
    ])
    .where('users.id', '=', userId),
);

export async function loadAuthUser(db: CentralDb, userId: number, tokenVersion: number): Promise<AuthUser | undefined> {
  const rows = await userWithRoles(db, userId);
  const first = rows[0];
  if (!first || first.is_active !== 1 || tokenVersion !== first.token_version) return undefined;
  const roles = new Set<GlobalRole>();
  for (const r of rows)
    if (r.role && (GLOBAL_ROLES as readonly string[]).includes(r.role)) roles.add(r.role as GlobalRole);
  return { id: first.id, email: first.email, username: first.username, roles };
}

export function isAdmin(user: AuthUser): boolean {
  return user.roles.has('prime_admin') || user.roles.has('general_admin');
}

/** An account to create; `email` already normalized, the password already hashed. */
export interface NewUser {
  username: string;
  email: string;
  passwordHash: string;
  now: number;
}

function insertUser(db: Kysely<Database>, user: NewUser) {
  return db.insertInto('users').values({
    username: user.username,
    email: user.email,
    password_hash: user.passwordHash,
    created_at: user.now,
    last_login_at: null,
    is_active: 1,
    token_version: 0,
  });
}

/**
 * `POST /auth/register`: the account and its audit entry, in one transaction. An email taken
 * already (checked by the unique index, so two concurrent registrations cannot both win) is a conflict.
 */
export async function registerUser(
  db: CentralDb,
  user: NewUser,
  ip: string,
): Promise<{ id: number; username: string; email: string }> {
  try {
    return await db.kysely.transaction().execute(async (trx) => {
      const row = await insertUser(trx, user).returning(['id', 'username', 'email']).executeTakeFirstOrThrow();
      await audit(trx, { ts: user.now, actor: row.id, action: 'user.register', target: `user:${row.id}`, ip });
      return row;
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict('an account with this email already exists');
    throw err;
  }
}

/** Creates an account without an audit entry of its own (the caller audits what it made of it); returns its id. */
export async function createUser(db: CentralDb, user: NewUser): Promise<number> {
  const row = await insertUser(db.kysely, user).returning('id').executeTakeFirstOrThrow();
  return row.id;
}

/** What a login is checked against, for the account with this (normalized) email. */
export function findUserByEmail(
  db: CentralDb,
  email: string,
): Promise<{ id: number; password_hash: string; is_active: number; token_version: number } | undefined> {
  return db.kysely
    .selectFrom('users')
    .select(['id', 'password_hash', 'is_active', 'token_version'])
    .where('email', '=', email)
    .executeTakeFirst();
}

export async function userExists(db: CentralDb, userId: number): Promise<boolean> {
  const row = await db.kysely.selectFrom('users').select('id').where('id', '=', userId).executeTakeFirst();
  return row !== undefined;
}

export async function recordLogin(db: CentralDb, userId: number, now: number): Promise<void> {
  await db.kysely.updateTable('users').set({ last_login_at: now }).where('id', '=', userId).execute();
}

/** A de-provisioned hub: what `device.revoked` and `membership.changed` are emitted with. */
export type DeprovisionedDevice = Awaited<ReturnType<typeof deprovisionDevice>>;

/**
 * `DELETE /api/users/me`: de-provisions the hubs the account owns alone, deletes the account and
 * audits it, in one transaction. The caller emits `device.revoked` for each hub returned and
 * `membership.changed` for their former members once it has committed.
 */
export function deleteAccount(db: CentralDb, userId: number, now: number, ip: string): Promise<DeprovisionedDevice[]> {
  return db.kysely.transaction().execute(async (trx) => {
    const devices = await devicesOwnedAlone(trx, userId);
    const revoked: DeprovisionedDevice[] = [];
    for (const deviceId of devices) revoked.push(await deprovisionDevice(trx, deviceId, now, 'owner account deleted'));
    await trx.deleteFrom('users').where('id', '=', userId).execute();
    await audit(trx, {
      ts: now,
      actor: null,
      action: 'user.delete',
      target: `user:${userId}`,
      details: { deprovisioned: devices },
      ip,
    });
    return revoked;
  });
}
