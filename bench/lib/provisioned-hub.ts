// A real central (in the bench's own process, not measured) with one claimed hub and its components,
// so a hub child process started with `env` provisions against it and runs every driver: what an
// installed hub does at idle. Shared by bench/hub-broker (the hub from dist/) and bench/footprint
// (the hub from the release bundle).
import 'reflect-metadata';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createAdmin } from '../../backend/admin-bootstrap.js';
import { startCentral } from '../../backend/central.js';
import { loadConfig } from '../../core/config.js';
import { HostRoot } from '../../core/host-root.js';
import { silentLogger } from '../../core/logger.js';
import { readBoardIdentity } from '../../daemon/identity/board.js';
import { enrollmentRecord, loadOrCreateIdentity } from '../../daemon/identity/identity.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The GPIO and host drivers a typical hub runs (all simulated or read from the fixture host root). */
export const BENCH_COMPONENTS = [
  { component_type: 'led', pin_number: 17 },
  { component_type: 'relay', pin_number: 27 },
  { component_type: 'button', pin_number: 23 },
  { component_type: 'pir', pin_number: 24 },
  { component_type: 'dht22', pin_number: 4 },
  { component_type: 'cpu_temp' },
  { component_type: 'system' },
];

export interface ProvisionedHub {
  /** The environment for `ares hub`: state dir, fixture host root, simulated GPIO, free ports. */
  env: NodeJS.ProcessEnv;
  /** True once a hub's output says every component started. */
  started(out: string): boolean;
  /** Attaches an IMU node, so the next hub start loads the fall model. */
  addImu(): Promise<void>;
  close(): Promise<void>;
}

export async function provisionedHub(dir: string): Promise<ProvisionedHub> {
  const config = loadConfig({
    env: {},
    overrides: {
      'central.data_dir': join(dir, 'central'),
      'central.port': 0,
      'central.mqtt_port': 0,
      'log.level': 'silent',
    },
  });
  const central = await startCentral(config, silentLogger());
  try {
    await createAdmin(config, silentLogger(), 'root@bench.invalid', 'root-password', central.ctx.db);
    const api = async (method: 'POST', url: string, payload: object, auth?: string) => {
      const res = await central.app.inject({
        method,
        url,
        payload,
        ...(auth ? { headers: { authorization: auth } } : {}),
      });
      if (res.statusCode >= 300) throw new Error(`${url}: ${res.statusCode} ${res.body}`);
      return res.json<Record<string, unknown>>();
    };
    const token = async (email: string, password: string) =>
      `Bearer ${(await api('POST', '/auth/login', { email, password }))['access_token'] as string}`;
    const admin = await token('root@bench.invalid', 'root-password');
    await api('POST', '/auth/register', { username: 'u', email: 'u@bench.invalid', password: 'user-password' });
    const user = await token('u@bench.invalid', 'user-password');

    const hostRoot = join(dir, 'host');
    cpSync(join(ROOT, 'tests/fixtures/hosts/pi4'), hostRoot, { recursive: true });
    for (const tree of ['thermal-pi4', 'iio-dht22', 'system-pi4'])
      cpSync(join(ROOT, 'tests/fixtures/hosts', tree), hostRoot, { recursive: true, force: true });
    writeFileSync(
      join(hostRoot, 'proc/cpuinfo'),
      'Serial\t\t: 10000000beefcafe\nModel\t\t: Raspberry Pi 4 Model B Rev 1.4\n',
    );
    const stateDir = join(dir, 'hub');
    const { identity } = loadOrCreateIdentity(stateDir, await readBoardIdentity(new HostRoot(hostRoot)), 'Standard');
    const rec = enrollmentRecord(identity);
    const device = await api('POST', '/api/devices/preregister', rec, admin);
    await api('POST', '/api/devices/claim', { cpu_serial: rec.cpu_serial, claim_code: rec.claim_code }, user);
    const componentsUrl = `/api/components/devices/${String(device['device_id'])}/components`;
    for (const c of BENCH_COMPONENTS) await api('POST', componentsUrl, c, user);
    return {
      env: {
        ...process.env,
        ARES_HUB_STATE_DIR: stateDir,
        ARES_HUB_HOST_ROOT: hostRoot,
        ARES_HUB_CENTRAL_URL: central.url,
        ARES_HUB_GPIO: 'sim',
        ARES_HUB_MQTT_PORT: '0',
        ARES_HUB_HTTP_PORT: '0',
        ARES_LOG_LEVEL: 'info',
      },
      started: (out) => (out.match(/"msg":"component started"/g) ?? []).length >= BENCH_COMPONENTS.length,
      addImu: async () => {
        await api('POST', componentsUrl, { component_type: 'imu', config: { node_id: 'pendant' } }, user);
      },
      close: () => central.close(),
    };
  } catch (err) {
    await central.close();
    throw err;
  }
}

/** Resident memory of a process, MB (/proc/PID/status VmRSS). */
export function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) / 1024;
}
