import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAdmin } from '../backend/admin-bootstrap.js';
import { startCentral } from '../backend/central.js';
import { loadConfig } from '../core/config.js';
import { AresError } from '../core/errors.js';
import { NodeRegistry } from '../daemon/broker/nodes.js';
import { Hub } from '../daemon/hub.js';
import { readBoardIdentity } from '../daemon/identity/board.js';
import { enrollmentRecord, loadOrCreateIdentity } from '../daemon/identity/identity.js';
import { SimHost } from '../daemon/sim/sim-host.js';
import { openHubDb } from '../daemon/state/hub-db.js';
import { HostRoot } from '../core/host-root.js';
import { SimGpioPort } from '../drivers/gpio/sim.js';
import { runUntilSignal, serviceLogger } from './runtime.js';

/** The components the demo attaches to its hub: one of every driver, on the default pin rules. */
const DEMO_COMPONENTS = [
  { component_type: 'led', name: 'Hall light', pin_number: 17 },
  { component_type: 'pump', name: 'Plant pump', pin_number: 22 },
  { component_type: 'button', name: 'Help button', pin_number: 23 },
  { component_type: 'pir', name: 'Hallway motion', pin_number: 24 },
  { component_type: 'dht22', name: 'Living room', pin_number: 4 },
  { component_type: 'cpu_temp', name: 'Hub CPU' },
  { component_type: 'system', name: 'Hub' },
];

/** Free ports unless the user chose them (ARES_* or the config file): 1883/8000/8080 may be taken. */
function portOverrides(file: string | undefined): Record<string, unknown> {
  const chosen = loadConfig({ ...(file ? { file } : {}) });
  const env = process.env;
  return {
    'central.host': '127.0.0.1',
    'central.port': env['ARES_CENTRAL_PORT'] ? chosen.central.port : 0,
    'central.mqtt_port': env['ARES_CENTRAL_MQTT_PORT'] ? chosen.central.mqtt_port : 0,
    'hub.mqtt_port': env['ARES_HUB_MQTT_PORT'] ? chosen.hub.mqtt_port : 0,
    'hub.http_port': env['ARES_HUB_HTTP_PORT'] ? chosen.hub.http_port : 0,
  };
}

