import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import t from 'tap';
import { createAdmin } from '../../backend/admin-bootstrap.js';
import { startCentral } from '../../backend/central.js';
import { loadConfig } from '../../core/config.js';
import { HostRoot } from '../../core/host-root.js';
import { silentLogger } from '../../core/logger.js';
import { Hub } from '../../daemon/hub.js';
import { readBoardIdentity } from '../../daemon/identity/board.js';
import { enrollmentRecord, loadOrCreateIdentity } from '../../daemon/identity/identity.js';
import { SimGpioPort } from '../../drivers/gpio/sim.js';

async function until(what: string, cond: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 1500; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for: ${what}`);
}

t.test(
  'realtime: API command → hub → LED → state to the app; OFFLINE; commands held while the hub is away',
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'ares-realtime-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const hostRoot = join(dir, 'host');
    cpSync(new URL('../fixtures/hosts/pi4', import.meta.url).pathname, hostRoot, { recursive: true });
    writeFileSync(join(hostRoot, 'proc/cpuinfo'), 'Serial\t\t: 10000000feedf00d\n');
    const config = loadConfig({
      env: {},
      overrides: {
        'central.data_dir': join(dir, 'central'),
        'central.port': 0,
        'central.mqtt_port': 0,
        'hub.state_dir': join(dir, 'hub'),
        'hub.host_root': hostRoot,
        'hub.gpio': 'sim',
        'hub.mqtt_port': 0,
        'hub.http_port': 0,
        'hub.components_poll_s': 1,
        'log.level': 'silent',
      },
    });
    const central = await startCentral(config, silentLogger());
    t.teardown(() => central.close());
    const api = async (method: 'GET' | 'POST', url: string, payload?: object, auth?: string) => {
      const res = await central.app.inject({
        method,
        url,
        ...(payload ? { payload } : {}),
        ...(auth ? { headers: { authorization: auth } } : {}),
      });
      return { status: res.statusCode, body: res.json<Record<string, unknown>>() };
    };
    await createAdmin(config, silentLogger(), 'root@rt.test', 'root-password', central.ctx.db);
    const admin = `Bearer ${(await api('POST', '/auth/login', { email: 'root@rt.test', password: 'root-password' })).body['access_token'] as string}`;
    await api('POST', '/auth/register', { username: 'fam', email: 'fam@rt.test', password: 'family-password' });
    const token = (await api('POST', '/auth/login', { email: 'fam@rt.test', password: 'family-password' })).body[
      'access_token'
    ] as string;
    const user = `Bearer ${token}`;

    const { identity } = loadOrCreateIdentity(
      config.hub.state_dir,
      await readBoardIdentity(new HostRoot(hostRoot)),
      'Standard',
    );
    const rec = enrollmentRecord(identity);
    const deviceId = (await api('POST', '/api/devices/preregister', rec, admin)).body['device_id'] as number;
    await api('POST', '/api/devices/claim', { cpu_serial: rec.cpu_serial, claim_code: rec.claim_code }, user);
    const led = (
      await api(
        'POST',
        `/api/components/devices/${deviceId}/components`,
        { component_type: 'led', name: 'Hall', pin_number: 17 },
        user,
      )
    ).body;

    const hubConfig = { ...config, hub: { ...config.hub, central_url: central.url } };
    const gpio = new SimGpioPort();
    const fast = (ms: number, signal: AbortSignal) =>
      new Promise<void>((r) => {
        const tm = setTimeout(r, Math.min(ms, 100));
        signal.addEventListener('abort', () => (clearTimeout(tm), r()), { once: true });
      });
    let hub = new Hub(
      hubConfig,
      process.env['RT_DEBUG'] ? (await import('../../core/logger.js')).createLogger('debug') : silentLogger(),
      { gpio, lanHost: '127.0.0.1', wait: fast },
    );
    await hub.start();
    t.teardown(() => hub.stop());

    // The family's app watches the hub's state.
    const app: MqttClient = mqtt.connect(`mqtts://127.0.0.1:${central.mqttPort!}`, {
      username: 'fam@rt.test',
      password: token,
      ca: central.ctx.ca.certificatePem,
      reconnectPeriod: 0,
    });
    t.teardown(() => app.end(true));
    let state: Record<string, unknown> = {};
    app.on('message', (_topic, payload) => (state = JSON.parse(payload.toString()) as Record<string, unknown>));
    await new Promise((r) => app.once('connect', r));
    await app.subscribeAsync(`client/state/fam@rt.test/${rec.device_uuid}`);

    await until(
      'hub online with its led',
      () => state['device_status'] === 'ONLINE' && hub.status().runtime.some((c) => c.health === 'ok'),
    );
    const cmd = await api('POST', `/api/devices/${deviceId}/command`, { component_type: 'led', action: 'on' }, user);
    t.equal(cmd.status, 202);
    await until('LED on', () => gpio.level(17) === 1);
    await until('state reaches the app', () => state['led'] === 'ON');
    t.match(
      state,
      {
        device_status: 'ONLINE',
        components: { [String(led['id'])]: { component_type: 'led', name: 'Hall', state: 'ON' } },
        led: 'ON',
      },
      '§4.6 shape with the flat per-type key',
    );
    await until(
      'command done',
      async () =>
        (await api('GET', `/api/devices/${deviceId}/commands/${cmd.body['command_id'] as string}`, undefined, user))
          .body['status'] === 'done',
    );
    t.match(
      (await api('GET', `/api/devices/${deviceId}/commands/${cmd.body['command_id'] as string}`, undefined, user)).body,
      { status: 'done', result: { state: 'ON' } },
    );

    const bad = await api(
      'POST',
      `/api/devices/${deviceId}/command`,
      { component_type: 'led', action: 'explode' },
      user,
    );
    t.equal(bad.status, 422, 'actions are validated against the driver’s');
    t.equal(
      (await api('POST', `/api/devices/${deviceId}/command`, { component_type: 'pump', action: 'on' }, user)).status,
      422,
      'no such component',
    );

    // The hub goes away: the app hears OFFLINE; a command sent meanwhile waits for it.
    await hub.stop();
    await until('OFFLINE reaches the app', () => state['device_status'] === 'OFFLINE');
    t.equal(gpio.level(17), 0, 'a stopping hub leaves outputs off (safe state)');
    const held = await api('POST', `/api/devices/${deviceId}/command`, { component_type: 'led', action: 'on' }, user);
    t.equal(held.status, 202);
    t.equal(
      (await api('GET', `/api/devices/${deviceId}/commands/${held.body['command_id'] as string}`, undefined, user))
        .body['status'],
      'queued',
    );
    await new Promise((r) => setTimeout(r, 300));
    t.equal(gpio.level(17), 0, 'nothing happened while the hub was away');
    hub = new Hub(hubConfig, silentLogger(), { gpio, lanHost: '127.0.0.1', wait: fast });
    await hub.start();
    await until('held command delivered after reconnect', () => gpio.level(17) === 1);
    await until(
      'held command done',
      async () =>
        (await api('GET', `/api/devices/${deviceId}/commands/${held.body['command_id'] as string}`, undefined, user))
          .body['status'] === 'done',
    );
    await until('ONLINE again, state ON', () => state['device_status'] === 'ONLINE' && state['led'] === 'ON');
  },
);
