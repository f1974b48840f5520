import t from 'tap';
import { addComponentType } from '../../../backend/store/catalog.js';
import {
  addPinRule,
  checkAttachment,
  listPinRules,
  removePinRule,
  updatePinRule,
} from '../../../backend/store/pin-rules.js';
import { dbTargets } from '../../helpers/databases.js';
import { addDevice, migratedDb } from '../../helpers/store-db.js';

const rule = {
  hardware_version: 'X1',
  hardware_variant: 'Standard',
  component_type: 'led',
  pin_number: 5,
} as const;

for (const target of await dbTargets()) {
  t.test(`store/pin-rules on ${target.name}`, { skip: target.skip }, async (t) => {
    const db = await migratedDb(t, target);

    t.test('list: a board, or one variant of it, in the order made', async (t) => {
      const all = await listPinRules(db, '4B');
      t.equal(all.length, 12, 'six types on each of two variants');
      t.strictSame(
        all.map((r) => r.id),
        [...all.map((r) => r.id)].sort((a, b) => a - b),
      );
      const standard = await listPinRules(db, '4B', 'Standard');
      t.equal(standard.length, 6);
      t.ok(standard.every((r) => r.hardware_variant === 'Standard'));
      t.match(standard[0], { component_type: 'led', pin_number: 17, pin_mode: 'OUT', shareable: false });
      t.strictSame(await listPinRules(db, 'no-such-board'), []);
    });

    t.test('add: defaults null and not shareable; an identical rule is a conflict', async (t) => {
      const added = await addPinRule(db, rule);
      t.strictSame(added, {
        id: added.id,
        ...rule,
        pin_mode: null,
        default_state: null,
        description: null,
        shareable: false,
      });
      t.strictSame(await listPinRules(db, 'X1'), [added]);
      await t.rejects(addPinRule(db, { ...rule, description: 'again' }), {
        code: 'ARES_ERR_CONFLICT',
        message: 'an identical pin rule exists',
      });
      const shared = await addPinRule(db, { ...rule, pin_number: 6, shareable: true });
      t.equal(shared.shareable, true, 'shareable stored as 1, answered as true');
    });

    t.test('add and update name only known types and variants', async (t) => {
      await t.rejects(addPinRule(db, { ...rule, component_type: 'warp-core' }), {
        code: 'ARES_ERR_UNPROCESSABLE',
        message: 'component_type: unknown type warp-core',
      });
      await t.rejects(addPinRule(db, { ...rule, hardware_variant: 'Mega' }), {
        code: 'ARES_ERR_UNPROCESSABLE',
        message: 'hardware_variant: unknown variant Mega',
      });
      const [first] = await listPinRules(db, 'X1');
      await t.rejects(updatePinRule(db, first!.id, { hardware_variant: 'Mega' }), { code: 'ARES_ERR_UNPROCESSABLE' });
    });

    t.test('update: the fields given; clashing with another rule is a conflict; unknown id undefined', async (t) => {
      const [pin5, pin6] = await listPinRules(db, 'X1');
      const updated = await updatePinRule(db, pin5!.id, { pin_mode: 'OUT', shareable: true });
      t.match(updated, { id: pin5!.id, pin_number: 5, pin_mode: 'OUT', shareable: true });
      await t.rejects(updatePinRule(db, pin6!.id, { pin_number: 5 }), { code: 'ARES_ERR_CONFLICT' });
      t.equal(await updatePinRule(db, 999_999, { description: 'x' }), undefined);
    });

    t.test('remove: false for an unknown id', async (t) => {
      const [pin5] = await listPinRules(db, 'X1');
      t.equal(await removePinRule(db, pin5!.id), true);
      t.equal(await removePinRule(db, pin5!.id), false);
    });

    t.test('checkAttachment applies the rules of the device’s board and variant', async (t) => {
      const hub = await addDevice(db);
      const device = { id: hub.id, hardware_version: '4B', hardware_variant: 'Standard' };
      const check = (req: Parameters<typeof checkAttachment>[2]) =>
        db.kysely.transaction().execute((trx) => checkAttachment(trx, device, req));
      t.strictSame(await check({ component_type: 'led', pin_number: 17 }), { pin_mode: 'OUT', default_state: 'OFF' });
      await t.rejects(check({ component_type: 'led', pin_number: 18 }), { code: 'ARES_ERR_UNPROCESSABLE' });
      await t.rejects(check({ component_type: 'led', pin_number: 17, pin_mode: 'IN' }), {
        code: 'ARES_ERR_UNPROCESSABLE',
      });
      await t.rejects(check({ component_type: 'radar' }), { code: 'ARES_ERR_UNPROCESSABLE' }, 'a node names its node');
      t.strictSame(await check({ component_type: 'radar', config: { node_id: 'r1' } }), {
        pin_mode: null,
        default_state: null,
      });
      await addComponentType(db, {
        component_type: 'probe',
        display_name: 'Probe',
        category: 'sensor',
        description: null,
        component_metadata: null,
        telemetry_category: null,
      });
      await t.rejects(check({ component_type: 'probe', pin_number: 17 }), { code: 'ARES_ERR_UNPROCESSABLE' });
      await db.kysely
        .insertInto('attached_components')
        .values({
          device_id: hub.id,
          component_type: 'led',
          name: null,
          pin_number: 17,
          pin_mode: 'OUT',
          default_state: 'OFF',
          config: null,
          created_at: 0,
        })
        .execute();
      await t.rejects(check({ component_type: 'led', pin_number: 17 }), {
        code: 'ARES_ERR_CONFLICT',
        message: 'pin 17 is already used by a led component',
      });
    });
  });
}
