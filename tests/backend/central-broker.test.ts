import mqtt, { type MqttClient } from 'mqtt';
import t from 'tap';
import { CentralBroker } from '../../backend/mqtt/central-broker.js';
import { Realtime } from '../../backend/mqtt/realtime.js';
import {
  fakeHub,
  json,
  newUser,
  requestCredentials,
  startTestCentral,
  type FakeHub,
  type TestCentral,
} from '../helpers/central.js';
import { OPENSSL_SKIP, selfSignedCert } from '../helpers/openssl.js';

type Teardown = { teardown(fn: () => unknown): void };

async function setup(t: Teardown) {
  const c = await startTestCentral(t);
  const broker = new CentralBroker(c.ctx);
  const port = await broker.start(0, '127.0.0.1');
  t.teardown(() => broker.stop());
  return { c, broker, port };
}

/** A provisioned hub and the certificate central issued it. */
async function provisioned(
  c: TestCentral,
  ownerAuth: Record<string, string>,
): Promise<{ hub: FakeHub; deviceId: number; cert: string; key: string }> {
  const hub = fakeHub();
  const pre = await c.app.inject({
    method: 'POST',
    url: '/api/devices/preregister',
    headers: c.adminAuth,
    payload: hub.record,
  });
  await c.app.inject({
    method: 'POST',
    url: '/api/devices/claim',
    headers: ownerAuth,
    payload: { cpu_serial: hub.record.cpu_serial, claim_code: hub.record.claim_code },
  });
  const creds = json<{ device_certificate: string }>(await requestCredentials(c, hub));
  return {
    hub,
    deviceId: json<{ device_id: number }>(pre).device_id,
    cert: creds.device_certificate,
    key: hub.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

/** Central's broker with the realtime layer on top, a user and one provisioned device. */
async function withRealtime(t: Teardown, overrides: Record<string, unknown> = {}) {
  const c = await startTestCentral(t, undefined, overrides);
  const broker = new CentralBroker(c.ctx);
  const realtime = new Realtime(c.ctx, broker);
  realtime.start();
  t.teardown(() => realtime.stop());
  const port = await broker.start(0, '127.0.0.1');
  t.teardown(() => broker.stop());
  const owner = await newUser(c.app);
  const dev = await provisioned(c, owner.auth);
  return { c, port, owner, dev, realtime, ca: c.ctx.ca.certificatePem, uuid: dev.hub.record.device_uuid };
}

function connect(t: Teardown, port: number, opts: mqtt.IClientOptions): Promise<{ c: MqttClient; error?: Error }> {
  return new Promise((resolve) => {
    const c = mqtt.connect(`mqtts://127.0.0.1:${port}`, {
      reconnectPeriod: 0,
      connectTimeout: 3000,
      protocolVersion: 4,
      ...opts,
    });
    t.teardown(() => c.end(true));
    c.once('connect', () => resolve({ c }));
    c.once('error', (error) => resolve({ c, error }));
    c.once('close', () => resolve({ c, error: new Error('closed') }));
  });
}
const closed = (c: MqttClient) =>
  new Promise<void>((resolve) => (c.connected ? c.once('close', () => resolve()) : resolve()));
const suback = (c: MqttClient, topic: string) =>
  c.subscribeAsync(topic).then(
    (g) => g[0]!.qos,
    (err: { packet?: { granted?: number[] } }) => err.packet?.granted?.[0],
  );

t.test('devices: client certificate from central’s CA, CN = uuid, per-device ACL', async (t) => {
  const s = await setup(t);
  const owner = await newUser(s.c.app);
  const a = await provisioned(s.c, owner.auth);
  const b = await provisioned(s.c, owner.auth);
  const ca = s.c.ctx.ca.certificatePem;
  const { c, error } = await connect(t, s.port, { cert: a.cert, key: a.key, ca });
  t.notOk(error, 'a provisioned device connects with its certificate');
  const uuid = a.hub.record.device_uuid;
  await c.publishAsync(`devices/${uuid}/status`, 'ONLINE', { qos: 1 });
  t.equal(await suback(c, `commands/${uuid}/#`), 0, 'its own commands (granted at the QoS asked)');
  t.equal(await suback(c, `commands/${b.hub.record.device_uuid}/#`), 128, 'not another device’s commands');
  t.equal(await suback(c, '#'), 128, 'not everything');
  c.publish(`devices/${b.hub.record.device_uuid}/status`, 'spoof', { qos: 1 });
  await closed(c);
  t.notOk(c.connected, 'publishing as another device disconnects it');
});

t.test(
  'refused: another CA, an expired certificate, a revoked one; revocation drops live connections',
  { skip: OPENSSL_SKIP },
  async (t) => {
    const s = await setup(t);
    const owner = await newUser(s.c.app);
    const a = await provisioned(s.c, owner.auth);
    const ca = s.c.ctx.ca.certificatePem;
    const foreign = selfSignedCert(t, a.hub.record.device_uuid);
    t.ok((await connect(t, s.port, { cert: foreign.cert, key: foreign.key, ca })).error, 'certificate from another CA');

    // Issued 400 days ago: expired, though never revoked.
    const { csrFor } = await import('../helpers/central.js');
    const old = await s.c.ctx.ca.signDeviceCsr(
      await csrFor(a.hub),
      a.hub.record.device_uuid,
      new Date(Date.now() - 400 * 86400_000),
    );
    const { recordCertificate } = await import('../../backend/store/devices.js');
    await recordCertificate(s.c.ctx.db.kysely, a.deviceId, old, Date.now());
    t.ok((await connect(t, s.port, { cert: old.pem, key: a.key, ca })).error, 'expired certificate');

    const live = await connect(t, s.port, { cert: a.cert, key: a.key, ca });
    t.notOk(live.error);
    t.equal(
      (await s.c.app.inject({ method: 'DELETE', url: `/api/devices/${a.deviceId}`, headers: owner.auth })).statusCode,
      204,
    );
    await closed(live.c);
    t.notOk(live.c.connected, 'unlinking drops the connected device at once');
    t.ok(
      (await connect(t, s.port, { cert: a.cert, key: a.key, ca })).error,
      'and its certificate is refused from then on',
    );
  },
);

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

t.test('presence: a device that vanishes (no goodbye) is OFFLINE for its app', async (t) => {
  const { port, owner, dev, ca, uuid } = await withRealtime(t);
  const app = (await connect(t, port, { username: owner.email, password: owner.auth.authorization!.slice(7), ca })).c;
  let state: Record<string, unknown> = {};
  app.on('message', (_t, p) => (state = JSON.parse(p.toString()) as Record<string, unknown>));
  await app.subscribeAsync(`client/state/${owner.email}/${uuid}`);
  const device = (
    await connect(t, port, {
      cert: dev.cert,
      key: dev.key,
      ca,
      will: { topic: `devices/${uuid}/status`, payload: Buffer.from('OFFLINE'), qos: 1, retain: true },
    })
  ).c;
  await device.publishAsync(
    `devices/${uuid}/state`,
    JSON.stringify({ components: { '9': { component_type: 'led', name: 'Hall', state: 'ON' } } }),
    { qos: 1 },
  );
  for (let i = 0; i < 300 && state['led'] !== 'ON'; i++) await new Promise((r) => setTimeout(r, 10));
  t.match(state, { device_status: 'ONLINE', led: 'ON' });
  device.stream.destroy(); // the power cable, not a clean disconnect
  for (let i = 0; i < 300 && state['device_status'] !== 'OFFLINE'; i++) await new Promise((r) => setTimeout(r, 10));
  t.equal(state['device_status'], 'OFFLINE');
  await app.publishAsync(`client/request_state/${owner.email}/${uuid}`, '', { qos: 1 });
  state = {};
  for (let i = 0; i < 300 && !state['device_status']; i++) await new Promise((r) => setTimeout(r, 10));
  t.match(
    state,
    { device_status: 'OFFLINE', components: { '9': { state: 'ON' } } },
    'request_state pushes the full state at once',
  );
  // Hostile device payloads are ignored, never thrown.
  const again = (await connect(t, port, { cert: dev.cert, key: dev.key, ca })).c;
  for (const p of [
    '{',
    '[]',
    'null',
    JSON.stringify({ components: { x: 1, '1': null, '2': { component_type: 7 } } }),
    'x'.repeat(70_000),
  ])
    await again.publishAsync(`devices/${uuid}/state`, p, { qos: 1 });
  await again.publishAsync(`devices/${uuid}/results`, JSON.stringify({ command_id: "' OR 1=1", status: 'done' }), {
    qos: 1,
  });
  t.ok(again.connected, 'still connected and served');
});

t.test(
  'presence: connected but silent past central.presence_timeout_s is TIMEOUT; speaking again is ONLINE',
  async (t) => {
    const { c, port, dev, ca, uuid, realtime } = await withRealtime(t, { 'central.presence_timeout_s': 30 });
    const device = (await connect(t, port, { cert: dev.cert, key: dev.key, ca })).c;
    await device.publishAsync(`devices/${uuid}/status`, 'ONLINE', { qos: 1 });
    const view = () => realtime.view(uuid)['device_status'];
    for (let i = 0; i < 300 && view() !== 'ONLINE'; i++) await new Promise((r) => setTimeout(r, 10));
    c.clock.advance(29_000);
    realtime.sweepPresence();
    t.equal(view(), 'ONLINE', 'within the limit');
    c.clock.advance(2_000);
    realtime.sweepPresence();
    t.equal(view(), 'TIMEOUT', 'silent past the limit while still connected');
    t.ok(device.connected);
    await device.publishAsync(`devices/${uuid}/state`, JSON.stringify({ components: {} }), { qos: 1 });
    for (let i = 0; i < 300 && view() !== 'ONLINE'; i++) await new Promise((r) => setTimeout(r, 10));
    t.equal(view(), 'ONLINE', 'a message ends the TIMEOUT');
  },
);

t.test('apps: short-lived MQTT credentials from POST /api/users/me/mqtt-credentials', async (t) => {
  const s = await setup(t);
  const owner = await newUser(s.c.app, 'owner');
  const mine = await provisioned(s.c, owner.auth);
  const ca = s.c.ctx.ca.certificatePem;
  t.equal((await s.c.app.inject({ method: 'POST', url: '/api/users/me/mqtt-credentials' })).statusCode, 401);
  const res = await s.c.app.inject({ method: 'POST', url: '/api/users/me/mqtt-credentials', headers: owner.auth });
  t.equal(res.statusCode, 201);
  const creds = json<{ username: string; password: string; expires_at: string }>(res);
  t.match(creds, { username: /^app-[0-9a-f]{24}$/, password: /^[A-Za-z0-9_-]{32}$/, expires_at: /Z$/ });
  const stored = await s.c.ctx.db.kysely.selectFrom('mqtt_credentials').select('secret_hash').executeTakeFirstOrThrow();
  t.notMatch(stored.secret_hash, creds.password, 'only a hash is kept');

  const { c, error } = await connect(t, s.port, { username: creds.username, password: creds.password, ca });
  t.notOk(error, 'the app connects with them');
  t.equal(await suback(c, `client/state/${owner.email}/${mine.hub.record.device_uuid}`), 0, 'its own device');
  t.equal(await suback(c, 'client/state/#'), 128);
  t.ok((await connect(t, s.port, { username: creds.username, password: 'wrong', ca })).error, 'wrong password');
  s.c.clock.advance(3601_000);
  t.ok(
    (await connect(t, s.port, { username: creds.username, password: creds.password, ca })).error,
    'expired after an hour',
  );
});

t.test('oversized packets and floods drop that client; others are served', async (t) => {
  const { port, owner, dev, ca, uuid } = await withRealtime(t);
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
  await s.broker.recheckNow();
  await closed(devA);
  t.notOk(devA.connected, 'the revoked device is dropped');
  t.ok(devB.connected, 'the others stay');
});
