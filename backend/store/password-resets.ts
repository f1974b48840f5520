import type { CentralDb } from '../db/connect.js';
import { audit } from './audit.js';

/** A mailed password reset code, stored hashed: one per account, a new one replaces the old. */
export interface PasswordReset {
  userId: number;
  codeHash: string;
  expiresAt: number;
  attemptsLeft: number;
}

/** Stores the account's new code; an earlier one is replaced, with its tries and expiry. */
export async function storePasswordReset(db: CentralDb, reset: PasswordReset): Promise<void> {
  const row = {
    user_id: reset.userId,
    code_hash: reset.codeHash,
    expires_at: reset.expiresAt,
    attempts_left: reset.attemptsLeft,
  };
  await db.kysely
    .insertInto('password_resets')
    .values(row)
    .onConflict((oc) =>
      oc
        .column('user_id')
        .doUpdateSet({ code_hash: row.code_hash, expires_at: row.expires_at, attempts_left: row.attempts_left }),
    )
    .execute();
}

/** The code in force for the account of `email`: none when none was asked for, it expired or its tries are spent. */
export async function findLivePasswordReset(
  db: CentralDb,
  email: string,
  now: number,
): Promise<{ userId: number; codeHash: string } | undefined> {
  const row = await db.kysely
    .selectFrom('password_resets')
    .innerJoin('users', 'users.id', 'password_resets.user_id')
    .select(['users.id as user_id', 'code_hash'])
    .where('users.email', '=', email)
    .where('expires_at', '>', now)
    .where('attempts_left', '>', 0)
    .executeTakeFirst();
  return row && { userId: row.user_id, codeHash: row.code_hash };
}

/**
 * Spends one try, before the code is checked, so concurrent guesses cannot share one attempt.
 * False when none was left (another guess took the last).
 */
export async function spendPasswordResetTry(db: CentralDb, userId: number): Promise<boolean> {
  const spent = await db.kysely
    .updateTable('password_resets')
    .set((eb) => ({ attempts_left: eb('attempts_left', '-', 1) }))
    .where('user_id', '=', userId)
    .where('attempts_left', '>', 0)
    .executeTakeFirst();
  return Number(spent.numUpdatedRows) === 1;
}

/**
 * The code was right: the new password is set, every access token issued before is revoked (token
 * version), the code is used up and the reset audited, in one transaction.
 */
export async function completePasswordReset(
  db: CentralDb,
  userId: number,
  passwordHash: string,
  now: number,
  ip: string,
): Promise<void> {
  await db.kysely.transaction().execute(async (trx) => {
    await trx
      .updateTable('users')
      .set((eb) => ({ password_hash: passwordHash, token_version: eb('token_version', '+', 1) }))
      .where('id', '=', userId)
      .execute();
    await trx.deleteFrom('password_resets').where('user_id', '=', userId).execute();
    await audit(trx, { ts: now, actor: userId, action: 'user.password_reset', target: `user:${userId}`, ip });
  });
}
