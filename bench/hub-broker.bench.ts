// The hub's LAN path and footprint, each next to a baseline measured in the same run:
// 1. QoS1 publishes from an authenticated LAN node, accepted into the hub pipeline (frame guard,
//    ACL, rate limiter, JSON validation, pipeline), vs. the same publishes to a bare aedes broker.
//    Target: >= 0.8x the bare broker's msg/s. Also, informational: the same with each PUBACK held
//    until the outbox's group commit stored the reading (what the hub does in production).
// 2. RSS of a real `ares hub` process (built dist/, simulated GPIO) idle with all six driver types
//    running, vs. a bare `node` process. Target: <= 90 MB on x86.
// Loopback only; every phase is bounded and the bench stops by itself.
import { HUB_NODE_FLAGS } from '../daemon/node-flags.js';
import 'reflect-metadata';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Aedes } from 'aedes';
import mqtt from 'mqtt';
import { silentLogger } from '../core/logger.js';
import { LocalBroker } from '../daemon/broker/local-broker.js';
import { NodeRegistry } from '../daemon/broker/nodes.js';
import { Pipeline } from '../daemon/components/pipeline.js';
import { NodeIntake } from '../daemon/nodes/intake.js';
import { openHubDb } from '../daemon/state/hub-db.js';
import { systemClock } from '../core/clock.js';
import { BENCH_COMPONENTS, provisionedHub, rssMb } from './lib/provisioned-hub.js';
import { benchOutbox } from './lib/bench-outbox.js';

const MESSAGES = 20_000;
const STORED_MESSAGES = 2_000;
const ROUNDS = 3;
const log = (m: string) => void process.stderr.write(`[hub-broker] ${m}\n`);
const round = (n: number, d = 2) => Math.round(n * 10 ** d) / 10 ** d;
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const FRAME = JSON.stringify({
  device_id: 'bench',
  presence: 1,
  movement: 2,
  moving_range: 35,
  fall_state: 0,
  dwell_state: 1,
  ts: 1,
});

/** Publishes MESSAGES QoS1 messages (mqtt.js keeps them in flight) and waits for `done()`. */
async function publishRun(
  port: number,
  topic: string,
  done: () => boolean,
  auth?: { username: string; password: string },
  messages = MESSAGES,
): Promise<number> {
  const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, { ...auth, reconnectPeriod: 0, protocolVersion: 4 });
  await new Promise((resolve, reject) => (client.once('connect', resolve), client.once('error', reject)));
  const payload = Buffer.from(FRAME);
  const start = performance.now();
  const acks: Promise<unknown>[] = [];
  for (let i = 0; i < messages; i++) acks.push(client.publishAsync(topic, payload, { qos: 1 }));
  await Promise.all(acks);
  while (!done()) await new Promise((r) => setImmediate(r));
  const rate = messages / ((performance.now() - start) / 1000);
  await client.endAsync();
  return rate;
}

async function brokerThroughput(dir: string): Promise<{ hub: number; stored: number; bare: number }> {
  // Baseline: aedes with no auth, no limits, nothing listening to what is published.
  const bare = await Aedes.createBroker();
  const bareServer: Server = createServer((s) => bare.handle(s));
  await new Promise<void>((r) => bareServer.listen(0, '127.0.0.1', r));
  const barePort = (bareServer.address() as { port: number }).port;
  let bareSeen = 0;
  bare.on('publish', (_p, c) => void (c && bareSeen++));

  // Subject: the hub's broker wired as daemon/hub.ts wires it, up to the pipeline.
  const db = openHubDb(dir);
  const nodes = new NodeRegistry(db);
  const { password } = await nodes.add('bench');
  // The production per-node rate limit (100/s) would (rightly) cut a flood off; the bench measures
  // the path's cost, so the limiter runs with a ceiling the run never reaches.
  const hubBroker = new LocalBroker(silentLogger(), nodes, {
    maxPacketBytes: 64 * 1024,
    maxConnections: 64,
    maxPublishPerSecond: 1e9,
    maxTopicLevels: 8,
  });
  const hubPort = await hubBroker.start(0, '127.0.0.1');
  const pipeline = new Pipeline(silentLogger());
  let accepted = 0;
  pipeline.on('count', () => void accepted++);
  const radar = new NodeIntake({
    pipeline,
    clock: systemClock,
    components: () => [
      {
        id: 1,
        component_type: 'radar',
        name: null,
        pin_number: null,
        pin_mode: null,
        default_state: null,
        config: { node_id: 'bench' },
      },
    ],
    log: silentLogger(),
  });
  hubBroker.onNodeMessage = (node, stream, payload) => radar.fromMqtt(node, stream, payload);

  // The production path adds the outbox: a PUBACK waits for the group commit (default interval).
  const outbox = benchOutbox(dir);

  let bestHub = 0;
  let bestStored = 0;
  let bestBare = 0;
  for (let i = 0; i < ROUNDS; i++) {
    const b0 = bareSeen;
    bestBare = Math.max(bestBare, await publishRun(barePort, 'local/bench/radar', () => bareSeen - b0 >= MESSAGES));
    const a0 = accepted;
    // Each frame becomes 5 readings in the pipeline.
    bestHub = Math.max(
      bestHub,
      await publishRun(hubPort, 'local/bench/radar', () => accepted - a0 >= MESSAGES * 5, {
        username: 'bench',
        password: password!,
      }),
    );
    pipeline.on('outbox', (o) =>
      outbox.append({ lane: 'telemetry', type: 'reading', component_type: 'radar', metric: o.name, value: o.value! }),
    );
    // Commits pace this path (a few hundred messages per interval): fewer messages keep it bounded.
    const s0 = accepted;
    bestStored = Math.max(
      bestStored,
      await publishRun(
        hubPort,
        'local/bench/radar',
        () => accepted - s0 >= STORED_MESSAGES * 5,
        { username: 'bench', password: password! },
        STORED_MESSAGES,
      ),
    );
    pipeline.off('outbox');
    log(
      `round ${i + 1}: hub ${round(bestHub, 0)} msg/s, with PUBACK after commit ${round(bestStored, 0)} msg/s, bare aedes ${round(bestBare, 0)} msg/s`,
    );
  }
  outbox.stop();
  await hubBroker.stop();
  db.close();
  await new Promise<void>((r) => bareServer.close(() => r()));
  await new Promise<void>((r) => bare.close(() => r()));
  return { hub: bestHub, stored: bestStored, bare: bestBare };
}

