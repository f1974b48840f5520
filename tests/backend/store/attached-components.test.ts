import t from 'tap';
import {
  attachComponent,
  detachComponent,
  findAttachedComponents,
  listAttachedComponents,
} from '../../../backend/store/attached-components.js';
import { dbTargets } from '../../helpers/databases.js';
import { addDevice, addUser, auditEntries, migratedDb } from '../../helpers/store-db.js';

for (const target of await dbTargets()) {
  t.test(`store/attached-components on ${target.name}`, { skip: target.skip }, async (t) => {
    const db = await migratedDb(t, target);
    const owner = await addUser(db, 'owner');
    const by = { userId: owner.id, ip: '192.0.2.7' };

    t.test('attach: the rule’s mode and default filled in, config parsed, audited', async (t) => {
      const hub = await addDevice(db);
      const led = await attachComponent(
        db,
        hub.id,
        { component_type: 'led', name: 'Hall', pin_number: 17, config: { blink: true } },
        '{"blink":true}',
        1000,
        by,
      );
      t.strictSame(led, {
        id: led.id,
        component_type: 'led',
        name: 'Hall',
        pin_number: 17,
        pin_mode: 'OUT',
        default_state: 'OFF',
        config: { blink: true },
      });
      const radar = await attachComponent(
        db,
        hub.id,
        { component_type: 'radar', config: { node_id: 'r1' } },
        '{"node_id":"r1"}',
        1001,
        by,
      );
      t.strictSame(await listAttachedComponents(db, hub.id), [led, radar], 'in the order attached');
      t.match((await auditEntries(db)).at(-1), {
        actor_user_id: owner.id,
        action: 'component.attach',
        target: `device:${hub.id}`,
        details: { component_id: radar.id, component_type: 'radar' },
        ip: '192.0.2.7',
      });
    });

    t.test('attach: a broken rule or a taken pin stores nothing', async (t) => {
      const hub = await addDevice(db);
      await attachComponent(db, hub.id, { component_type: 'led', pin_number: 17 }, null, 1, by);
      await t.rejects(attachComponent(db, hub.id, { component_type: 'led', pin_number: 17 }, null, 2, by), {
        code: 'ARES_ERR_CONFLICT',
      });
      await t.rejects(attachComponent(db, hub.id, { component_type: 'led', pin_number: 3 }, null, 3, by), {
        code: 'ARES_ERR_UNPROCESSABLE',
      });
      t.equal((await listAttachedComponents(db, hub.id)).length, 1);
      t.equal(
        (await auditEntries(db)).filter((e) => e.target === `device:${hub.id}`).length,
        1,
        'a refused attach is not audited',
      );
    });

    t.test('the lists are per device', async (t) => {
      const a = await addDevice(db);
      const b = await addDevice(db);
      await attachComponent(db, a.id, { component_type: 'led', pin_number: 17 }, null, 1, by);
      t.strictSame(await listAttachedComponents(db, b.id), []);
    });

    t.test('find by id and/or type, on this hub only', async (t) => {
      const hub = await addDevice(db);
      const other = await addDevice(db);
      const r1 = await attachComponent(db, hub.id, { component_type: 'radar', config: { node_id: 'r1' } }, null, 1, by);
      const r2 = await attachComponent(db, hub.id, { component_type: 'radar', config: { node_id: 'r2' } }, null, 1, by);
      const led = await attachComponent(db, hub.id, { component_type: 'led', pin_number: 17 }, null, 1, by);
      const ids = async (q: Parameters<typeof findAttachedComponents>[2], deviceId = hub.id) =>
        (await findAttachedComponents(db, deviceId, q)).map((c) => c.id).sort((x, y) => x - y);
      t.strictSame(await ids({ componentType: 'radar' }), [r1.id, r2.id]);
      t.strictSame(await ids({ componentType: 'led' }), [led.id]);
      t.strictSame(await ids({ id: r2.id }), [r2.id]);
      t.strictSame(await ids({ id: r2.id, componentType: 'led' }), [], 'both must match');
      t.strictSame(await ids({ id: r2.id }, other.id), [], 'another hub’s component is not found');
    });

    t.test('detach: this hub’s component only, audited; false otherwise', async (t) => {
      const hub = await addDevice(db);
      const other = await addDevice(db);
      const led = await attachComponent(db, hub.id, { component_type: 'led', pin_number: 17 }, null, 1, by);
      t.equal(await detachComponent(db, other.id, led.id, 2, by), false, 'not through another hub');
      t.equal(await detachComponent(db, hub.id, led.id, 3, by), true);
      t.strictSame(await listAttachedComponents(db, hub.id), []);
      t.equal(await detachComponent(db, hub.id, led.id, 4, by), false, 'gone already');
      t.match((await auditEntries(db)).at(-1), {
        action: 'component.detach',
        target: `device:${hub.id}`,
        details: { component_id: led.id },
      });
    });
  });
}
