import type { AresConfig } from '../core/config.js';
import { AresError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { PASSWORD_MAX, PASSWORD_MIN, hashSecret } from './auth/passwords.js';
import { openDatabase, type CentralDb } from './db/connect.js';
import { migrateToLatest } from './db/migrate.js';
import { grantPrimeAdmin } from './store/global-roles.js';
import { createUser, findUserByEmail, normalizeEmail } from './store/users.js';

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
    const existing = await findUserByEmail(db, addr);
    let id: number;
    if (existing) {
      id = existing.id;
      log.warn({ email: addr }, 'account exists: promoting to prime_admin, password unchanged');
    } else {
      if (password.length < PASSWORD_MIN || password.length > PASSWORD_MAX) {
        throw new AresError('ARES_ERR_USAGE', `password: must be ${PASSWORD_MIN}–${PASSWORD_MAX} characters`);
      }
      id = await createUser(db, {
        username: addr.split('@')[0]!.slice(0, 64),
        email: addr,
        passwordHash: await hashSecret(password),
        now,
      });
    }
    const roles = await grantPrimeAdmin(db, id, now, !existing);
    return { id, email: addr, created: !existing, roles };
  } finally {
    if (!existingDb) await db.close();
  }
}
