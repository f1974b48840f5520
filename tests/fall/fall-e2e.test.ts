import mqtt from 'mqtt';
import t from 'tap';
import { NodeRegistry } from '../../daemon/broker/nodes.js';
import { openHubDb } from '../../daemon/state/hub-db.js';
import { startHub, startStack } from '../helpers/stack.js';
import { until } from '../helpers/wait.js';
import { publishSyntheticFall } from '../helpers/pendant-fall.js';

/*
 * The whole path: a LAN node streams IMU batches to the hub's broker, the hub's model sees a fall,
 * the alert is committed to the alert lane, published retained on the LAN (for a phone at home), and
 * reaches central's store with the samples around it.
 */
t.test('a fall streamed by a LAN node reaches the LAN at once and central with its recording', async (t) => {
  t.setTimeout(90_000);
  const { hubConfig, central, deviceId, api, user } = await startStack(t, { 'hub.buffer_commit_ms': 50 });
  const attached = await api(
    'POST',
    `/api/components/devices/${deviceId}/components`,
    { component_type: 'imu', name: 'Pendant', config: { node_id: 'pendant' } },
    user,
  );
  t.equal(attached.status, 201, JSON.stringify(attached.body));
  const db = openHubDb(hubConfig.hub.state_dir);
  const node = await new NodeRegistry(db).add('pendant');
  db.close();
  const hub = await startHub(t, hubConfig);
  await until(
    'fall detection running',
    async () => {
      const h = (await fetch(`http://127.0.0.1:${hub.ports().http}/healthz`).then((r) => r.json())) as {
        fall: { status: string };
      };
      return h.fall.status === 'running';
    },
    30_000,
  );

  const url = `mqtt://127.0.0.1:${hub.ports().mqtt}`;
  const phone = await mqtt.connectAsync(url, { username: 'pendant', password: node.password!, reconnectPeriod: 0 });
  t.teardown(() => phone.endAsync());
  const lan: string[] = [];
  phone.on('message', (_topic, payload) => lan.push(payload.toString()));
  await phone.subscribeAsync('alerts/#');

  await publishSyntheticFall(phone, 'pendant');
  await until('the LAN hears the alert', () => lan.length > 0, 10_000);
  t.match(JSON.parse(lan[0]!), { alerts: [{ node_id: 'pendant', status: 'open' }] });

  const rows = () =>
    central.ctx.db.kysely
      .selectFrom('telemetry_data')
      .selectAll()
      .where('device_id', '=', deviceId)
      .where('lane', '=', 'alert')
      .execute();
  await until('alert and recording at central', async () => (await rows()).length === 2, 20_000);
  const stored = await rows();
  const alert = stored.find((r) => r.type === 'alert')!;
  t.match(alert, { component_type: 'imu', metric: 'fall_detected' });
  const data = JSON.parse(alert.data!) as { alert_id: string; samples_before: number[][] };
  t.ok(data.samples_before.length > 150, 'with the samples before it');
  const recording = stored.find((r) => r.metric === 'fall_recording')!;
  t.equal((JSON.parse(recording.data!) as { alert_id: string }).alert_id, data.alert_id, 'and the recording after it');

  // A caregiver cancels in the app: central tells the hub, which marks it cancelled for the LAN too.
  const listed = await api('GET', `/api/devices/${deviceId}/alerts`, undefined, user);
  t.match(listed.body, [{ id: data.alert_id, status: 'open', type: 'fall' }]);
  const cancel = await api('POST', `/api/devices/${deviceId}/alerts/${data.alert_id}/cancel`, {}, user);
  t.equal(cancel.status, 200, JSON.stringify(cancel.body));
  await until(
    'the LAN hears the cancel from the app',
    () => (JSON.parse(lan.at(-1)!) as { alerts: { status: string }[] }).alerts[0]?.status === 'cancelled',
    20_000,
  );
  await until(
    'the hub recorded who cancelled',
    async () => (await rows()).some((r) => r.metric === 'fall_cancelled' && /"by":"app"/.test(r.data ?? '')),
    20_000,
  );
});
