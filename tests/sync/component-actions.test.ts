import t from 'tap';
import { loadDriver } from '../../drivers/registry.js';
import { COMPONENT_ACTIONS, actionsFor } from '../../sync/component-actions.js';

// Central validates commands with COMPONENT_ACTIONS; the hub's drivers execute them. They must agree.
t.test('central’s action table matches what the drivers accept', async (t) => {
  for (const type of ['led', 'relay', 'pump', 'button', 'pir', 'dht22', 'cpu_temp', 'system']) {
    const driver = await loadDriver(type);
    t.same([...driver!.actions], [...actionsFor(type)], type);
  }
  t.same(actionsFor('constructor'), [], 'own keys only');
  t.same(Object.keys(COMPONENT_ACTIONS).sort(), ['led', 'pump', 'relay']);
});
