import t from 'tap';
import {
  addComponentType,
  componentTypeExists,
  listComponentTypes,
  removeComponentType,
  updateComponentType,
} from '../../../backend/store/catalog.js';
import { dbTargets } from '../../helpers/databases.js';
import { addDevice, migratedDb } from '../../helpers/store-db.js';

const siren = {
  component_type: 'siren',
  display_name: 'Siren',
  category: 'actuator',
  description: null,
  component_metadata: { states: ['ON', 'OFF'] },
  telemetry_category: null,
} as const;

for (const target of await dbTargets()) {
  t.test(`store/catalog on ${target.name}`, { skip: target.skip }, async (t) => {
    const db = await migratedDb(t, target);

    t.test('the seeded catalog, by type name, metadata parsed', async (t) => {
      const list = await listComponentTypes(db);
      const names = list.map((c) => c.component_type);
      t.strictSame(names, [...names].sort(), 'ordered by component_type');
      t.match(
        list.find((c) => c.component_type === 'radar'),
        { category: 'sensor', component_metadata: { node: true } },
      );
      t.ok(await componentTypeExists(db, 'led'));
      t.notOk(await componentTypeExists(db, 'no-such-type'));
    });

    t.test('add: stored and answered as stored; a taken name is a conflict', async (t) => {
      t.strictSame(await addComponentType(db, siren), siren);
      t.strictSame(
        (await listComponentTypes(db)).find((c) => c.component_type === 'siren'),
        siren,
        'metadata round-trips through its JSON text',
      );
      await t.rejects(addComponentType(db, { ...siren, display_name: 'Another' }), {
        code: 'ARES_ERR_CONFLICT',
        message: 'component_type siren already exists',
      });
      const bare = await addComponentType(db, { ...siren, component_type: 'bare', component_metadata: null });
      t.equal(bare.component_metadata, null, 'no metadata is null, not {}');
    });

    t.test('update: only the fields given change; an unknown type is undefined', async (t) => {
      await addComponentType(db, { ...siren, component_type: 'horn' });
      const updated = await updateComponentType(db, 'horn', {
        display_name: 'Horn',
        component_metadata: { loud: true },
      });
      t.strictSame(updated, {
        ...siren,
        component_type: 'horn',
        display_name: 'Horn',
        component_metadata: { loud: true },
      });
      t.strictSame(await updateComponentType(db, 'horn', {}), updated, 'no changes: the type as stored');
      t.equal(await updateComponentType(db, 'no-such-type', { display_name: 'x' }), undefined);
    });

    t.test('remove: refused while a hub has one attached; false for an unknown type', async (t) => {
      await addComponentType(db, { ...siren, component_type: 'bell' });
      const hub = await addDevice(db);
      await db.kysely
        .insertInto('attached_components')
        .values({
          device_id: hub.id,
          component_type: 'bell',
          name: null,
          pin_number: null,
          pin_mode: null,
          default_state: null,
          config: null,
          created_at: 0,
        })
        .execute();
      await t.rejects(removeComponentType(db, 'bell'), { code: 'ARES_ERR_CONFLICT' });
      t.ok(await componentTypeExists(db, 'bell'), 'still there');
      await db.kysely.deleteFrom('attached_components').where('device_id', '=', hub.id).execute();
      t.equal(await removeComponentType(db, 'bell'), true);
      t.notOk(await componentTypeExists(db, 'bell'));
      t.equal(await removeComponentType(db, 'bell'), false, 'gone already');
    });
  });
}
