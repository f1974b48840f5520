import mqtt from 'mqtt';
import t from 'tap';
import { NodeRegistry } from '../../daemon/broker/nodes.js';
import type { NodeKind } from '../../daemon/nodes/node-kind.js';
import { fallKinds, isNodeType, nodeKind, registerNodeKind, unregisterNodeKind } from '../../daemon/nodes/registry.js';
import { openHubDb } from '../../daemon/state/hub-db.js';
import { FALL_DETECTION_TYPES } from '../../sync/contract.js';
import { startHub, startStack } from '../helpers/stack.js';
import { until } from '../helpers/wait.js';

t.test('the hub’s fall-detecting node kinds are the ones central watches', async (t) => {
  t.same(
    fallKinds()
      .map((k) => k.type)
      .sort(),
    [...FALL_DETECTION_TYPES].sort(),
  );
  for (const type of ['imu', 'radar']) t.ok(isNodeType(type), `${type} is served by a LAN node`);
  for (const type of ['led', 'dht22', 'toString', '__proto__']) t.notOk(isNodeType(type), `${type} is not`);
  t.throws(() => registerNodeKind({ type: 'imu', parse: () => 'no', readings: () => [] }), /already registered/);
  unregisterNodeKind('imu');
  t.ok(nodeKind('imu'), 'built-in kinds cannot be removed');
});

t.test('each kind refuses hostile payloads with a reason, never a throw', async (t) => {
  const hostile = [
    Buffer.alloc(0),
    Buffer.from('{'),
    Buffer.from('null'),
    Buffer.from('[]'),
    Buffer.from('{"__proto__":{"polluted":1}}'),
    Buffer.from('{"seq":1,"rate_hz":50,"samples":[[1e999,0,0,0,0,0]]}'),
    Buffer.alloc(70 * 1024, 0x41),
    Buffer.from([0xff, 0xfe, 0x00, 0x01]),
  ];
  for (const kind of fallKinds())
    for (const payload of hostile) {
      const got = kind.parse(payload);
      t.type(got, 'string', `${kind.type}: ${payload.subarray(0, 24).toString('hex')} refused`);
    }
  t.equal(({} as Record<string, unknown>)['polluted'], undefined, 'no prototype pollution');
});

/** A kind added by one registration: a kitchen thermometer node whose readings are stored. */
const thermo: NodeKind<{ c: number }> = {
  type: 'test_thermo',
  parse: (payload) => {
    try {
      const v = JSON.parse(payload.toString('utf8')) as { c?: unknown };
      return typeof v?.c === 'number' && Number.isFinite(v.c) ? { c: v.c } : 'expected {"c": number}';
    } catch {
      return 'not JSON';
    }
  },
  readings: (m) => [{ name: 'celsius', value: m.c }],
};

t.test('a node kind added in one place runs end to end: LAN node → hub buffer → central', async (t) => {
  t.setTimeout(90_000);
  registerNodeKind(thermo);
  t.teardown(() => unregisterNodeKind(thermo.type));
  const { hubConfig, central, deviceId, api, admin, user } = await startStack(t, { 'hub.buffer_commit_ms': 50 });
  // Central learns the component type (its catalog), the family attaches one naming the node.
  const typed = await api(
    'POST',
    '/api/components',
    {
      component_type: thermo.type,
      display_name: 'Thermometer node',
      category: 'sensor',
      component_metadata: { node: true }, // served by a LAN node: no GPIO pin, a node_id
    },
    admin,
  );
  t.equal(typed.status, 201, JSON.stringify(typed.body));
  const attached = await api(
    'POST',
    `/api/components/devices/${deviceId}/components`,
    { component_type: thermo.type, name: 'Kitchen', config: { node_id: 'kitchen' } },
    user,
  );
  t.equal(attached.status, 201, JSON.stringify(attached.body));
  const componentId = attached.body['id'] as number;
  const db = openHubDb(hubConfig.hub.state_dir);
  const node = await new NodeRegistry(db).add('kitchen');
  db.close();

  const hub = await startHub(t, hubConfig);
  await until('the component list from central', () =>
    hub.status().components.some((c) => c.component_type === thermo.type),
  );
  t.notOk(
    hub.status().runtime.some((c) => c.component_type === thermo.type),
    'no driver is looked for: the node serves it',
  );
  const kitchen = await mqtt.connectAsync(`mqtt://127.0.0.1:${hub.ports().mqtt}`, {
    username: 'kitchen',
    password: node.password!,
    reconnectPeriod: 0,
  });
  t.teardown(() => kitchen.endAsync());
  await kitchen.publishAsync(`local/kitchen/${thermo.type}`, 'not json', { qos: 1 });
  await kitchen.publishAsync(`local/kitchen/${thermo.type}`, JSON.stringify({ c: 21.5 }), { qos: 1 });
  const rows = () =>
    central.ctx.db.kysely
      .selectFrom('telemetry_data')
      .selectAll()
      .where('device_id', '=', deviceId)
      .where('component_type', '=', thermo.type)
      .execute();
  await until('the reading at central', async () => (await rows()).length > 0, 20_000);
  const stored = await rows();
  t.equal(stored.length, 1, 'the refused payload stored nothing');
  t.match(stored[0], {
    lane: 'telemetry',
    type: 'reading',
    metric: 'celsius',
    value: 21.5,
    component_id: String(componentId),
  });
});
