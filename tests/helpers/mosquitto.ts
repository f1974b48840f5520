import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeBrokerCertificate } from '../../backend/ca/broker-cert.js';
import { startRealtimeChannel } from '../../backend/mqtt/channel.js';
import type { AresConfig } from '../../core/config.js';
import { startTestCentral } from './central.js';
import { REDIS_URL, redisPrefix } from './redis.js';
import { freePort } from './sync-central.js';
import type { RealtimeSetup, RealtimeTarget } from './realtime-targets.js';

type Teardown = { teardown(fn: () => unknown): void };

const PLUGIN_PATHS = [
  '/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so',
  '/usr/lib/aarch64-linux-gnu/mosquitto_dynamic_security.so',
  '/usr/lib/mosquitto_dynamic_security.so',
  '/usr/local/lib/mosquitto_dynamic_security.so',
];
const MOSQUITTO = process.env['ARES_TEST_MOSQUITTO'] ?? 'mosquitto';

function dynsecPlugin(): string | undefined {
  return process.env['ARES_TEST_MOSQUITTO_DYNSEC'] ?? PLUGIN_PATHS.find((p) => existsSync(p));
}

/** Undefined when mosquitto ≥ 2 with the dynamic-security plugin is here; otherwise why not. CI must have it. */
export function mosquittoProblem(): string | undefined {
  let problem: string | undefined;
  try {
    execFileSync('mosquitto_ctrl', ['--help'], { stdio: 'ignore' });
  } catch (err) {
    // mosquitto_ctrl --help exits 1 after printing its usage: only a missing binary is a problem.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') problem = 'mosquitto_ctrl not installed';
  }
  if (!problem && !dynsecPlugin()) problem = 'the mosquitto dynamic-security plugin was not found';
  if (!problem) return undefined;
  if (process.env['CI']) throw new Error(`CI requires mosquitto with its dynamic-security plugin: ${problem}`);
  return `${problem}; install Debian's mosquitto package (or set ARES_TEST_MOSQUITTO_DYNSEC to the plugin) to run these`;
}

export interface RunningMosquitto {
  appPort: number;
  devicePort: number;
  adminUser: string;
  adminPassword: string;
}

/**
 * A mosquitto of the test's own, configured as README's "External broker" section says: a password
 * listener (central, apps) and a client-certificate listener (hubs, use_identity_as_username), both
 * TLS with a server certificate and client CA from central, and the dynamic-security plugin
 * initialised with central's admin login.
 */
