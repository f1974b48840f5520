import t, { type Test } from 'tap';
import { csrFor, signedInject } from '../helpers/central.js';
import { OPENSSL_SKIP, selfSignedCert } from '../helpers/openssl.js';
import {
  appLogin,
  closed,
  connect,
  newUser,
  provisioned,
  realtimeTargets,
  suback,
  type RealtimeSetup,
  type RealtimeTarget,
} from '../helpers/realtime-targets.js';
import { never, until } from '../helpers/wait.js';

/*
 * The realtime channel's access control, state and presence, run unchanged on every target: the
 * embedded broker with state in memory, the same with state in Redis, and an external Mosquitto
 * managed through its dynamic-security plugin.
 */

type Device = Awaited<ReturnType<typeof provisioned>>;
type State = Record<string, unknown>;

/** A device connected as the hub connects: its certificate, the OFFLINE will, subscribed, ONLINE. */
async function hubConnect(t: Test, s: RealtimeSetup, dev: Device) {
  const { c, error } = await connect(t, s.devicePort, {
    cert: dev.cert,
    key: dev.key,
    ca: s.ca,
    will: { topic: `devices/${dev.uuid}/status`, payload: Buffer.from('OFFLINE'), qos: 1, retain: true },
  });
  if (error) throw error;
  const commands: { topic: string; payload: string }[] = [];
  c.on('message', (topic, payload) => commands.push({ topic, payload: payload.toString() }));
  await c.subscribeAsync(`commands/${dev.uuid}/#`, { qos: 1 });
  await c.publishAsync(`devices/${dev.uuid}/status`, 'ONLINE', { qos: 1, retain: true });
  return { c, commands };
}

/** An app logged in with short-lived credentials, watching one device's state. */
async function appWatch(
  t: Test,
  s: RealtimeSetup,
  user: { email: string; auth: Record<string, string> },
  uuid: string,
) {
  const login = await appLogin(s.c, user.auth);
  const { c, error } = await connect(t, s.appPort, { ...login, ca: s.ca });
  if (error) throw error;
  const seen: State[] = [];
  c.on('message', (_topic, p) => seen.push(JSON.parse(p.toString()) as State));
  const granted = await suback(c, `client/state/${user.email}/${uuid}`);
  return { c, granted, seen, last: () => seen.at(-1) ?? {} };
}

/** Refused at the handshake, or — Mosquitto, certificate identity — dropped and allowed nothing. */
async function refusedDevice(t: Test, s: RealtimeSetup, target: RealtimeTarget, opts: object, uuid: string) {
  const { c, error } = await connect(t, s.devicePort, { ...opts, ca: s.ca });
  if (error) return true;
  if (!target.external) return false;
  return (await suback(c, `commands/${uuid}/#`)) === 128;
}

