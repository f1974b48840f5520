import type { Kysely } from 'kysely';
import type { CentralDb } from '../db/connect.js';
import type { GlobalRole } from '../db/seed-data.js';
import type { Database } from '../db/types.js';
import { audit } from './audit.js';

// Global roles (`user_roles`): prime_admin, general_admin, developer. Per-device roles are memberships.ts.

/** The account's global roles become exactly `roles` (inside the caller's transaction). */
async function replaceRoles(db: Kysely<Database>, userId: number, roles: readonly GlobalRole[]): Promise<void> {
  await db.deleteFrom('user_roles').where('user_id', '=', userId).execute();
  if (roles.length === 0) return;
  const ids = await db.selectFrom('roles').select('id').where('name', 'in', roles).execute();
  await db
    .insertInto('user_roles')
    .values(ids.map((r) => ({ user_id: userId, role_id: r.id })))
    .execute();
}

/** `PUT /api/users/{id}/roles`: the roles replaced and the change audited, in one transaction. */
export async function changeGlobalRoles(
  db: CentralDb,
  userId: number,
  roles: readonly GlobalRole[],
  by: { userId: number; ip: string; now: number },
): Promise<void> {
  await db.kysely.transaction().execute(async (trx) => {
    await replaceRoles(trx, userId, roles);
    await audit(trx, {
      ts: by.now,
      actor: by.userId,
      action: 'user.roles',
      target: `user:${userId}`,
      details: { roles },
      ip: by.ip,
    });
  });
}

/**
 * `ares central create-admin`: adds prime_admin to the account's roles, keeping the others, and
 * audits it (`created`: whether the account was made for this). Returns the roles it now has.
 */
export async function grantPrimeAdmin(
  db: CentralDb,
  userId: number,
  now: number,
  created: boolean,
): Promise<GlobalRole[]> {
  return db.kysely.transaction().execute(async (trx) => {
    const current = await trx
      .selectFrom('user_roles')
      .innerJoin('roles', 'roles.id', 'user_roles.role_id')
      .select('roles.name')
      .where('user_roles.user_id', '=', userId)
      .execute();
    const roles = [...new Set([...current.map((r) => r.name), 'prime_admin'])] as GlobalRole[];
    await replaceRoles(trx, userId, roles);
    await audit(trx, {
      ts: now,
      actor: null,
      action: 'user.create_admin',
      target: `user:${userId}`,
      details: { created },
    });
    return roles;
  });
}

/** How many accounts hold prime_admin: the last one may not give it up or delete itself. */
export async function countPrimeAdmins(db: CentralDb): Promise<number> {
  const row = await db.kysely
    .selectFrom('user_roles')
    .innerJoin('roles', 'roles.id', 'user_roles.role_id')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('roles.name', '=', 'prime_admin')
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