export async function startMosquitto(
  t: Teardown,
  tls: { ca: string; cert: string; key: string },
  at: RunningMosquitto,
): Promise<void> {
  const { appPort, devicePort, adminUser, adminPassword } = at;
  const dir = mkdtempSync(join(tmpdir(), 'ares-mosquitto-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, body: string) => (writeFileSync(join(dir, name), body, { mode: 0o600 }), join(dir, name));
  const ca = file('ca.pem', tls.ca);
  const cert = file('server.pem', tls.cert);
  const key = file('server.key', tls.key);
  execFileSync('mosquitto_ctrl', ['dynsec', 'init', join(dir, 'dynsec.json'), adminUser, adminPassword], {
    stdio: 'ignore',
  });
  const conf = file(
    'mosquitto.conf',
    [
      // Run as whoever runs the tests: as root, mosquitto would otherwise switch to its own user,
      // which cannot read this directory.
      ...(process.getuid?.() === 0 ? ['user root'] : []),
      'per_listener_settings false',
      `plugin ${dynsecPlugin()!}`,
      `plugin_opt_config_file ${join(dir, 'dynsec.json')}`,
      'persistence false',
      'log_dest stderr',
      // ARES_TEST_MOSQUITTO_LOG=<dir>: every broker's full log, one file each, for debugging.
      ...(process.env['ARES_TEST_MOSQUITTO_LOG']
        ? ['log_type all', `log_dest file ${join(process.env['ARES_TEST_MOSQUITTO_LOG'], `mosquitto-${appPort}.log`)}`]
        : ['log_type error', 'log_type warning']),
      `listener ${appPort} 127.0.0.1`,
      `cafile ${ca}`,
      `certfile ${cert}`,
      `keyfile ${key}`,
      'require_certificate false',
      `listener ${devicePort} 127.0.0.1`,
      `cafile ${ca}`,
      `certfile ${cert}`,
      `keyfile ${key}`,
      'require_certificate true',
      'use_identity_as_username true',
      '',
    ].join('\n'),
  );
  const proc = spawn(MOSQUITTO, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let stopping = false;
  proc.once('exit', (code, signal) => {
    if (!stopping) process.stderr.write(`mosquitto on ${appPort} exited (${code ?? signal}): ${stderr}\n`);
  });
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null) return resolve();
        proc.once('exit', () => resolve());
        stopping = true;
        proc.kill('SIGTERM');
      }),
  );
  // Ready once both listeners accept connections.
  const { connect } = await import('node:net');
  const deadline = Date.now() + 10_000;
  for (const port of [appPort, devicePort]) {
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`mosquitto exited: ${stderr}`);
      const up = await new Promise<boolean>((resolve) => {
        const s = connect(port, '127.0.0.1', () => (s.destroy(), resolve(true)));
        s.once('error', () => resolve(false));
      });
      if (up) break;
      if (Date.now() > deadline) throw new Error(`mosquitto did not start: ${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** Where a test's mosquitto will listen, and central's admin login on it. */
export async function mosquittoPlan(): Promise<RunningMosquitto> {
  return {
    appPort: await freePort(),
    devicePort: await freePort(),
    adminUser: 'ares-central',
    adminPassword: randomBytes(12).toString('hex'),
  };
}

async function external(t: Teardown, overrides: Record<string, unknown>): Promise<RealtimeSetup> {
  const m = await mosquittoPlan();
  // Central first (its CA signs the broker's certificate), then the broker, then the channel.
  const c = await startTestCentral(t, undefined, {
    'central.mqtt_url': `mqtts://${m.adminUser}:${m.adminPassword}@127.0.0.1:${m.appPort}`,
    'central.mqtt_device_url': `mqtts://127.0.0.1:${m.devicePort}`,
    ...overrides,
  });
  // The files `ares central broker-cert` writes, as the README has operators do.
  const files = await writeBrokerCertificate(c.ctx.config, ['localhost', '127.0.0.1'], join(c.dataDir, 'broker'));
  const read = (f: string) => readFileSync(f, 'utf8');
  await startMosquitto(t, { ca: read(files.ca), cert: read(files.cert), key: read(files.key) }, m);
  const channel = await startRealtimeChannel(c.ctx, '127.0.0.1');
  t.teardown(() => channel.stop());
  return { c, channel, devicePort: m.devicePort, appPort: m.appPort, ca: c.ctx.ca.certificatePem };
}

export function mosquittoTargets(redisSkip: string | undefined): RealtimeTarget[] {
  const skip = mosquittoProblem() ?? false;
  return [
    { name: 'external Mosquitto, state in memory', skip, external: true, setup: (t, o = {}) => external(t, o) },
    {
      name: 'external Mosquitto, state in Redis',
      skip: skip || (redisSkip ?? false),
      external: true,
      setup: (t, o = {}) =>
        external(t, { 'central.redis_url': REDIS_URL, 'central.redis_prefix': redisPrefix(), ...o }),
    },
  ];
}

/**
 * Settings and a start-up step for a whole central (startStack) on a mosquitto of the test's own:
 * `ares central broker-cert` writes the broker's files (creating central's CA in its data_dir), the
 * broker starts, then central connects to it.
 */
export async function externalBrokerStack(
  t: Teardown,
): Promise<{ overrides: Record<string, unknown>; beforeCentral: (config: AresConfig) => Promise<void> }> {
  const m = await mosquittoPlan();
  return {
    overrides: {
      'central.mqtt_url': `mqtts://${m.adminUser}:${m.adminPassword}@127.0.0.1:${m.appPort}`,
      'central.mqtt_device_url': `mqtts://127.0.0.1:${m.devicePort}`,
    },
    beforeCentral: async (config) => {
      const files = await writeBrokerCertificate(
        config,
        ['localhost', '127.0.0.1'],
        join(config.central.data_dir, 'broker'),
      );
      const read = (f: string) => readFileSync(f, 'utf8');
      await startMosquitto(t, { ca: read(files.ca), cert: read(files.cert), key: read(files.key) }, m);
    },
  };
}
