import t from 'tap';
import type { CentralDb } from '../../../backend/db/connect.js';
import type { DeviceCommandsTable } from '../../../backend/db/types.js';
import {
  claimCommand,
  expireCommand,
  heldCommands,
  recordCommandResult,
  requeueCommand,
} from '../../../backend/store/command-delivery.js';
import { dbTargets } from '../../helpers/databases.js';
import { addDevice, migratedDb } from '../../helpers/store-db.js';

const NOW = 1_800_000_000_000;

async function addCommand(
  db: CentralDb,
  deviceId: number,
  c: { id: string; status?: DeviceCommandsTable['status']; createdAt?: number; action?: string; payload?: string },
): Promise<void> {
  await db.kysely
    .insertInto('device_commands')
    .values({
      id: c.id,
      device_id: deviceId,
      component_id: c.action === 'reset' ? null : '3',
      component_type: 'relay',
      action: c.action ?? 'toggle',
      payload: c.payload ?? `{"command_id":"${c.id}"}`,
      status: c.status ?? 'queued',
      result: null,
      created_at: c.createdAt ?? NOW,
      expires_at: (c.createdAt ?? NOW) + 600_000,
      updated_at: c.createdAt ?? NOW,
    })
    .execute();
}

const row = (db: CentralDb, id: string) =>
  db.kysely
    .selectFrom('device_commands')
    .select(['status', 'payload', 'result', 'updated_at'])
    .where('id', '=', id)
    .executeTakeFirstOrThrow()
    .then((r) => ({ ...r, updated_at: Number(r.updated_at) }));

for (const target of await dbTargets())
  t.test(`store/command-delivery on ${target.name}`, { skip: target.skip }, async (t) => {
    t.teardown(() => target.cleanup());
    const db = await migratedDb(t, target);

    t.test('heldCommands: the device’s queued commands, oldest first, all or the ones asked for', async (t) => {
      const hub = await addDevice(db);
      const other = await addDevice(db);
      await addCommand(db, hub.id, { id: 'h-second', createdAt: NOW + 2 });
      await addCommand(db, hub.id, { id: 'h-first', createdAt: NOW - 700_000, action: 'reset' });
      await addCommand(db, hub.id, { id: 'h-third', createdAt: NOW + 3 });
      await addCommand(db, hub.id, { id: 'h-sent', status: 'delivered' });
      await addCommand(db, hub.id, { id: 'h-done', status: 'done' });
      await addCommand(db, other.id, { id: 'o-queued' });

      const all = await heldCommands(db, hub.uuid);
      t.same(
        all.map((c) => c.id),
        ['h-first', 'h-second', 'h-third'],
        'queued ones only, oldest first; an expired one too (the caller expires it)',
      );
      t.same(all[0], {
        id: 'h-first',
        component_id: null,
        action: 'reset',
        payload: '{"command_id":"h-first"}',
        expires_at: NOW - 100_000,
      });
      t.same(
        (await heldCommands(db, hub.uuid, ['h-third', 'h-sent', 'o-queued'])).map((c) => c.id),
        ['h-third'],
        'of the ids asked for, the device’s queued ones',
      );
      t.same(await heldCommands(db, hub.uuid, []), [], 'none asked for');
    });

    t.test('expireCommand: a queued command expires; one under way is left alone', async (t) => {
      const hub = await addDevice(db);
      await addCommand(db, hub.id, { id: 'x-queued' });
      await addCommand(db, hub.id, { id: 'x-sent', status: 'delivered' });
      await expireCommand(db, 'x-queued', NOW + 9);
      await expireCommand(db, 'x-sent', NOW + 9);
      t.match(await row(db, 'x-queued'), { status: 'expired', updated_at: NOW + 9 });
      t.match(await row(db, 'x-sent'), { status: 'delivered', updated_at: NOW });
    });

    t.test('claimCommand: once across instances; a secret payload is forgotten as it goes', async (t) => {
      const hub = await addDevice(db);
      await addCommand(db, hub.id, { id: 'c-relay' });
      await addCommand(db, hub.id, { id: 'c-wifi', action: 'change_wifi', payload: '{"password":"hunter2"}' });

      const both = await Promise.all([
        claimCommand(db, 'c-relay', NOW + 1, { forgetPayload: false }),
        claimCommand(db, 'c-relay', NOW + 1, { forgetPayload: false }),
      ]);
      t.same(both.sort(), [false, true], 'a relay toggled once');
      t.same(await row(db, 'c-relay'), {
        status: 'delivered',
        payload: '{"command_id":"c-relay"}',
        result: null,
        updated_at: NOW + 1,
      });

      t.equal(await claimCommand(db, 'c-wifi', NOW + 2, { forgetPayload: true }), true);
      t.match(await row(db, 'c-wifi'), { status: 'delivered', payload: '{}' }, 'the Wi-Fi password is not kept');
      t.equal(await claimCommand(db, 'c-nope', NOW, { forgetPayload: false }), false, 'no such command');
    });

    t.test('requeueCommand: a failed publish puts it back, payload and all', async (t) => {
      const hub = await addDevice(db);
      await addCommand(db, hub.id, { id: 'r-wifi', action: 'change_wifi', payload: '{"password":"hunter2"}' });
      await addCommand(db, hub.id, { id: 'r-done', status: 'done' });
      t.ok(await claimCommand(db, 'r-wifi', NOW + 1, { forgetPayload: true }));
      await requeueCommand(db, 'r-wifi', '{"password":"hunter2"}');
      t.match(await row(db, 'r-wifi'), { status: 'queued', payload: '{"password":"hunter2"}' });
      t.same(
        (await heldCommands(db, hub.uuid)).map((c) => c.id),
        ['r-wifi'],
        'held for the next connection',
      );
      await requeueCommand(db, 'r-done', '{}');
      t.match(await row(db, 'r-done'), { status: 'done', payload: '{"command_id":"r-done"}' }, 'an answered one stays');
    });

    t.test('recordCommandResult: only the device the command was for can answer it', async (t) => {
      const hub = await addDevice(db);
      const intruder = await addDevice(db);
      await addCommand(db, hub.id, { id: 'a-cmd', status: 'delivered' });
      await recordCommandResult(db, intruder.id, 'a-cmd', { status: 'done', result: '"forged"', now: NOW + 5 });
      t.match(await row(db, 'a-cmd'), { status: 'delivered', result: null });
      await recordCommandResult(db, hub.id, 'a-cmd', { status: 'failed', result: '"relay stuck"', now: NOW + 6 });
      t.same(await row(db, 'a-cmd'), {
        status: 'failed',
        payload: '{"command_id":"a-cmd"}',
        result: '"relay stuck"',
        updated_at: NOW + 6,
      });
    });
  });
