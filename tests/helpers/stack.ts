import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAdmin } from '../../backend/admin-bootstrap.js';
import { startCentral } from '../../backend/central.js';
import { loadConfig, type AresConfig } from '../../core/config.js';
import { HostRoot } from '../../core/host-root.js';
import { silentLogger } from '../../core/logger.js';
import { readBoardIdentity } from '../../daemon/identity/board.js';
import { Hub, type HubDeps } from '../../daemon/hub.js';
import { enrollmentRecord, loadOrCreateIdentity } from '../../daemon/identity/identity.js';
import { SimGpioPort } from '../../drivers/gpio/sim.js';
import { fastWait } from './wait.js';

type Teardown = { teardown(fn: () => unknown): void };

/**
 * A real central (HTTP and MQTT on free ports) and an enrolled hub (fixture Pi 4 with its own serial)
 * that an admin preregistered and a family user claimed: the starting point of realtime tests.
 */
export async function startStack(
  t: Teardown,
  overrides: Record<string, unknown> = {},
  /** Runs before central starts: an external broker set up the way the README has operators do it. */
  beforeCentral?: (config: AresConfig) => Promise<void>,
) {
  const dir = mkdtempSync(join(tmpdir(), 'ares-stack-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const hostRoot = join(dir, 'host');
  cpSync(new URL('../fixtures/hosts/pi4', import.meta.url).pathname, hostRoot, { recursive: true });
  writeFileSync(join(hostRoot, 'proc/cpuinfo'), `Serial\t\t: 10000000${randomBytes(4).toString('hex')}\n`);
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
      ...overrides,
    },
  });
  await beforeCentral?.(config);
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
  const login = async (email: string, password: string) =>
    (await api('POST', '/auth/login', { email, password })).body['access_token'] as string;
  await createAdmin(config, silentLogger(), 'root@stack.test', 'root-password', central.ctx.db);
  const admin = `Bearer ${await login('root@stack.test', 'root-password')}`;
  const userEmail = 'family@stack.test';
  await api('POST', '/auth/register', { username: 'family', email: userEmail, password: 'family-password' });
  const token = await login(userEmail, 'family-password');
  const user = `Bearer ${token}`;

  const { identity } = loadOrCreateIdentity(
    config.hub.state_dir,
    await readBoardIdentity(new HostRoot(hostRoot)),
    'Standard',
  );
  const rec = enrollmentRecord(identity);
  const deviceId = (await api('POST', '/api/devices/preregister', rec, admin)).body['device_id'] as number;
  await api('POST', '/api/devices/claim', { cpu_serial: rec.cpu_serial, claim_code: rec.claim_code }, user);
  const hubConfig = { ...config, hub: { ...config.hub, central_url: central.url } };
  return { config, hubConfig, central, api, admin, user, token, userEmail, rec, deviceId };
}

/**
 * A hub for tests: simulated GPIO, LAN listeners on loopback, the production retry loops with short
 * waits; started, and stopped at teardown. `deps` overrides any of these.
 */
export async function startHub(t: Teardown, config: AresConfig, deps: HubDeps = {}): Promise<Hub> {
  const hub = new Hub(config, silentLogger(), {
    gpio: new SimGpioPort(),
    lanHost: '127.0.0.1',
    wait: fastWait(100),
    ...deps,
  });
  t.teardown(() => hub.stop());
  await hub.start();
  return hub;
}
