import t from 'tap';
import { changeGlobalRoles } from '../../../backend/store/global-roles.js';
import {
  deleteAccount,
  findUserByEmail,
  isAdmin,
  loadAuthUser,
  normalizeEmail,
  recordLogin,
  registerUser,
  userExists,
} from '../../../backend/store/users.js';
import { dbTargets } from '../../helpers/databases.js';
import { addDevice, addMember, addUser, auditEntries, migratedDb } from '../../helpers/store-db.js';

t.test('normalizeEmail: trimmed and lower-cased', async (t) => {
  t.equal(normalizeEmail('  Alice@Example.ORG '), 'alice@example.org');
});

for (const target of await dbTargets()) {
  t.test(`store/users on ${target.name}`, { skip: target.skip }, async (t) => {
    t.teardown(() => target.cleanup());
    const db = await migratedDb(t, target);

    t.test('registerUser: the account and its audit entry; a taken email is a conflict', async (t) => {
      const user = { username: 'ann', email: 'ann@ares.test', passwordHash: 'h1', now: 1000 };
      const row = await registerUser(db, user, '10.0.0.1');
      t.match(row, { id: Number, username: 'ann', email: 'ann@ares.test' });
      t.match(await auditEntries(db, 'user.register'), [
        { actor_user_id: row.id, target: `user:${row.id}`, ip: '10.0.0.1', ts: 1000 },
      ]);
      await t.rejects(registerUser(db, { ...user, username: 'ann2', passwordHash: 'h2' }, '10.0.0.2'), {
        code: 'ARES_ERR_CONFLICT',
        message: 'an account with this email already exists',
      });
      t.equal((await auditEntries(db, 'user.register')).length, 1, 'the refused registration left no audit entry');
      t.equal((await findUserByEmail(db, 'ann@ares.test'))?.password_hash, 'h1', 'the first account is untouched');
    });

    t.test('findUserByEmail, userExists, recordLogin', async (t) => {
      const { id, email } = await addUser(db);
      t.same(await findUserByEmail(db, email), { id, password_hash: 'not-a-hash', is_active: 1, token_version: 0 });
      t.equal(await findUserByEmail(db, `nobody-${email}`), undefined);
      t.equal(await userExists(db, id), true);
      t.equal(await userExists(db, id + 1000), false);
      await recordLogin(db, id, 4242);
      const row = await db.kysely.selectFrom('users').select('last_login_at').where('id', '=', id).executeTakeFirst();
      t.equal(Number(row?.last_login_at), 4242);
    });

    t.test('loadAuthUser: with global roles; refused when logged out or inactive', async (t) => {
      const { id, email } = await addUser(db);
      await changeGlobalRoles(db, id, ['general_admin'], { userId: id, ip: '::1', now: 1 });
      const user = await loadAuthUser(db, id, 0);
      t.match(user, { id, email });
      t.same([...user!.roles], ['general_admin']);
      t.equal(isAdmin(user!), true);
      t.equal(await loadAuthUser(db, id, 1), undefined, 'another token version');
      await db.kysely.updateTable('users').set({ is_active: 0 }).where('id', '=', id).execute();
      t.equal(await loadAuthUser(db, id, 0), undefined, 'inactive');
      t.equal(await loadAuthUser(db, id + 1000, 0), undefined, 'gone');
    });

    t.test('deleteAccount: de-provisions the hubs owned alone, keeps shared ones, audits', async (t) => {
      const leaving = await addUser(db);
      const coOwner = await addUser(db);
      const viewer = await addUser(db);
      const alone = await addDevice(db);
      const shared = await addDevice(db);
      await addMember(db, leaving.id, alone.id, 'owner');
      await addMember(db, viewer.id, alone.id, 'viewer');
      await addMember(db, leaving.id, shared.id, 'owner');
      await addMember(db, coOwner.id, shared.id, 'owner');

      const revoked = await deleteAccount(db, leaving.id, 5000, '10.0.0.9');
      t.equal(revoked.length, 1);
      t.equal(revoked[0]!.deviceId, alone.id);
      t.equal(revoked[0]!.deviceUuid, alone.uuid);
      t.same(revoked[0]!.memberIds.sort(), [leaving.id, viewer.id].sort(), 'everyone who could see it');
      t.equal(await userExists(db, leaving.id), false);
      const status = (id: number) =>
        db.kysely.selectFrom('devices').select(['status', 'shared_secret']).where('id', '=', id).executeTakeFirst();
      t.same(await status(alone.id), { status: 'registered', shared_secret: null }, 'the sole-owned hub is reset');
      t.same(await status(shared.id), { status: 'provisioned', shared_secret: shared.sharedSecret });
      const left = await db.kysely
        .selectFrom('user_devices')
        .select('user_id')
        .where('device_id', '=', shared.id)
        .execute();
      t.same(left, [{ user_id: coOwner.id }], 'the co-owner keeps the shared hub');
      t.match(await auditEntries(db, 'user.delete'), [
        { actor_user_id: null, target: `user:${leaving.id}`, details: { deprovisioned: [alone.id] } },
      ]);
    });
  });
}
