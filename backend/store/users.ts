import type { CentralDb } from '../db/connect.js';
import { preparedQuery } from '../db/prepared.js';
import { GLOBAL_ROLES, type GlobalRole } from '../db/seed-data.js';
import type { AuthUser } from '../http/request-types.js';

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

export async function setGlobalRoles(db: CentralDb, userId: number, roles: readonly GlobalRole[]): Promise<void> {
  await db.kysely.transaction().execute(async (trx) => {
    await trx.deleteFrom('user_roles').where('user_id', '=', userId).execute();
    if (roles.length === 0) return;
    const ids = await trx.selectFrom('roles').select('id').where('name', 'in', roles).execute();
    await trx
      .insertInto('user_roles')
      .values(ids.map((r) => ({ user_id: userId, role_id: r.id })))
      .execute();
  });
}

export function isAdmin(user: AuthUser): boolean {
  return user.roles.has('prime_admin') || user.roles.has('general_admin');
}
