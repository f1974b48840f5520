import t from 'tap';
import { COMMAND_TTL_MS, findCommand, queueCommand } from '../../../backend/store/commands.js';
import { dbTargets } from '../../helpers/databases.js';
import { addDevice, migratedDb } from '../../helpers/store-db.js';

const T0 = Date.UTC(2026, 0, 1);
const led = { component_id: '3', component_type: 'led', action: 'set', payload: { value: 'ON' } };

for (const target of await dbTargets()) {
  t.test(`store/commands on ${target.name}`, { skip: target.skip }, async (t) => {
    const db = await migratedDb(t, target);

    t.test('queue: stored with the payload the hub gets, and named for the event', async (t) => {
      const hub = await addDevice(db);
      const queued = await queueCommand(db, hub.id, led, T0);
      t.strictSame(queued, { deviceId: hub.id, deviceUuid: hub.uuid, commandId: queued.commandId });
      const row = await db.kysely
        .selectFrom('device_commands')
        .selectAll()
        .where('id', '=', queued.commandId)
        .executeTakeFirstOrThrow();
      t.match(row, {
        device_id: hub.id,
        component_id: '3',
        component_type: 'led',
        action: 'set',
        status: 'queued',
        result: null,
        created_at: T0,
        updated_at: T0,
        expires_at: T0 + COMMAND_TTL_MS,
      });
      t.strictSame(JSON.parse(row.payload), {
        command_id: queued.commandId,
        component_type: 'led',
        value: 'ON',
        expires_at: new Date(T0 + COMMAND_TTL_MS).toISOString(),
      });
      const custom = await queueCommand(db, hub.id, { ...led, ttlMs: 5000 }, T0);
      t.match(await findCommand(db, hub.id, custom.commandId), { expires_at: T0 + 5000 }, 'a TTL of its own');
    });

    t.test('queue: only to a provisioned hub', async (t) => {
      for (const status of ['registered', 'claimed'] as const) {
        const hub = await addDevice(db, { status });
        await t.rejects(queueCommand(db, hub.id, led, T0), { code: 'ARES_ERR_UNPROCESSABLE' }, status);
        t.equal(
          await db.kysely.selectFrom('device_commands').select('id').where('device_id', '=', hub.id).executeTakeFirst(),
          undefined,
        );
      }
    });

    t.test('find: this hub’s command, result parsed when there is one', async (t) => {
      const hub = await addDevice(db);
      const other = await addDevice(db);
      const { commandId } = await queueCommand(db, hub.id, led, T0);
      t.strictSame(await findCommand(db, hub.id, commandId), {
        id: commandId,
        status: 'queued',
        expires_at: T0 + COMMAND_TTL_MS,
        created_at: T0,
        updated_at: T0,
      });
      t.equal(await findCommand(db, other.id, commandId), undefined, 'not through another hub');
      await db.kysely
        .updateTable('device_commands')
        .set({ status: 'done', result: '{"ok":true,"state":"ON"}', updated_at: T0 + 1 })
        .where('id', '=', commandId)
        .execute();
      t.match(await findCommand(db, hub.id, commandId), { status: 'done', result: { ok: true, state: 'ON' } });
    });
  });
}
