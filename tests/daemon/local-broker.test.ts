import { connect as netConnect } from 'node:net';
import mqtt, { type MqttClient } from 'mqtt';
import t, { type Test } from 'tap';
import { silentLogger } from '../../core/logger.js';
import { LocalBroker } from '../../daemon/broker/local-broker.js';
import { NodeRegistry } from '../../daemon/broker/nodes.js';
import { openHubDb } from '../../daemon/state/hub-db.js';
import { OPENSSL_SKIP, selfSignedCert } from '../helpers/openssl.js';
import { never, until } from '../helpers/wait.js';

async function setup(t: Test, limits?: Partial<ConstructorParameters<typeof LocalBroker>[2]>) {
  const db = openHubDb(t.testdir());
  t.teardown(() => db.close());
  const nodes = new NodeRegistry(db);
  const broker = new LocalBroker(silentLogger(), nodes, {
    maxPacketBytes: 4096,
    maxConnections: 16,
    maxPublishPerSecond: 20,
    maxTopicLevels: 8,
    ...limits,
  });
  const port = await broker.start(0, '127.0.0.1');
  t.teardown(() => broker.stop());
  const received: [string, string, string][] = [];
  broker.onNodeMessage = (node, stream, payload) => void received.push([node, stream, payload.toString()]);
  return { nodes, broker, port, received, db };
}

function client(
  t: { teardown(fn: () => unknown): void },
  port: number,
  username?: string,
  password?: string,
): Promise<{ c: MqttClient; error?: Error }> {
  return new Promise((resolve) => {
    const c = mqtt.connect(`mqtt://127.0.0.1:${port}`, {
      username,
      password,
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 3000,
    });
    t.teardown(() => c.end(true));
    c.once('connect', () => resolve({ c }));
    c.once('error', (error) => resolve({ c, error }));
  });
}

const closed = (c: MqttClient) =>
  new Promise<void>((resolve) => (c.connected ? c.once('close', () => resolve()) : resolve()));

t.test('nodes authenticate; unknown and wrong credentials are refused', async (t) => {
  const s = await setup(t);
  const { password } = await s.nodes.add('esp32-hall');
  t.match(password, /^[A-Za-z0-9_-]{32}$/, 'a random password, shown once');
  t.notMatch(
    JSON.stringify(s.db.prepare('select * from lan_nodes').all()),
    new RegExp(password!),
    'only a hash is stored',
  );
  t.ok((await client(t, s.port, 'esp32-hall', password)).c.connected, 'the right password connects');
  t.match((await client(t, s.port)).error?.message, /Not authorized|Bad username/i, 'anonymous refused');
  t.ok((await client(t, s.port, 'esp32-hall', 'wrong')).error, 'wrong password refused');
  t.ok((await client(t, s.port, 'ghost', password)).error, 'unknown node refused');
  t.ok((await client(t, s.port, "' OR 1=1 --", 'x')).error, 'hostile username refused');
});

t.test('a node publishes only under local/{its id}/ and subscribes only to telemetry and alerts', async (t) => {
  const s = await setup(t);
  const a = await s.nodes.add('node-a');
  await s.nodes.add('node-b');
  const { c } = await client(t, s.port, 'node-a', a.password);
  await c.publishAsync('local/node-a/radar', '{"presence":1}', { qos: 1 });
  await until('the broker handed on the message', () => s.received.length === 1);
  t.same(s.received, [['node-a', 'radar', '{"presence":1}']]);
  // mqtt.js rejects when any topic is refused; the SUBACK codes ride on the error.
  const suback = await c
    .subscribeAsync(['telemetry/#', 'alerts/x', '#', '$SYS/#', 'local/node-b/#'])
    .catch((err: { packet?: { granted?: number[] } }) => err.packet?.granted);
  t.same(suback, [0, 0, 128, 128, 128], 'only telemetry/# and alerts/# are granted');
  t.ok(c.connected, 'a refused subscription does not disconnect');
  c.publish('local/node-b/radar', 'spoof', { qos: 1 });
  await closed(c);
  t.notOk(c.connected, 'publishing under another node disconnects the client');
  t.equal(s.received.length, 1, 'the spoofed message went nowhere');
});

t.test('oversized packets, floods and garbage drop the client, not the broker', async (t) => {
  const s = await setup(t);
  const good = await s.nodes.add('good');
  const bad = await s.nodes.add('bad');
  const { c: wellBehaved } = await client(t, s.port, 'good', good.password);
  const { c: big } = await client(t, s.port, 'bad', bad.password);
  big.publish('local/bad/imu', Buffer.alloc(10_000, 1), { qos: 0 });
  await closed(big);
  t.notOk(big.connected, 'oversized packet: disconnected');

  const { c: flood } = await client(t, s.port, 'bad', bad.password);
  for (let i = 0; i < 200 && flood.connected; i++) flood.publish('local/bad/imu', 'x', { qos: 0 });
  await closed(flood);
  t.notOk(flood.connected, 'flood: disconnected');

  // Raw garbage and a malformed remaining length on a plain TCP socket.
  for (const bytes of [
    Buffer.from('GET / HTTP/1.1\r\n\r\n'),
    Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x7f]),
    Buffer.from([0x10, 0x00]),
  ]) {
    await new Promise<void>((resolve) => {
      const sock = netConnect(s.port, '127.0.0.1', () => sock.write(bytes));
      sock.on('close', () => resolve());
      sock.on('error', () => resolve());
      setTimeout(() => sock.destroy(), 1000).unref();
    });
  }

  await wellBehaved.publishAsync('local/good/radar', 'still here', { qos: 1 });
  await until('the well-behaved node’s message', () => s.received.some((r) => r[2] === 'still here'));
  t.ok(
    s.received.some((r) => r[0] === 'good' && r[2] === 'still here'),
    'the well-behaved node kept being served throughout',
  );
  t.ok(wellBehaved.connected);
});

