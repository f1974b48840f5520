import { cpSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import t, { type Test } from 'tap';
import { loadConfig } from '../../core/config.js';
import { HostRoot } from '../../core/host-root.js';
import { createLogger, silentLogger, type Logger } from '../../core/logger.js';
import { NodeRegistry } from '../../daemon/broker/nodes.js';
import { Hub } from '../../daemon/hub.js';
import { readBoardIdentity } from '../../daemon/identity/board.js';
import { enrollmentRecord, loadOrCreateIdentity } from '../../daemon/identity/identity.js';
import { openHubDb } from '../../daemon/state/hub-db.js';
import { SimGpioPort } from '../../drivers/gpio/sim.js';
import { json, newUser, startTestCentral, type TestCentral } from '../helpers/central.js';
import { fastWait, never, until } from '../helpers/wait.js';

/** A fixture Pi 4 with a serial of its own (in `dir`), so hubs in one run never collide. */
function hostRoot(dir: string): string {
  cpSync(new URL('../fixtures/hosts/pi4', import.meta.url).pathname, dir, { recursive: true });
  writeFileSync(
    join(dir, 'proc/cpuinfo'),
    `Serial\t\t: 10000000${Math.floor(Math.random() * 0xffffffff)
      .toString(16)
      .padStart(8, '0')}\n`,
  );
  return dir;
}

/** A logger whose lines the test reads (the hub's `provisioning: …` reports). */
function capture(): { log: Logger; messages: () => string[] } {
  const lines: { msg: string }[] = [];
  const log = createLogger('info', { write: (line: string) => void lines.push(JSON.parse(line) as { msg: string }) });
  return { log, messages: () => lines.map((l) => l.msg) };
}

/** How many requests central answered on `route` with `status` (its own request metrics). */
async function answered(c: TestCentral, method: string, route: string, status: number): Promise<number> {
  const metric = (await c.ctx.metrics.registry.getMetricsAsJSON()).find(
    (m) => m.name === 'ares_central_http_requests_total',
  );
  const series = metric?.values.find(
    (v) => v.labels['method'] === method && v.labels['route'] === route && v.labels['status'] === String(status),
  );
  return series?.value ?? 0;
}

async function setup(t: Test) {
  const c = await startTestCentral(t);
  const centralUrl = await c.app.listen({ host: '127.0.0.1', port: 0 });
  const owner = await newUser(c.app, 'owner');
  // One t.testdir() per test (a second call would empty the first).
  const dir = t.testdir();
  const stateDir = join(dir, 'state');
  mkdirSync(stateDir);
  const hostDir = join(dir, 'host');
  const config = loadConfig({
    env: {},
    overrides: {
      'hub.state_dir': stateDir,
      'hub.host_root': hostRoot(hostDir),
      'hub.central_url': centralUrl,
      'hub.components_poll_s': 1,
      'hub.gpio': 'sim',
      'hub.mqtt_port': 0,
      'hub.http_port': 0,
    },
  });
  // What `ares hub enroll` prints, preregistered by an admin.
  const { identity } = loadOrCreateIdentity(
    stateDir,
    await readBoardIdentity(new HostRoot(config.hub.host_root)),
    config.hub.hardware_variant,
  );
  const record = enrollmentRecord(identity);
  const pre = await c.app.inject({
    method: 'POST',
    url: '/api/devices/preregister',
    headers: c.adminAuth,
    payload: record,
  });
  if (pre.statusCode !== 201) throw new Error(pre.body);
  const newHub = (gpio = new SimGpioPort(), log = silentLogger()) => {
    const hub = new Hub(config, log, { gpio, lanHost: '127.0.0.1', wait: fastWait() });
    t.teardown(() => hub.stop());
    return hub;
  };
  const claim = (auth: Record<string, string>) =>
    c.app.inject({
      method: 'POST',
      url: '/api/devices/claim',
      headers: auth,
      payload: { cpu_serial: record.cpu_serial, claim_code: record.claim_code },
    });
  return { c, owner, stateDir, config, record, deviceId: json<{ device_id: number }>(pre).device_id, newHub, claim };
}

t.test(
  'hub end to end: enroll → preregister → claim → credentials → drivers → LAN broker → live changes',
  async (t) => {
    const s = await setup(t);
    const gpio = new SimGpioPort();
    const logs = capture();
    const hub = s.newHub(gpio, logs.log);
    await hub.start();
    t.equal(hub.status().deviceUuid, s.record.device_uuid, 'the hub uses the enrolled identity');
    // Central answers not_claimed and the hub keeps asking (every ≤ 50 ms here); it must stay unprovisioned.
    await until('central answered not_claimed', () =>
      logs.messages().includes('provisioning: waiting for the owner to claim this hub'),
    );
    const refusals = () => answered(s.c, 'POST', '/api/devices/credentials', 409);
    const refused = await refusals();
    await until('the hub asked twice more, refused each time', async () => (await refusals()) >= refused + 2);
    await never(
      'provisioned, or credentials on disk, before the owner claimed the hub',
      () => hub.status().provisioned || existsSync(join(s.stateDir, 'credentials.json')),
      300,
    );

    t.equal((await s.claim(s.owner.auth)).statusCode, 200);
    await until('credentials', () => hub.status().provisioned);
    t.equal(hub.status().deviceId, s.deviceId);
    for (const f of ['credentials.json', 'device-cert.pem', 'ca.pem'])
      t.equal(statSync(join(s.stateDir, f)).mode & 0o777, 0o600, `${f} is 0600`);
    await until('component list from central', () => hub.status().componentsSource === 'central');

    // A LAN client (a phone on the home Wi-Fi), allowed with `ares hub nodes add phone` while the hub runs.
    const db = openHubDb(s.stateDir);
    const { password } = await new NodeRegistry(db).add('phone');
    db.close();
    const phone = mqtt.connect(`mqtt://127.0.0.1:${hub.ports().mqtt}`, {
      username: 'phone',
      password,
      reconnectPeriod: 0,
    });
    t.teardown(() => phone.end(true));
    const messages: Record<string, string> = {};
    phone.on('message', (topic, payload) => (messages[topic] = payload.toString()));
    await new Promise((r) => phone.once('connect', r));
    await phone.subscribeAsync('telemetry/#');

    const ledStates: string[] = [];
    hub.pipeline.on('test', (o) => {
      if (o.componentType === 'led' && o.kind === 'state') ledStates.push(o.state!);
    });
    const add = await s.c.app.inject({
      method: 'POST',
      url: `/api/components/devices/${s.deviceId}/components`,
      headers: s.owner.auth,
      payload: { component_type: 'led', name: 'Hall', pin_number: 17, default_state: 'ON' },
    });
    t.equal(add.statusCode, 201);
    await until('the new led runs on the hub, no restart', () =>
      hub.status().runtime.some((x) => x.component_type === 'led' && x.health === 'ok'),
    );
    t.equal(gpio.level(17), 1, 'the driver drives the (simulated) pin');
    const topic = `telemetry/${s.owner.email}/${s.record.device_uuid}/led/status`;
    await until('state on the LAN broker', () => topic in messages);
    t.match(JSON.parse(messages[topic]!), { state: 'ON', name: 'Hall' }, 'retained state visible to LAN clients');
    // The hub polls the list every ≤ 50 ms: wait for unchanged answers (304), then watch the driver.
    const unchanged = () => answered(s.c, 'GET', '/api/components/devices/:device_id/components', 304);
    const polled = await unchanged();
    await until('the hub polled the unchanged list twice more (304)', async () => (await unchanged()) >= polled + 2);
    await never('the led driver restarted (a second state report)', () => ledStates.length !== 1, 300);
    t.same(ledStates, ['ON'], 'an unchanged list (304) does not restart the driver');
    await hub.runtime().command(json<{ id: number }>(add).id, { action: 'off' });
    t.equal(gpio.level(17), 0, 'commands reach the pin through the one entry point');
    await until('OFF on the broker', () => JSON.parse(messages[topic]!).state === 'OFF');

    const health = await fetch(`http://127.0.0.1:${hub.ports().http}/healthz`).then((r) => r.json());
    t.match(health, {
      status: 'ok',
      provisioned: true,
      central: { reachable: true },
      components: [{ component_type: 'led', health: 'ok' }],
    });

    // Central unreachable: a restarted hub starts from the cached list and keeps its credentials.
    await hub.stop();
    await s.c.app.close();
    const offline = s.newHub();
    await offline.start();
    t.equal(offline.status().componentsSource, 'cache', 'starts from the last good copy');
    t.match(offline.status().components, [{ component_type: 'led' }]);
    t.ok(offline.status().provisioned, 'credentials survive a restart');
    await until('led running offline', () =>
      offline.status().runtime.some((x) => x.component_type === 'led' && x.health === 'ok'),
    );
  },
);

t.test('hub: revoked credentials are wiped and provisioning starts again', async (t) => {
  const s = await setup(t);
  t.equal((await s.claim(s.owner.auth)).statusCode, 200);
  const hub = s.newHub();
  await hub.start();
  await until('provisioned', () => hub.status().provisioned && hub.status().componentsSource === 'central');

  t.equal(
    (await s.c.app.inject({ method: 'DELETE', url: `/api/devices/${s.deviceId}`, headers: s.owner.auth })).statusCode,
    204,
  );
  await until('credentials wiped', () => !hub.status().provisioned);
  t.notOk(existsSync(join(s.stateDir, 'credentials.json')), 'secret deleted from disk');
  t.notOk(existsSync(join(s.stateDir, 'device-cert.pem')), 'certificate deleted from disk');
  t.ok(existsSync(join(s.stateDir, 'device-key.pem')), 'the identity (key, label code) stays for the next owner');

  // The next owner claims it with the same label code; the hub picks that up by itself.
  const next = await newUser(s.c.app, 'next');
  t.equal((await s.claim(next.auth)).statusCode, 200);
  await until('provisioned again', () => hub.status().provisioned);
  const creds = JSON.parse(readFileSync(join(s.stateDir, 'credentials.json'), 'utf8')) as { user_email: string };
  t.equal(creds.user_email, next.email, 'credentials of the new owner');
});

t.test('hub: renews its certificate when fewer than 30 days remain', async (t) => {
  const s = await setup(t);
  t.equal((await s.claim(s.owner.auth)).statusCode, 200);
  const first = s.newHub();
  await first.start();
  await until('provisioned', () => first.status().provisioned && first.status().componentsSource === 'central');
  await first.stop();
  const before = JSON.parse(readFileSync(join(s.stateDir, 'credentials.json'), 'utf8')) as {
    device_certificate: string;
  };

  // 340 days later (the certificate is valid for a year): the hub renews at start-up.
  const { ManualClock } = await import('../../core/clock.js');
  const later = new Hub(s.config, silentLogger(), {
    gpio: new SimGpioPort(),
    lanHost: '127.0.0.1',
    wait: fastWait(),
    clock: new ManualClock(Date.now() + 340 * 86400_000),
  });
  t.teardown(() => later.stop());
  await later.start();
  const current = () =>
    (JSON.parse(readFileSync(join(s.stateDir, 'credentials.json'), 'utf8')) as { device_certificate: string })
      .device_certificate;
  await until('certificate renewed', () => current() !== before.device_certificate);
  const { X509Certificate } = await import('node:crypto');
  t.ok(
    Date.parse(new X509Certificate(current()).validTo) > Date.now() + 364 * 86400_000,
    'a fresh year, counted by central’s clock (the hub’s may be off)',
  );
  const issued = await s.c.ctx.db.kysely
    .selectFrom('device_certificates')
    .select('serial')
    .where('device_id', '=', s.deviceId)
    .execute();
  t.equal(issued.length, 2, 'central recorded the renewed certificate');
  t.equal(statSync(join(s.stateDir, 'credentials.json')).mode & 0o777, 0o600);
});