async function suite(t: Test, target: RealtimeTarget) {
  t.test('devices: certificate from central’s CA, CN = uuid, per-device ACL', async (t) => {
    const s = await target.setup(t);
    const owner = await newUser(s.c.app);
    const a = await provisioned(s.c, owner.auth);
    const b = await provisioned(s.c, owner.auth);
    const { c, error } = await connect(t, s.devicePort, { cert: a.cert, key: a.key, ca: s.ca });
    t.notOk(error, 'a provisioned device connects with its certificate');
    t.equal(await suback(c, `commands/${a.uuid}/#`), 0, 'its own commands');
    t.equal(await suback(c, `commands/${b.uuid}/#`), 128, 'not another device’s commands');
    t.equal(await suback(c, '#'), 128, 'not everything');
    t.equal(await suback(c, `client/state/${owner.email}/${a.uuid}`), 128, 'not the apps’ topics');
    const spoof = JSON.stringify({ components: { '1': { component_type: 'led', name: 'x', state: 'ON' } } });
    c.publish(`devices/${b.uuid}/state`, spoof, { qos: 1 });
    c.publish(`client/state/${owner.email}/${b.uuid}`, spoof, { qos: 1 });
    if (target.external) {
      // Mosquitto drops a refused publish silently; what follows on the connection shows it was read.
      await c.publishAsync(`devices/${a.uuid}/state`, spoof, { qos: 1 });
      await until(
        'own state recorded',
        async () => Object.keys((await s.channel.realtime.view(a.uuid))['components'] as object).length === 1,
      );
    } else {
      await closed(c);
      t.notOk(c.connected, 'publishing as another device disconnects it');
    }
    t.same((await s.channel.realtime.view(b.uuid))['components'], {}, 'the spoofed state never reached central');
  });

  t.test(
    'refused: another CA, an expired certificate, a revoked one; revocation drops live connections',
    { skip: OPENSSL_SKIP },
    async (t) => {
      const s = await target.setup(t);
      const owner = await newUser(s.c.app);
      const a = await provisioned(s.c, owner.auth);
      const foreign = selfSignedCert(t, a.uuid);
      t.ok(
        (await connect(t, s.devicePort, { cert: foreign.cert, key: foreign.key, ca: s.ca })).error,
        'certificate from another CA',
      );
      // Issued 400 days ago: expired, though never revoked.
      const old = await s.c.ctx.ca.signDeviceCsr(await csrFor(a.hub), a.uuid, new Date(Date.now() - 400 * 86400_000));
      const { recordCertificate } = await import('../../backend/store/devices.js');
      await recordCertificate(s.c.ctx.db.kysely, a.deviceId, old, Date.now());
      t.ok((await connect(t, s.devicePort, { cert: old.pem, key: a.key, ca: s.ca })).error, 'expired certificate');

      const live = await hubConnect(t, s, a);
      const res = await s.c.app.inject({ method: 'DELETE', url: `/api/devices/${a.deviceId}`, headers: owner.auth });
      t.equal(res.statusCode, 204);
      await closed(live.c);
      t.notOk(live.c.connected, 'unlinking drops the connected device at once');
      t.ok(await refusedDevice(t, s, target, { cert: a.cert, key: a.key }, a.uuid), 'and its certificate is refused');
    },
  );

  t.test('apps: short-lived credentials; only the state of devices they own or view', async (t) => {
    const s = await target.setup(t);
    const owner = await newUser(s.c.app, 'owner');
    const other = await newUser(s.c.app, 'other');
    const mine = await provisioned(s.c, owner.auth);
    const theirs = await provisioned(s.c, other.auth);
    const login = await appLogin(s.c, owner.auth);
    const { c, error } = await connect(t, s.appPort, { ...login, ca: s.ca });
    t.notOk(error, 'the app connects with them');
    t.equal(await suback(c, `client/state/${owner.email}/${mine.uuid}`), 0, 'its own device');
    t.equal(await suback(c, `client/state/${owner.email}/${theirs.uuid}`), 128, 'another user’s device');
    t.equal(await suback(c, `client/state/${other.email}/${theirs.uuid}`), 128, 'another user’s topic');
    t.equal(await suback(c, 'client/state/#'), 128, 'wildcards');
    t.equal(await suback(c, `commands/${mine.uuid}/#`), 128, 'not the devices’ topics');
    await c.publishAsync(`client/request_state/${owner.email}/${mine.uuid}`, '', { qos: 1 });
    t.ok(c.connected, 'may ask for its own device’s state');

    t.ok(
      (await connect(t, s.appPort, { username: login.username, password: 'wrong', ca: s.ca })).error,
      'wrong password',
    );
    t.ok(
      (await connect(t, s.appPort, { username: 'app-000000000000000000000000', password: 'x', ca: s.ca })).error,
      'unknown login',
    );
    t.ok((await connect(t, s.appPort, { ca: s.ca })).error, 'anonymous');
    s.c.clock.advance(3601_000);
    await s.channel.housekeeping();
    t.ok((await connect(t, s.appPort, { ...login, ca: s.ca })).error, 'expired after an hour');
  });

  t.test('state reaches owners and viewers; a removed viewer hears no more', async (t) => {
    const s = await target.setup(t);
    const owner = await newUser(s.c.app, 'owner');
    const viewer = await newUser(s.c.app, 'viewer');
    const dev = await provisioned(s.c, owner.auth);
    const add = await s.c.app.inject({
      method: 'POST',
      url: `/api/devices/${dev.deviceId}/members`,
      headers: owner.auth,
      payload: { email: viewer.email, role: 'viewer' },
    });
    t.equal(add.statusCode, 201);
    const ownerApp = await appWatch(t, s, owner, dev.uuid);
    const viewerApp = await appWatch(t, s, viewer, dev.uuid);
    t.equal(viewerApp.granted, 0, 'a viewer may watch');
    const hub = await hubConnect(t, s, dev);
    const led = (state: string) =>
      hub.c.publishAsync(
        `devices/${dev.uuid}/state`,
        JSON.stringify({ components: { '7': { component_type: 'led', name: 'Hall', state } } }),
        { qos: 1 },
      );
    await led('ON');
    await until('owner sees ON', () => ownerApp.last()['led'] === 'ON');
    await until('viewer sees ON', () => viewerApp.last()['led'] === 'ON');
    t.match(ownerApp.last(), { device_status: 'ONLINE', components: { '7': { component_type: 'led', name: 'Hall' } } });

    const gone = await s.c.app.inject({
      method: 'DELETE',
      url: `/api/devices/${dev.deviceId}/members/${viewer.id}`,
      headers: owner.auth,
    });
    t.equal(gone.statusCode, 204);
    await led('OFF');
    // The owner's copy has arrived; the viewer's, if central still sent one, would come with it.
    await until('owner sees OFF', () => ownerApp.last()['led'] === 'OFF');
    await never('the removed viewer receives OFF', () => viewerApp.seen.some((x) => x['led'] === 'OFF'), 300);
    t.not(viewerApp.last()['led'], 'OFF', 'the removed viewer no longer receives the device’s state');
    const again = await appWatch(t, s, viewer, dev.uuid);
    t.equal(again.granted, 128, 'nor may subscribe to it again');
  });

  t.test('synced records update the state apps see, never over a fresher live state', async (t) => {
    const s = await target.setup(t);
    const owner = await newUser(s.c.app);
    const dev = await provisioned(s.c, owner.auth);
    const app = await appWatch(t, s, owner, dev.uuid);
    const T = Date.UTC(2026, 10, 23, 12);
    let seq = 0;
    const sync = async (records: object[]) => {
      const body = Buffer.from(
        JSON.stringify({
          device_uuid: dev.uuid,
          boot_id: '0a1b2c3d-4e5f-4071-8293-a4b5c6d7e8f9',
          records: records.map((r) => ({ seq: ++seq, mono_ms: seq, clock_synced: true, ...r })),
        }),
      );
      const res = await signedInject(s.c, dev.hub, {
        method: 'POST',
        url: '/api/sync/batches',
        body,
        secret: dev.secret,
      });
      t.equal(res.statusCode, 200, res.body);
    };
    const reading = (metric: string, value: number, ts: number) => ({
      lane: 'telemetry',
      type: 'reading',
      component_type: 'dht22',
      component_id: '3',
      metric,
      value,
      ts,
    });
    // The hub was offline: its backlog alone tells apps the latest values.
    await sync([
      reading('temperature', 20, T),
      reading('humidity', 40, T + 1000),
      reading('temperature', 21, T + 2000),
    ]);
    await until('the app sees the synced readings', () => {
      const c = (app.last()['components'] as Record<string, { state?: Record<string, number> }> | undefined)?.['3'];
      return c?.state?.['temperature'] === 21 && c.state['humidity'] === 40;
    });
    t.match(app.last(), { device_status: 'OFFLINE', dht22: { temperature: 21, humidity: 40 } });

    // Back online: the live channel says temperature 25 as of T+10s; an older backlog arrives after.
    const hub = await hubConnect(t, s, dev);
    await hub.c.publishAsync(
      `devices/${dev.uuid}/state`,
      JSON.stringify({
        components: {
          '3': { component_type: 'dht22', name: 'Hall', state: { temperature: 25, humidity: 45 }, at: T + 10_000 },
        },
      }),
      { qos: 1 },
    );
    await until(
      'the app sees the live state',
      () => (app.last()['dht22'] as { temperature?: number })?.temperature === 25,
    );
    const pushes = app.seen.length;
    await sync([reading('temperature', 22, T + 5000)]);
    await sync([
      {
        lane: 'event',
        type: 'state',
        component_type: 'led',
        component_id: '7',
        data: { state: 'ON' },
        ts: T + 6000,
      },
    ]);
    await until('the app sees the synced LED', () => app.last()['led'] === 'ON');
    t.equal(app.seen.length, pushes + 1, 'the older reading changed nothing and pushed nothing');
    t.match(app.last(), { device_status: 'ONLINE', dht22: { temperature: 25, humidity: 45 } });
    await sync([reading('temperature', 26.5, T + 11_000)]);
    await until(
      'a newer synced reading applies',
      () => (app.last()['dht22'] as { temperature?: number })?.temperature === 26.5,
    );
    t.match(app.last(), { components: { '3': { name: 'Hall', state: { humidity: 45 }, at: T + 11_000 } } });
  });

  t.test('a fall alert reaches apps in client/state; ack and cancel update it; the hub hears the cancel', async (t) => {
    const s = await target.setup(t);
    const owner = await newUser(s.c.app);
    const dev = await provisioned(s.c, owner.auth);
    const app = await appWatch(t, s, owner, dev.uuid);
    const hub = await hubConnect(t, s, dev);
    const res = await signedInject(s.c, dev.hub, {
      method: 'POST',
      url: '/api/sync/batches',
      body: Buffer.from(
        JSON.stringify({
          device_uuid: dev.uuid,
          boot_id: '0a1b2c3d-4e5f-4071-8293-a4b5c6d7e8f9',
          records: [
            {
              seq: 1,
              mono_ms: 1,
              clock_synced: true,
              lane: 'alert',
              type: 'alert',
              ts: Date.now(),
              component_type: 'imu',
              component_id: '4',
              metric: 'fall_detected',
              data: { alert_id: 'fall-rt', node_id: 'pendant', prob: 0.98 },
            },
          ],
        }),
      ),
      secret: dev.secret,
    });
    t.equal(res.statusCode, 200, res.body);
    const alerts = () => (app.last()['alerts'] ?? []) as { id: string; status: string }[];
    await until('the app sees the open alert', () => alerts()[0]?.status === 'open');
    t.match(alerts(), [{ id: 'fall-rt', type: 'fall', node_id: 'pendant', prob: 0.98, escalation: 0 }]);
    const act = (action: string) =>
      s.c.app.inject({
        method: 'POST',
        url: `/api/devices/${dev.deviceId}/alerts/fall-rt/${action}`,
        headers: owner.auth,
      });
    t.equal((await act('ack')).statusCode, 200);
    await until('acknowledged', () => alerts()[0]?.status === 'acknowledged');
    t.equal((await act('cancel')).statusCode, 200);
    await until('no alert left open', () => alerts().length === 0);
    await until('the hub is told to stand its alarm down', () =>
      hub.commands.some((c) => c.topic === `commands/${dev.uuid}/system/cancel_alert`),
    );
    const cmd = hub.commands.find((c) => c.topic.endsWith('/cancel_alert'))!;
    t.match(JSON.parse(cmd.payload), { value: { alert_id: 'fall-rt', by: owner.email } });
  });

  t.test('presence: ONLINE, OFFLINE when the hub vanishes, full state on request; hostile payloads', async (t) => {
    const s = await target.setup(t);
    const owner = await newUser(s.c.app);
    const dev = await provisioned(s.c, owner.auth);
    const app = await appWatch(t, s, owner, dev.uuid);
    const hub = await hubConnect(t, s, dev);
    await hub.c.publishAsync(
      `devices/${dev.uuid}/state`,
      JSON.stringify({ components: { '9': { component_type: 'led', name: 'Hall', state: 'ON' } } }),
      { qos: 1 },
    );
    await until('ONLINE with the led ON', () => app.last()['device_status'] === 'ONLINE' && app.last()['led'] === 'ON');
    hub.c.stream.destroy(); // the power cable, not a clean disconnect
    await until('OFFLINE', () => app.last()['device_status'] === 'OFFLINE');
    const before = app.seen.length;
    await app.c.publishAsync(`client/request_state/${owner.email}/${dev.uuid}`, '', { qos: 1 });
    await until('state on request', () => app.seen.length > before);
    t.match(
      app.last(),
      { device_status: 'OFFLINE', components: { '9': { state: 'ON' } } },
      'request_state pushes the full state at once',
    );
    const again = await hubConnect(t, s, dev);
    for (const p of [
      '{',
      '[]',
      'null',
      JSON.stringify({ components: { x: 1, '1': null, '2': { component_type: 7 } } }),
      'x'.repeat(70_000),
    ])
      await again.c.publishAsync(`devices/${dev.uuid}/state`, p, { qos: 1 });
    await again.c.publishAsync(
      `devices/${dev.uuid}/results`,
      JSON.stringify({ command_id: "' OR 1=1", status: 'done' }),
      {
        qos: 1,
      },
    );
    await until('ONLINE again', () => app.last()['device_status'] === 'ONLINE');
    t.ok(again.c.connected, 'still connected and served');
    t.same(Object.keys((await s.channel.realtime.view(dev.uuid))['components'] as object), ['9'], 'nothing bad stored');
  });

  t.test(
    'presence: connected but silent past central.presence_timeout_s is TIMEOUT; speaking again is ONLINE',
    async (t) => {
      const s = await target.setup(t, { 'central.presence_timeout_s': 30 });
      const owner = await newUser(s.c.app);
      const dev = await provisioned(s.c, owner.auth);
      const app = await appWatch(t, s, owner, dev.uuid);
      const hub = await hubConnect(t, s, dev);
      const status = async () => (await s.channel.realtime.view(dev.uuid))['device_status'];
      await until('ONLINE', async () => (await status()) === 'ONLINE');
      s.c.clock.advance(29_000);
      await s.channel.realtime.sweepPresence();
      t.equal(await status(), 'ONLINE', 'within the limit');
      s.c.clock.advance(2_000);
      await s.channel.realtime.sweepPresence();
      t.equal(await status(), 'TIMEOUT', 'silent past the limit while still connected');
      await until('the app hears TIMEOUT', () => app.last()['device_status'] === 'TIMEOUT');
      t.ok(hub.c.connected);
      await hub.c.publishAsync(`devices/${dev.uuid}/state`, JSON.stringify({ components: {} }), { qos: 1 });
      await until('a message ends the TIMEOUT', () => app.last()['device_status'] === 'ONLINE');
    },
  );

  t.test('commands: held while the hub is away, delivered once when it listens again', async (t) => {
    const s = await target.setup(t);
    const owner = await newUser(s.c.app);
    const dev = await provisioned(s.c, owner.auth);
    const attach = await s.c.app.inject({
      method: 'POST',
      url: `/api/components/devices/${dev.deviceId}/components`,
      headers: owner.auth,
      payload: { component_type: 'led', name: 'Hall', pin_number: 17 },
    });
    t.equal(attach.statusCode, 201);
    const send = async () => {
      const res = await s.c.app.inject({
        method: 'POST',
        url: `/api/devices/${dev.deviceId}/command`,
        headers: owner.auth,
        payload: { component_type: 'led', action: 'on' },
      });
      t.equal(res.statusCode, 202);
      return res.json<{ command_id: string }>().command_id;
    };
    const statusOf = async (id: string) =>
      (
        await s.c.app.inject({ method: 'GET', url: `/api/devices/${dev.deviceId}/commands/${id}`, headers: owner.auth })
      ).json<{ status: string }>().status;

    const held = await send();
    t.equal(await statusOf(held), 'queued', 'nobody listening: held');
    const hub = await hubConnect(t, s, dev);
    await until('held command delivered', () => hub.commands.length === 1);
    t.match(hub.commands[0], { topic: new RegExp(`^commands/${dev.uuid}/\\d+/on$`) });
    t.equal(JSON.parse(hub.commands[0]!.payload).command_id, held);
    t.equal(await statusOf(held), 'delivered');
    await hub.c.publishAsync(
      `devices/${dev.uuid}/results`,
      JSON.stringify({ command_id: held, status: 'done', result: { state: 'ON' } }),
      { qos: 1 },
    );
    await until('done', async () => (await statusOf(held)) === 'done');

    const live = await send();
    await until('a live command goes straight out', () => hub.commands.length === 2);
    t.equal(JSON.parse(hub.commands[1]!.payload).command_id, live);
    await until('the live command is recorded delivered', async () => (await statusOf(live)) === 'delivered');
    await never('a command delivered a second time', () => hub.commands.length > 2, 300);
    t.equal(hub.commands.length, 2, 'each command delivered once');
  });
}

for (const target of await realtimeTargets()) t.test(target.name, { skip: target.skip }, (t) => suite(t, target));