/** `ares demo`: see demo-command.ts. */
export async function runDemo(values: Record<string, string | boolean | undefined>): Promise<number> {
  const file = typeof values['config'] === 'string' ? values['config'] : undefined;
  const dataDir = mkdtempSync(join(tmpdir(), 'ares-demo-'));
  const hostRoot = join(dataDir, 'hub-host-root');
  mkdirSync(hostRoot, { recursive: true });
  const config = loadConfig({
    ...(file ? { file } : {}),
    overrides: {
      ...portOverrides(file),
      'central.data_dir': join(dataDir, 'central'),
      'central.database': `sqlite:${join(dataDir, 'central', 'central.db')}`,
      'hub.state_dir': join(dataDir, 'hub'),
      'hub.host_root': hostRoot,
      'hub.gpio': 'sim',
      'hub.components_poll_s': 5,
    },
  });
  const log = serviceLogger(config);
  const central = await startCentral(config, log);
  const api = (method: 'GET' | 'POST', url: string, payload?: object, auth?: string) =>
    central.app.inject({
      method,
      url,
      ...(payload ? { payload } : {}),
      ...(auth ? { headers: { authorization: auth } } : {}),
    });
  const expect = async (what: string, res: Awaited<ReturnType<typeof api>>, status: number) => {
    if (res.statusCode !== status)
      throw new AresError('ARES_ERR_UNAVAILABLE', `demo: ${what} failed: ${res.statusCode} ${res.body}`);
    return res.json<Record<string, unknown>>();
  };

  // People: a prime_admin and the app user who owns the hub.
  const admin = { email: 'admin@demo.ares.invalid', password: randomBytes(12).toString('base64url') };
  const user = { email: 'family@demo.ares.invalid', password: randomBytes(12).toString('base64url') };
  await createAdmin(config, log, admin.email, admin.password, central.ctx.db);
  await expect('register', await api('POST', '/auth/register', { username: 'Demo family', ...user }), 201);
  const login = async (who: { email: string; password: string }) =>
    `Bearer ${(await expect('login', await api('POST', '/auth/login', who), 200))['access_token'] as string}`;
  const adminAuth = await login(admin);
  const userAuth = await login(user);

  // The hub: a simulated Pi 4, enrolled like `ares hub enroll`, preregistered, claimed, components attached.
  const sim = new SimHost(hostRoot, `10000000${randomBytes(4).toString('hex')}`);
  const gpio = new SimGpioPort();
  sim.start(gpio, { button: 23, pir: 24 });
  const board = await readBoardIdentity(new HostRoot(hostRoot));
  const { identity } = loadOrCreateIdentity(config.hub.state_dir, board, config.hub.hardware_variant);
  const record = enrollmentRecord(identity);
  const device = await expect('preregister', await api('POST', '/api/devices/preregister', record, adminAuth), 201);
  await expect(
    'claim',
    await api('POST', '/api/devices/claim', { cpu_serial: record.cpu_serial, claim_code: record.claim_code }, userAuth),
    200,
  );
  for (const c of DEMO_COMPONENTS)
    await expect(
      `attach ${c.component_type}`,
      await api('POST', `/api/components/devices/${String(device['device_id'])}/components`, c, userAuth),
      201,
    );
  const db = openHubDb(config.hub.state_dir);
  const watcher = await new NodeRegistry(db).add('demo-watcher');
  db.close();

  const hub = new Hub({ ...config, hub: { ...config.hub, central_url: central.url } }, log.child({ side: 'hub' }), {
    gpio,
    lanHost: '127.0.0.1',
  });
  await hub.start().catch(async (err: unknown) => {
    // The hub's own parts are unwound already; central and the simulated host must not keep the process.
    sim.stop();
    await central.close();
    throw err;
  });
  const { mqtt, http } = hub.ports();
  const info = {
    central: central.url,
    docs: `${central.url}/docs`,
    central_mqtt: central.mqttPort === undefined ? null : `mqtts://127.0.0.1:${central.mqttPort}`,
    admin,
    app_user: user,
    hub: {
      device_id: device['device_id'],
      device_uuid: record.device_uuid,
      health: `http://127.0.0.1:${http}/healthz`,
      mqtt: `mqtt://127.0.0.1:${mqtt}`,
    },
    watch: `mosquitto_sub -h 127.0.0.1 -p ${mqtt} -u demo-watcher -P '${watcher.password!}' -t 'telemetry/#' -v`,
    // What the family's app sees from central (TLS, central's CA; the token is valid for central.jwt_ttl_s).
    watch_app:
      central.mqttPort === undefined
        ? null
        : `mosquitto_sub -h 127.0.0.1 -p ${central.mqttPort} --cafile ${join(config.central.data_dir, 'ca', 'ca.crt')} -u ${user.email} -P '${userAuth.slice('Bearer '.length)}' -t 'client/state/${user.email}/${record.device_uuid}' -v`,
    command: `curl -s -X POST ${central.url}/api/devices/${String(device['device_id'])}/command -H 'authorization: ${userAuth}' -H 'content-type: application/json' -d '{"component_type":"led","action":"toggle"}'`,
    try: `curl -s ${central.url}/api/devices -H "authorization: $(curl -s ${central.url}/auth/login -H 'content-type: application/json' -d '{"email":"${user.email}","password":"${user.password}"}' | python3 -c 'import sys,json;print("Bearer "+json.load(sys.stdin)["access_token"])')"`,
    data_dir: dataDir,
  };
  process.stderr.write(`\nAres demo is running (Ctrl-C stops it):\n${JSON.stringify(info, null, 2)}\n\n`);
  return runUntilSignal(log, async () => {
    sim.stop();
    await hub.stop();
    await central.close();
  });
}
