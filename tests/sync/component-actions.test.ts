import t from 'tap';
import { DRIVER_LOADERS, loadDriver } from '../../drivers/registry.js';
import { COMPONENT_ACTIONS, actionsFor } from '../../sync/component-actions.js';

// Central validates commands with COMPONENT_ACTIONS; the hub's drivers execute them. They must agree,
// for every driver the registry has (a new type is checked without touching this test).
t.test('central’s action table matches what the drivers accept', async (t) => {
  const types = Object.keys(DRIVER_LOADERS);
  t.ok(types.length > 0, 'the registry has drivers');
  const actuators: string[] = [];
  for (const type of types) {
    const driver = await loadDriver(type);
    if (!driver) {
      t.fail(`${type}: registered but does not load`);
      continue;
    }
    t.equal(driver.type, type, `${type}: the module is the type it is registered as`);
    t.same([...driver.actions], [...actionsFor(type)], type);
    if (driver.actions.length > 0) actuators.push(type);
  }
  t.same(
    Object.keys(COMPONENT_ACTIONS).sort(),
    actuators.sort(),
    'central knows actions for exactly the actuators the drivers have',
  );
  // The behaviour apps, the fall alarm and the docs rely on.
  for (const type of actuators) t.same(actionsFor(type), ['on', 'off', 'toggle'], `${type}: on, off, toggle`);
  for (const type of ['led', 'relay', 'pump']) t.ok(actuators.includes(type), `${type} is an actuator`);
  t.same(actionsFor('constructor'), [], 'own keys only');
  t.same(actionsFor('laser'), [], 'an unknown type has no actions');
});