t.test('retained hub publishes reach subscribers; removed nodes are disconnected', async (t) => {
  const s = await setup(t);
  const n = await s.nodes.add('phone');
  await s.broker.publish('telemetry/owner@example.com/uuid/led/status', '{"state":"ON"}');
  const { c } = await client(t, s.port, 'phone', n.password);
  const got = new Promise<string>((resolve) => c.on('message', (_topic, payload) => resolve(payload.toString())));
  await c.subscribeAsync('telemetry/#');
  t.equal(await got, '{"state":"ON"}', 'retained state delivered on subscribe');
  t.ok(s.nodes.remove('phone'));
  s.broker.dropRemovedNodes();
  await closed(c);
  t.notOk(c.connected, 'removed node disconnected without a restart');
  t.ok((await client(t, s.port, 'phone', n.password)).error, 'and cannot reconnect');
});

t.test('node names are validated; legacy HTTP nodes have no password', async (t) => {
  const s = await setup(t);
  await t.rejects(s.nodes.add('bad name'), { code: 'ARES_ERR_USAGE' });
  await t.rejects(s.nodes.add('x'.repeat(65)), { code: 'ARES_ERR_USAGE' });
  await s.nodes.add('radar1', { legacyHttp: true, sourceAddr: '192.0.2.7' });
  await t.rejects(s.nodes.add('radar1'), { code: 'ARES_ERR_USAGE', message: /already exists/ });
  t.same(
    s.nodes.list().map((x) => [x.node_id, x.legacy_http, x.source_addr]),
    [['radar1', true, '192.0.2.7']],
  );
  t.ok(s.nodes.legacyAllowed('radar1', '192.0.2.7'));
  t.ok(s.nodes.legacyAllowed('radar1', '::ffff:192.0.2.7'));
  t.notOk(s.nodes.legacyAllowed('radar1', '192.0.2.8'), 'pinned to its source address');
  t.notOk(await s.nodes.authenticate('radar1', Buffer.from('')), 'a legacy node cannot use MQTT');
});

t.test('the optional TLS listener applies the same rules', { skip: OPENSSL_SKIP }, async (t) => {
  const s = await setup(t);
  const { cert, key } = selfSignedCert(t, 'hub.local');
  const tlsPort = await s.broker.startTls(0, { cert, key }, '127.0.0.1');
  const { password } = await s.nodes.add('phone');
  const connect = (username: string, pw: string) =>
    new Promise<{ c: MqttClient; error?: Error }>((resolve) => {
      const c = mqtt.connect(`mqtts://127.0.0.1:${tlsPort}`, {
        username,
        password: pw,
        ca: cert,
        reconnectPeriod: 0,
        connectTimeout: 3000,
      });
      t.teardown(() => c.end(true));
      c.once('connect', () => resolve({ c }));
      c.once('error', (error) => resolve({ c, error }));
    });
  const ok = await connect('phone', password!);
  t.ok(ok.c.connected, 'a node connects over TLS');
  await ok.c.publishAsync('local/phone/radar', 'over tls', { qos: 1 });
  await until('the message over TLS', () => s.received.some((r) => r[2] === 'over tls'));
  t.ok(s.received.some((r) => r[0] === 'phone' && r[2] === 'over tls'));
  t.ok((await connect('phone', 'wrong')).error, 'wrong password refused over TLS too');
  // A client that does not trust the certificate fails its handshake; the listener keeps serving.
  const untrusted = mqtt.connect(`mqtts://127.0.0.1:${tlsPort}`, {
    username: 'phone',
    password: password!,
    reconnectPeriod: 0,
    connectTimeout: 2000,
  });
  t.teardown(() => untrusted.end(true));
  await new Promise((r) => untrusted.once('error', r));
  t.notOk(untrusted.connected);
  t.ok((await connect('phone', password!)).c.connected, 'still serving');
});

t.test('a QoS1 PUBACK goes out only once the message is stored; a failed store is never acknowledged', async (t) => {
  const s = await setup(t);
  const { password } = await s.nodes.add('node1');
  let store: { resolve: () => void; reject: (e: Error) => void } | undefined;
  s.broker.onNodeMessage = () =>
    new Promise<void>((resolve, reject) => {
      store = { resolve, reject };
    });
  const { c } = await client(t, s.port, 'node1', password);
  let acked = false;
  const pub = c.publishAsync('local/node1/radar', '{}', { qos: 1 }).then(() => (acked = true));
  await until('the broker hands the message on to be stored', () => store !== undefined);
  await never('a PUBACK while the message is not stored', () => acked, 300);
  t.notOk(acked, 'no PUBACK while the message is not stored');
  store!.resolve();
  await pub;
  t.ok(acked, 'PUBACK once stored');

  store = undefined;
  c.publish('local/node1/radar', '{}', { qos: 1 });
  await until('the second message handed on', () => store !== undefined);
  store!.reject(new Error('disk full'));
  await closed(c);
  t.notOk(c.connected, 'not stored: the node is disconnected unacknowledged (it re-sends on reconnect)');
});
