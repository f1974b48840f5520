import t from 'tap';
import { startRealtimeChannel } from '../../backend/mqtt/channel.js';
import { startTestCentral } from '../helpers/central.js';
import { closed, connect, newUser, provisioned } from '../helpers/realtime-targets.js';
import { suback } from '../helpers/realtime-targets.js';

/*
 * What only the embedded broker does. The access-control, state and presence tests every broker
 * passes are in realtime-channel.test.ts.
 */

type Teardown = { teardown(fn: () => unknown): void };

async function setup(t: Teardown, overrides: Record<string, unknown> = {}) {
  const c = await startTestCentral(t, undefined, { 'central.mqtt_port': 0, ...overrides });
  const channel = await startRealtimeChannel(c.ctx, '127.0.0.1');
  t.teardown(() => channel.stop());
  return { c, channel, port: channel.mqttPort! };
}

t.test('apps: email + access token; only their own devices’ state topics', async (t) => {
  const s = await setup(t);
  const owner = await newUser(s.c.app, 'owner');
  const other = await newUser(s.c.app, 'other');
  const mine = await provisioned(s.c, owner.auth);
  const theirs = await provisioned(s.c, other.auth);
  const ca = s.c.ctx.ca.certificatePem;
  const token = owner.auth.authorization!.slice('Bearer '.length);
  const { c, error } = await connect(t, s.port, { username: owner.email, password: token, ca });
  t.notOk(error, 'email + access token');
  t.equal(await suback(c, `client/state/${owner.email}/${mine.hub.record.device_uuid}`), 0, 'own device (granted)');
  t.equal(
    await suback(c, `client/state/${owner.email}/${theirs.hub.record.device_uuid}`),
    128,
    'another user’s device',
  );
  t.equal(await suback(c, `client/state/${other.email}/${theirs.hub.record.device_uuid}`), 128, 'another user’s topic');
  t.equal(await suback(c, 'client/state/#'), 128, 'wildcards');
  await c.publishAsync(`client/request_state/${owner.email}/${mine.hub.record.device_uuid}`, '', { qos: 1 });
  t.ok(c.connected, 'may ask for its own device’s state');

  t.ok((await connect(t, s.port, { username: owner.email, password: 'not-a-token', ca })).error, 'bad token');
  t.ok((await connect(t, s.port, { username: other.email, password: token, ca })).error, 'a token of another account');
  const expired = await s.c.ctx.tokens.issue(owner.id, 0, Date.now() - 2 * 3600_000);
  t.ok((await connect(t, s.port, { username: owner.email, password: expired.token, ca })).error, 'expired token');
  t.ok((await connect(t, s.port, { ca })).error, 'anonymous');
});

t.test('oversized packets and floods drop that client; others are served', async (t) => {
  const s = await setup(t);
  const owner = await newUser(s.c.app);
  const dev = await provisioned(s.c, owner.auth);
  const { port } = s;
  const ca = s.c.ctx.ca.certificatePem;
  const uuid = dev.uuid;
  const token = owner.auth.authorization!.slice('Bearer '.length);
  const device = (await connect(t, port, { cert: dev.cert, key: dev.key, ca })).c;
  const big = (await connect(t, port, { username: owner.email, password: token, ca })).c;
  big.publish(`client/request_state/${owner.email}/${uuid}`, Buffer.alloc(300 * 1024, 1), { qos: 0 });
  await closed(big);
  t.notOk(big.connected, 'a 300 KiB packet ends that connection');
  const flood = (await connect(t, port, { username: owner.email, password: token, ca })).c;
  for (let i = 0; i < 500 && flood.connected; i++)
    flood.publish(`client/request_state/${owner.email}/${uuid}`, '', { qos: 0 });
  await closed(flood);
  t.notOk(flood.connected, 'a flood ends that connection');
  await device.publishAsync(`devices/${uuid}/status`, 'ONLINE', { qos: 1 });
  t.ok(device.connected, 'the hub is unaffected');
});

t.test('a revocation made by another instance (database only) drops the device at the next recheck', async (t) => {
  const s = await setup(t);
  const owner = await newUser(s.c.app);
  const a = await provisioned(s.c, owner.auth);
  const b = await provisioned(s.c, owner.auth);
  const ca = s.c.ctx.ca.certificatePem;
  const devA = (await connect(t, s.port, { cert: a.cert, key: a.key, ca })).c;
  const devB = (await connect(t, s.port, { cert: b.cert, key: b.key, ca })).c;
  await s.c.ctx.db.kysely
    .updateTable('device_certificates')
    .set({ revoked_at: Date.now(), revoke_reason: 'test' })
    .where('device_id', '=', a.deviceId)
    .execute();
  await s.channel.housekeeping();
  await closed(devA);
  t.notOk(devA.connected, 'the revoked device is dropped');
  t.ok(devB.connected, 'the others stay');
});