/** Starts a child, returns its RSS after `settleMs`, and kills it. */
async function childRss(
  args: string[],
  env: NodeJS.ProcessEnv,
  ready: (out: string) => boolean,
  settleMs: number,
): Promise<number> {
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  try {
    for (let i = 0; i < 600 && !ready(out); i++) await new Promise((r) => setTimeout(r, 50));
    if (!ready(out)) throw new Error(`child never became ready:\n${out.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, settleMs));
    return rssMb(child.pid!);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

async function hubIdleRss(dir: string): Promise<{ hub: number; bare: number; withModel: number; components: number }> {
  const hub = await provisionedHub(dir);
  try {
    const args = [...HUB_NODE_FLAGS, join(ROOT, 'dist/cli/ares.js'), 'hub'];
    const idle = await childRss(args, hub.env, (o) => hub.started(o), 5000);
    const bare = await childRss(
      ['-e', 'console.log("ready"); setInterval(() => {}, 1000)'],
      process.env,
      (o) => o.includes('ready'),
      5000,
    );
    // The same hub with an IMU node attached: it loads the fall model (TensorFlow.js, wasm).
    await hub.addImu();
    const withModel = await childRss(
      args,
      hub.env,
      (o) => hub.started(o) && o.includes('"msg":"fall detection running"'),
      5000,
    );
    return { hub: idle, bare, withModel, components: BENCH_COMPONENTS.length };
  } finally {
    await hub.close();
  }
}

const dir = mkdtempSync(join(tmpdir(), 'ares-bench-hub-'));
const hardStop = setTimeout(() => {
  log('hard timeout: giving up');
  process.exit(1);
}, 240_000);
try {
  const t = await brokerThroughput(dir);
  const m = await hubIdleRss(dir);
  const ratio = t.hub / t.bare;
  const results = [
    {
      name: 'lan_qos1_accepted_per_s',
      value: round(t.hub, 0),
      unit: 'msg/s',
      baseline_name: 'bare_aedes',
      baseline_value: round(t.bare, 0),
      ratio: round(ratio, 3),
      target: '>= 0.8',
      pass: ratio >= 0.8,
    },
    {
      // Informational: the full production path, each PUBACK held until the outbox's group commit
      // (hub.buffer_commit_ms default) has fsync'd the reading.
      name: 'lan_qos1_stored_per_s',
      value: round(t.stored, 0),
      unit: 'msg/s',
      baseline_name: 'bare_aedes',
      baseline_value: round(t.bare, 0),
      ratio: round(t.stored / t.bare, 3),
      target: null,
      pass: null,
    },
    {
      // Informational: what fall detection costs in memory (issue: hub RSS with the models loaded).
      name: 'hub_idle_rss_with_fall_model',
      value: round(m.withModel, 1),
      unit: 'MB',
      baseline_name: 'hub_idle_rss_all_drivers',
      baseline_value: round(m.hub, 1),
      ratio: round(m.withModel / m.hub, 3),
      target: null,
      pass: null,
    },
    {
      name: 'hub_idle_rss_all_drivers',
      value: round(m.hub, 1),
      unit: 'MB',
      baseline_name: 'bare_node',
      baseline_value: round(m.bare, 1),
      ratio: round(m.hub / m.bare, 3),
      target: '<= 90 MB',
      pass: m.hub <= 90,
    },
  ];
  process.stdout.write(JSON.stringify({ bench: 'hub-broker', results }) + '\n');
} finally {
  clearTimeout(hardStop);
  rmSync(dir, { recursive: true, force: true });
}
