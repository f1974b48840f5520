import t from 'tap';
import {
  addHardwareVariant,
  describeHardwareVariant,
  hardwareVariantExists,
  listHardwareVariants,
  removeHardwareVariant,
} from '../../../backend/store/hardware-variants.js';
import { listPinRules } from '../../../backend/store/pin-rules.js';
import { dbTargets } from '../../helpers/databases.js';
import { addDevice, migratedDb } from '../../helpers/store-db.js';

for (const target of await dbTargets()) {
  t.test(`store/hardware-variants on ${target.name}`, { skip: target.skip }, async (t) => {
    const db = await migratedDb(t, target);

    t.test('list by name; add; a taken name is a conflict', async (t) => {
      t.strictSame(await listHardwareVariants(db), [
        { name: 'Pro', description: 'hub with the extended sensor kit' },
        { name: 'Standard', description: 'base hub' },
      ]);
      await addHardwareVariant(db, { name: 'Lite', description: null });
      t.strictSame(
        (await listHardwareVariants(db)).map((v) => v.name),
        ['Lite', 'Pro', 'Standard'],
      );
      t.ok(await hardwareVariantExists(db, 'Lite'));
      t.notOk(await hardwareVariantExists(db, 'lite'), 'names are exact');
      await t.rejects(addHardwareVariant(db, { name: 'Lite', description: 'again' }), {
        code: 'ARES_ERR_CONFLICT',
        message: 'hardware variant Lite already exists',
      });
    });

    t.test('describe: false for an unknown name', async (t) => {
      t.equal(await describeHardwareVariant(db, 'Pro', 'the big one'), true);
      t.match(await listHardwareVariants(db), [{ name: 'Lite' }, { name: 'Pro', description: 'the big one' }]);
      t.equal(await describeHardwareVariant(db, 'Nope', 'x'), false);
    });

    t.test('remove: takes its pin rules along; refused while a device names it', async (t) => {
      t.ok((await listPinRules(db, '4B', 'Pro')).length > 0, 'Pro has seeded rules');
      t.equal(await removeHardwareVariant(db, 'Pro'), true);
      t.notOk(await hardwareVariantExists(db, 'Pro'));
      t.strictSame(await listPinRules(db, '4B', 'Pro'), [], 'its rules are gone');
      t.ok((await listPinRules(db, '4B', 'Standard')).length > 0, 'other variants keep theirs');
      t.equal(await removeHardwareVariant(db, 'Pro'), false, 'gone already');

      await addDevice(db, { hardwareVariant: 'Standard' });
      await t.rejects(removeHardwareVariant(db, 'Standard'), {
        code: 'ARES_ERR_CONFLICT',
        message: 'hardware variant Standard is used by registered devices',
      });
      t.ok((await listPinRules(db, '4B', 'Standard')).length > 0, 'a refused removal keeps the rules');
    });
  });
}
