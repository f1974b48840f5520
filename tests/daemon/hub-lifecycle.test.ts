import { spawnSync } from 'node:child_process';
import { closeSync, cpSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import mqtt from 'mqtt';
import t, { type Test } from 'tap';
import { loadConfig } from '../../core/config.js';
import { silentLogger } from '../../core/logger.js';
import { NodeRegistry } from '../../daemon/broker/nodes.js';
import { Hub } from '../../daemon/hub.js';
import { openHubDb } from '../../daemon/state/hub-db.js';
import { SimGpioPort } from '../../drivers/gpio/sim.js';
import { publishSyntheticFall } from '../helpers/pendant-fall.js';
import { startStack } from '../helpers/stack.js';
import { refused } from '../helpers/ports.js';
import { fastWait, until } from '../helpers/wait.js';

const PI4 = fileURLToPath(new URL('../fixtures/hosts/pi4', import.meta.url));
/** What the issue holds a stop to, and systemd's stop timeout leaves room for. */
const STOP_BOUND_MS = 5000;

/** Resolves true when `p` settles within `ms`, false otherwise (it is not cancelled). */
async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((r) => (timer = setTimeout(() => r(false), ms)));
  try {
    return await Promise.race([p.then(() => true as const), late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A TCP relay to central's broker that the test can freeze: bytes stop flowing both ways while both
 * connections stay open — a Wi-Fi link that died without a FIN, as the hub meets it.
 */
async function freezableRelay(t: Test, target: number) {
  const pairs: [Socket, Socket][] = [];
  let frozen = false;
  const server = createServer((down) => {
    const up = connect(target, '127.0.0.1');
    pairs.push([down, up]);
    down.on('data', (d) => frozen || up.write(d));
    up.on('data', (d) => frozen || down.write(d));
    down.on('error', () => up.destroy());
    up.on('error', () => down.destroy());
    // Once frozen, the far side's close never reaches the hub either.
    up.on('close', () => frozen || down.destroy());
    down.on('close', () => up.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    for (const [a, b] of pairs) {
      a.destroy();
      b.destroy();
    }
    return new Promise<void>((r) => server.close(() => r()));
  });
  return {
    port: (server.address() as { port: number }).port,
    connections: () => pairs.filter(([d]) => !d.destroyed).length,
    freeze: () => void (frozen = true),
  };
}

t.test('stop while central’s connection hangs, right after a fall alert: exits in time, the alert kept', async (t) => {
  t.setTimeout(120_000);
  const stack = await startStack(t, { 'hub.buffer_commit_ms': 50 });
  const { hubConfig, central, deviceId, api, user } = stack;
  const attached = await api(
    'POST',
    `/api/components/devices/${deviceId}/components`,
    { component_type: 'imu', name: 'Pendant', config: { node_id: 'pendant' } },
    user,
  );
  t.equal(attached.status, 201);
  const db = openHubDb(hubConfig.hub.state_dir);
  const node = await new NodeRegistry(db).add('pendant');
  db.close();
  const deps = { gpio: new SimGpioPort(), lanHost: '127.0.0.1', wait: fastWait(100) };

  // Provisioned once, then its broker URL pointed at the relay (credentials.json is what central issued).
  const first = new Hub(hubConfig, silentLogger(), deps);
  await first.start();
  await until('provisioned', () => first.status().provisioned, 30_000);
  await first.stop();
  const relay = await freezableRelay(t, central.mqttPort!);
  const credsFile = join(hubConfig.hub.state_dir, 'credentials.json');
  const creds = JSON.parse(readFileSync(credsFile, 'utf8')) as { mqtt_url: string };
  writeFileSync(credsFile, JSON.stringify({ ...creds, mqtt_url: `mqtts://127.0.0.1:${relay.port}` }));

  const hub = new Hub(hubConfig, silentLogger(), { ...deps, gpio: new SimGpioPort() });
  await hub.start();
  let stopped = false;
  t.teardown(() => (stopped ? undefined : hub.stop()));
  await until(
    'connected to central’s broker through the relay',
    () => relay.connections() > 0 && hub.status().realtime,
    30_000,
  );
  await until(
    'fall detection running',
    async () =>
      (
        (await fetch(`http://127.0.0.1:${hub.ports().http}/healthz`).then((r) => r.json())) as {
          fall: { status: string };
        }
      ).fall.status === 'running',
    30_000,
  );

  const pendant = await mqtt.connectAsync(`mqtt://127.0.0.1:${hub.ports().mqtt}`, {
    username: 'pendant',
    password: node.password!,
    reconnectPeriod: 0,
  });
  const lan: string[] = [];
  pendant.on('message', (_topic, payload) => lan.push(payload.toString()));
  await pendant.subscribeAsync('alerts/#');
  await publishSyntheticFall(pendant, 'pendant');
  await until('the alert raised (the LAN hears it)', () => lan.length > 0, 15_000);
  pendant.end(true);

  // Now the link to central's broker goes silent, and hub and central are told to stop together.
  relay.freeze();
  const ports = hub.ports();
  const hubStop = hub.stop();
  const centralStop = central.close();
  t.ok(await settlesWithin(hubStop, STOP_BOUND_MS), `the hub stopped within ${STOP_BOUND_MS} ms`);
  stopped = true;
  await centralStop;
  t.same(hub.running(), [], 'every part stopped');
  t.ok(await refused(ports.mqtt), 'LAN broker closed');
  t.ok(await refused(ports.http), 'local HTTP closed');

  // Nothing committed is lost: the alert is at central, or still in the hub's buffer to be sent later.
  const buffer = new Database(join(hubConfig.hub.state_dir, 'buffer.db'), { readonly: true });
  t.teardown(() => buffer.close());
  const tables = buffer.prepare("select name from sqlite_master where type = 'table'").pluck().all() as string[];
  const alertTable = tables.find((n) => /alert/.test(n))!;
  const pending = (buffer.prepare(`select body from ${alertTable}`).pluck().all() as string[]).filter((b) =>
    b.includes('fall_detected'),
  ).length;
  const store = new Database(join(stack.config.central.data_dir, 'central.db'), { readonly: true });
  t.teardown(() => store.close());
  const atCentral = store
    .prepare("select count(*) from telemetry_data where device_id = ? and metric = 'fall_detected'")
    .pluck()
    .get(deviceId) as number;
  t.equal(pending + atCentral >= 1, true, `the alert survives (hub buffer ${pending}, central ${atCentral})`);
});

t.test('stop() while a part is still starting: what started is stopped, nothing after it starts', async (t) => {
  // The boot id is read from a FIFO without a writer: the buffer part hangs until the test writes it.
  const dir = t.testdir();
  const host = join(dir, 'host');
  cpSync(PI4, host, { recursive: true });
  const fifo = join(host, 'proc/sys/kernel/random/boot_id');
  spawnSync('mkdir', ['-p', join(host, 'proc/sys/kernel/random')]);
  t.equal(spawnSync('mkfifo', [fifo]).status, 0, 'mkfifo');
  const config = loadConfig({
    env: {},
    overrides: {
      'hub.state_dir': join(dir, 'state'),
      'hub.host_root': host,
      'hub.gpio': 'sim',
      'hub.mqtt_port': 0,
      'hub.http_port': 0,
      'log.level': 'silent',
    },
  });
  const gpio = new SimGpioPort();
  const hub = new Hub(config, silentLogger(), { gpio, lanHost: '127.0.0.1' });
  const starting = hub.start().catch((e: unknown) => e);
  await until('the buffer part starting', () => hub.running().includes('buffer'), 15_000);
  t.same(hub.running(), ['identity', 'gpio', 'hub-db', 'buffer']);
  t.ok(await settlesWithin(hub.stop(), STOP_BOUND_MS), 'stop() does not wait for the hung part for ever');
  t.same(hub.running(), []);
  // The read completes at last (a writer opens and closes the FIFO): start reports it was stopped.
  closeSync(openSync(fifo, 'w'));
  t.match(await starting, { code: 'ARES_ERR_STOPPED', part: 'components' });
  t.same(hub.running(), []);
  t.equal(hub.ports().mqtt, 0, 'the LAN broker never started');
  rmSync(fifo);
});
