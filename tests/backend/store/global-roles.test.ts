import t from 'tap';
import { changeGlobalRoles, countPrimeAdmins, grantPrimeAdmin } from '../../../backend/store/global-roles.js';
import { loadAuthUser } from '../../../backend/store/users.js';
import { dbTargets } from '../../helpers/databases.js';
import { addUser, auditEntries, migratedDb } from '../../helpers/store-db.js';

for (const target of await dbTargets()) {
  t.test(`store/global-roles on ${target.name}`, { skip: target.skip }, async (t) => {
    t.teardown(() => target.cleanup());
    const db = await migratedDb(t, target);
    const rolesOf = async (id: number) => [...(await loadAuthUser(db, id, 0))!.roles].sort();

    t.test('changeGlobalRoles: exactly the roles given, audited with who did it', async (t) => {
      const admin = await addUser(db);
      const { id } = await addUser(db);
      await changeGlobalRoles(db, id, ['developer', 'general_admin'], { userId: admin.id, ip: '10.1.1.1', now: 7 });
      t.same(await rolesOf(id), ['developer', 'general_admin']);
      await changeGlobalRoles(db, id, [], { userId: admin.id, ip: '10.1.1.1', now: 8 });
      t.same(await rolesOf(id), [], 'an empty list removes them all');
      t.match(await auditEntries(db, 'user.roles'), [
        {
          actor_user_id: admin.id,
          target: `user:${id}`,
          ip: '10.1.1.1',
          details: { roles: ['developer', 'general_admin'] },
        },
        { ts: 8, details: { roles: [] } },
      ]);
    });

    t.test('grantPrimeAdmin keeps the other roles; countPrimeAdmins counts holders', async (t) => {
      const before = await countPrimeAdmins(db);
      const { id } = await addUser(db);
      await changeGlobalRoles(db, id, ['developer'], { userId: id, ip: '::1', now: 1 });
      t.same((await grantPrimeAdmin(db, id, 9, false)).sort(), ['developer', 'prime_admin']);
      t.same(await rolesOf(id), ['developer', 'prime_admin']);
      t.equal(await countPrimeAdmins(db), before + 1);
      t.same((await grantPrimeAdmin(db, id, 10, false)).sort(), ['developer', 'prime_admin'], 'again: nothing new');
      t.equal(await countPrimeAdmins(db), before + 1, 'one holder counted once');
      const fresh = await addUser(db);
      await grantPrimeAdmin(db, fresh.id, 11, true);
      t.equal(await countPrimeAdmins(db), before + 2);
      t.match(await auditEntries(db, 'user.create_admin'), [
        { target: `user:${id}`, actor_user_id: null, details: { created: false } },
        { target: `user:${id}` },
        { target: `user:${fresh.id}`, details: { created: true } },
      ]);
    });
  });
}
