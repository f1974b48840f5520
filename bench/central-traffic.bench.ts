// What central's CPU goes to under a fleet's realistic traffic, route by route, and how much of it two
// hand-built fast paths could possibly save: the device list built as JSON inside the database
// (store/device-list.ts, when it existed) and per-request metrics kept outside prom-client
// (http/request-metrics.ts, when it existed). Issue 14 asked to keep them only if realistic traffic —
// not a hello-world ratio — shows they matter; this bench is that measurement.
//
// Every request goes through central's whole stack (hooks, auth, validation, database, serializer)
// with fastify's inject(), one at a time, on a SQLite file. CPU is process CPU time (user + system,
// GC included) per request, the best of ROUNDS rounds: CPU time, unlike wall time, barely moves when
// another process shares the machine. inject() skips the socket and HTTP parsing, which cost the same
// for every route; central's cheapest route (GET /, no auth, no database) measured the same way is the
// baseline.
//
// The traffic per hub and minute (TRAFFIC below) is what the hub's own code sends: the uploader posts a
// telemetry batch whenever readings wait (250 ms linger) — ten a minute for the bench's typical hub
// (bench/lib/provisioned-hub.ts's components at their default intervals) — and the component list is
// polled every hub.components_poll_s (30 s). Apps: a family opens the app a few times an hour (device
// list, then a hub's alerts and a telemetry chart), counted generously here as one list every five
// minutes per hub.
import { performance } from 'node:perf_hooks';
import { Counter, Histogram, Registry } from 'prom-client';
import type { SyncRecord } from '../sync/records.js';
import { newUser, provisionedHub, signedInject, startTestCentral, type TestCentral } from '../tests/helpers/central.js';
import { benchLog, result, round, runBench, type BenchResult } from './lib/harness.js';

const BENCH = 'central-traffic';
const HUBS_PER_FAMILY = 3;
const RECORDS_PER_BATCH = 5;
const WARMUP = 300;
const PER_ROUND = 1500;
const ROUNDS = 3;
/** Target: one core of this machine carries the steady traffic of at least this many hubs. */
const TARGET_HUBS_PER_CORE = 1000;
const HARD_TIMEOUT_MS = 300_000;
const BOOT_ID = '0a1b2c3d-4e5f-4071-8293-a4b5c6d7e8f9';

/** A temperature reading as the hub's outbox stores it. */
const reading = (seq: number, ts: number): SyncRecord => ({
  seq,
  lane: 'telemetry',
  type: 'reading',
  ts,
  mono_ms: 10_000 + seq,
  clock_synced: true,
  component_type: 'dht22',
  component_id: '3',
  metric: 'temperature',
  value: 21 + (seq % 50) / 10,
});

/** Requests per hub per minute, by route (see the header). */
const TRAFFIC = {
  sync_batch: 10,
  component_poll: 2,
  device_list: 0.2,
  alerts: 0.2,
  telemetry: 0.2,
} as const;
type RouteName = keyof typeof TRAFFIC;

const log = benchLog(BENCH);

/** CPU microseconds per call of `fn`, best of ROUNDS rounds of PER_ROUND calls. */
async function cpuPerCall(label: string, fn: (i: number) => Promise<void> | void): Promise<number> {
  let i = 0;
  for (let w = 0; w < WARMUP; w++) await fn(i++);
  let best = Infinity;
  for (let r = 0; r < ROUNDS; r++) {
    const start = process.cpuUsage();
    for (let n = 0; n < PER_ROUND; n++) await fn(i++);
    const used = process.cpuUsage(start);
    best = Math.min(best, (used.user + used.system) / PER_ROUND);
  }
  log(`${label}: ${round(best, 1)} µs CPU per call`);
  return best;
}

function expectOk(what: string, res: { statusCode: number; body: string }): void {
  if (res.statusCode !== 200) throw new Error(`${what}: ${res.statusCode} ${res.body.slice(0, 300)}`);
}

