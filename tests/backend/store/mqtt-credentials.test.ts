import t from 'tap';
import {
  MQTT_USERNAME_PREFIX,
  checkMqttCredentials,
  issueMqttCredentials,
  liveAppLogins,
  liveAppLoginsOf,
} from '../../../backend/store/mqtt-credentials.js';
import { dbTargets } from '../../helpers/databases.js';
import { addUser, migratedDb } from '../../helpers/store-db.js';

for (const target of await dbTargets()) {
  t.test(`store/mqtt-credentials on ${target.name}`, { skip: target.skip }, async (t) => {
    t.teardown(() => target.cleanup());
    const db = await migratedDb(t, target);

    t.test('an issued login checks out until it expires, with the right password only', async (t) => {
      const user = await addUser(db);
      const login = await issueMqttCredentials(db, user.id, 1_000, 60);
      t.ok(login.username.startsWith(MQTT_USERNAME_PREFIX));
      t.equal(login.expiresAt, 61_000);
      const check = (password: string, now: number) => checkMqttCredentials(db.kysely, login.username, password, now);
      t.same(await check(login.password, 60_999), { userId: user.id, email: user.email });
      t.equal(await check(login.password, 61_000), undefined, 'expired');
      t.equal(await check(`${login.password}x`, 2_000), undefined, 'wrong password');
      await db.kysely.updateTable('users').set({ is_active: 0 }).where('id', '=', user.id).execute();
      t.equal(await check(login.password, 2_000), undefined, 'account deactivated');
    });

    t.test('live logins: expired ones left out, and cleared as new ones are issued', async (t) => {
      const a = await addUser(db);
      const b = await addUser(db);
      const old = await issueMqttCredentials(db, a.id, 100_000, 10);
      const mine = await issueMqttCredentials(db, a.id, 105_000, 60);
      const theirs = await issueMqttCredentials(db, b.id, 105_000, 60);
      t.same((await liveAppLoginsOf(db, a.id, 108_000)).sort(), [old.username, mine.username].sort());
      t.same(await liveAppLoginsOf(db, a.id, 110_000), [mine.username], 'the old one expired');
      t.same((await liveAppLogins(db, 111_000)).sort(), [mine.username, theirs.username].sort());
      t.notOk((await liveAppLogins(db, 111_000)).includes(old.username));
      await issueMqttCredentials(db, b.id, 111_000, 60);
      const rows = await db.kysely.selectFrom('mqtt_credentials').select('username').execute();
      t.notOk(
        rows.some((r) => r.username === old.username),
        'issuing a login deleted the expired one',
      );
    });
  });
}
