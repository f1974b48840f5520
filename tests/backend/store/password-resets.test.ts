import t from 'tap';
import {
  completePasswordReset,
  findLivePasswordReset,
  spendPasswordResetTry,
  storePasswordReset,
} from '../../../backend/store/password-resets.js';
import { findUserByEmail } from '../../../backend/store/users.js';
import { dbTargets } from '../../helpers/databases.js';
import { addUser, auditEntries, migratedDb } from '../../helpers/store-db.js';

for (const target of await dbTargets()) {
  t.test(`store/password-resets on ${target.name}`, { skip: target.skip }, async (t) => {
    t.teardown(() => target.cleanup());
    const db = await migratedDb(t, target);

    t.test('a stored code is live until it expires; another account has none', async (t) => {
      const { id, email } = await addUser(db);
      await storePasswordReset(db, { userId: id, codeHash: 'c1', expiresAt: 10_000, attemptsLeft: 5 });
      t.same(await findLivePasswordReset(db, email, 9_999), { userId: id, codeHash: 'c1' });
      t.equal(await findLivePasswordReset(db, email, 10_000), undefined, 'expired at expires_at');
      t.equal(await findLivePasswordReset(db, (await addUser(db)).email, 0), undefined);
    });

    t.test('tries are spent one by one; none left is no live code; a new code starts over', async (t) => {
      const { id, email } = await addUser(db);
      await storePasswordReset(db, { userId: id, codeHash: 'c1', expiresAt: 10_000, attemptsLeft: 2 });
      t.equal(await spendPasswordResetTry(db, id), true);
      t.equal(await spendPasswordResetTry(db, id), true);
      t.equal(await spendPasswordResetTry(db, id), false, 'no try left');
      t.equal(await findLivePasswordReset(db, email, 0), undefined);
      t.equal(await spendPasswordResetTry(db, (await addUser(db)).id), false, 'no code at all');
      await storePasswordReset(db, { userId: id, codeHash: 'c2', expiresAt: 20_000, attemptsLeft: 5 });
      t.same(await findLivePasswordReset(db, email, 15_000), { userId: id, codeHash: 'c2' }, 'replaced');
    });

    t.test('completePasswordReset: new password, older tokens revoked, code used up, audited', async (t) => {
      const { id, email } = await addUser(db);
      await storePasswordReset(db, { userId: id, codeHash: 'c1', expiresAt: 10_000, attemptsLeft: 5 });
      await completePasswordReset(db, id, 'new-hash', 3_000, '10.2.2.2');
      t.match(await findUserByEmail(db, email), { password_hash: 'new-hash', token_version: 1 });
      t.equal(await findLivePasswordReset(db, email, 0), undefined);
      t.match(await auditEntries(db, 'user.password_reset'), [
        { actor_user_id: id, target: `user:${id}`, ts: 3_000, ip: '10.2.2.2' },
      ]);
    });
  });
}