async function main(): Promise<BenchResult[]> {
  const teardowns: (() => unknown)[] = [];
  try {
    const c: TestCentral = await startTestCentral({ teardown: (fn) => void teardowns.push(fn) });
    const family = await newUser(c.app, 'family');
    const hubs = [];
    for (let i = 0; i < HUBS_PER_FAMILY; i++) hubs.push(await provisionedHub(c, family.auth));
    const hub = hubs[0]!;

    // Each call is a distinct request, as a hub's would be: new records, the clock moving on.
    let seq = 0;
    const syncBatch = async () => {
      const records = [];
      for (let r = 0; r < RECORDS_PER_BATCH; r++) records.push(reading(++seq, c.clock.now()));
      const body = Buffer.from(JSON.stringify({ device_uuid: hub.uuid, boot_id: BOOT_ID, records }));
      c.clock.advance(100);
      expectOk(
        'sync batch',
        await signedInject(c, hub.hub, { method: 'POST', url: '/api/sync/batches', body, secret: hub.secret }),
      );
    };
    const componentPoll = async () => {
      expectOk(
        'component poll',
        await signedInject(c, hub.hub, {
          method: 'GET',
          url: `/api/components/devices/${hub.deviceId}/components`,
          secret: hub.secret,
        }),
      );
    };
    const userGet = (url: string) => async () => {
      expectOk(url, await c.app.inject({ method: 'GET', url, headers: family.auth }));
    };
    const routes: Record<RouteName, () => Promise<void>> = {
      sync_batch: syncBatch,
      component_poll: componentPoll,
      device_list: userGet('/api/devices'),
      alerts: userGet(`/api/devices/${hub.deviceId}/alerts`),
      telemetry: userGet(`/api/devices/${hub.deviceId}/telemetry?limit=100`),
    };
    // The chart has something to show.
    for (let i = 0; i < 40; i++) await syncBatch();

    const baselineUs = await cpuPerCall('GET / (baseline: no auth, no database)', async () => {
      expectOk('GET /', await c.app.inject({ method: 'GET', url: '/' }));
    });
    const perRoute = {} as Record<RouteName, number>;
    for (const name of Object.keys(TRAFFIC) as RouteName[]) perRoute[name] = await cpuPerCall(name, routes[name]);

    // CPU per hub per minute, and each route's share of it.
    let hubMinuteUs = 0;
    let requestsPerHubMinute = 0;
    for (const name of Object.keys(TRAFFIC) as RouteName[]) {
      hubMinuteUs += TRAFFIC[name] * perRoute[name];
      requestsPerHubMinute += TRAFFIC[name];
    }
    const hubsPerCore = (60 * 1e6) / hubMinuteUs;
    const share = (name: RouteName) => (TRAFFIC[name] * perRoute[name]) / hubMinuteUs;
    for (const name of Object.keys(TRAFFIC) as RouteName[])
      log(`${name}: ${round(share(name) * 100, 2)} % of the fleet's CPU`);

    // Per-request metrics through prom-client's own labelled counter and histogram, as central now
    // records them: what each request pays for them, as a share of an average request of the mix.
    const registry = new Registry();
    const requests = new Counter({
      name: 'bench_requests_total',
      help: 'h',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
    });
    const duration = new Histogram({
      name: 'bench_duration_seconds',
      help: 'h',
      labelNames: ['method', 'route'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers: [registry],
    });
    const routesSeen = ['/api/sync/batches', '/api/devices', '/api/components/devices/:device_id/components'];
    const metricsUs = await cpuPerCall('prom-client inc + observe (labelled)', (i) => {
      // 100 calls per measured call, so the loop's own cost is negligible.
      for (let k = 0; k < 100; k++) {
        const route = routesSeen[(i + k) % routesSeen.length]!;
        requests.inc({ method: 'GET', route, status: 200 });
        duration.observe({ method: 'GET', route }, 0.0004 + k * 1e-5);
      }
    });
    const metricsPerRequestUs = metricsUs / 100;
    const averageRequestUs = hubMinuteUs / requestsPerHubMinute;
    log(
      `metrics: ${round(metricsPerRequestUs, 3)} µs per request = ${round((metricsPerRequestUs / averageRequestUs) * 100, 2)} % of an average request (${round(averageRequestUs, 1)} µs)`,
    );
    log(`event loop: ${round(performance.eventLoopUtilization().utilization * 100, 1)} % busy over the bench`);

    const r = (name: string, value: number, unit: string, extra: Partial<BenchResult> = {}) =>
      result(name, round(value, 2), unit, extra);
    return [
      r('hubs_per_core', Math.floor(hubsPerCore), 'hubs', {
        baseline_name: 'cpu_per_hub_minute_us',
        baseline_value: round(hubMinuteUs, 0),
        target: `>= ${TARGET_HUBS_PER_CORE}`,
        pass: hubsPerCore >= TARGET_HUBS_PER_CORE,
      }),
      ...(Object.keys(TRAFFIC) as RouteName[]).map((name) =>
        r(`${name}_cpu`, perRoute[name], 'µs', {
          baseline_name: 'get_root_cpu',
          baseline_value: round(baselineUs, 1),
          ratio: round(perRoute[name] / baselineUs, 2),
        }),
      ),
      r('device_list_share', share('device_list') * 100, '%'),
      r('metrics_share', (metricsPerRequestUs / averageRequestUs) * 100, '%'),
    ];
  } finally {
    for (const fn of teardowns.reverse()) await fn();
  }
}

runBench(BENCH, HARD_TIMEOUT_MS, main);
