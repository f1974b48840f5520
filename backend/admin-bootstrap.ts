import type { AresConfig } from '../core/config.js';
import { AresError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { PASSWORD_MAX, PASSWORD_MIN, hashSecret } from './auth/passwords.js';
import { openDatabase, type CentralDb } from './db/connect.js';
import { migrateToLatest } from './db/migrate.js';
import { audit } from './store/audit.js';
import { normalizeEmail, setGlobalRoles } from './store/users.js';

export interface CreateAdminResult {
  id: number;
  email: string;
  created: boolean;
  roles: string[];
}

/**
 * `ares central create-admin`: the only way the first prime_admin comes to exist (no default
 * accounts). On an existing account it adds prime_admin and leaves the password alone.
 */
export async function createAdmin(
  config: AresConfig,
  log: Logger,
  email: string,
  password: string,
  existingDb?: CentralDb,
): Promise<CreateAdminResult> {
  const addr = normalizeEmail(email);
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(addr) || addr.length > 254)
    throw new AresError('ARES_ERR_USAGE', `--email: not an email address: ${JSON.stringify(email)}`);
  const db = existingDb ?? (await openDatabase(config.central.database, { log }));
  try {
    await migrateToLatest(db);
    const now = Date.now();
    const existing = await db.kysely.selectFrom('users').select(['id']).where('email', '=', addr).executeTakeFirst();
    let id: number;
    if (existing) {
      id = existing.id;
      log.warn({ email: addr }, 'account exists: promoting to prime_admin, password unchanged');
    } else {
      if (password.length < PASSWORD_MIN || password.length > PASSWORD_MAX) {
        throw new AresError('ARES_ERR_USAGE', `password: must be ${PASSWORD_MIN}–${PASSWORD_MAX} characters`);
      }
      const row = await db.kysely
        .insertInto('users')
        .values({
          username: addr.split('@')[0]!.slice(0, 64),
          email: addr,
          password_hash: await hashSecret(password),
          created_at: now,
          last_login_at: null,
          is_active: 1,
          token_version: 0,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      id = row.id;
    }
    const current = await db.kysely
      .selectFrom('user_roles')
      .innerJoin('roles', 'roles.id', 'user_roles.role_id')
      .select('roles.name')
      .where('user_roles.user_id', '=', id)
      .execute();
    const roles = [...new Set([...current.map((r) => r.name), 'prime_admin'])] as (
      'prime_admin' | 'general_admin' | 'developer'
    )[];
    await setGlobalRoles(db, id, roles);
    await audit(db.kysely, {
      ts: now,
      actor: null,
      action: 'user.create_admin',
      target: `user:${id}`,
      details: { created: !existing },
    });
    return { id, email: addr, created: !existing, roles };
  } finally {
    if (!existingDb) await db.close();
  }
}
