// Authenticated `GET /api/devices` throughput of central, next to a fastify hello-world route
// measured in the same run on the same machine. Target: central >= 0.5x the hello-world req/s.
//
// Both servers live in this process; autocannon drives them from a worker thread (workers: 1), so
// on a 2-core box the server and the load generator each get a core. Loopback only; bounded time.
import 'reflect-metadata';
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { createAdmin } from '../backend/admin-bootstrap.js';
import { buildCentralApp } from '../backend/app.js';
import { createCentralContext } from '../backend/central.js';
import type { CentralContext } from '../backend/context.js';
import { loadConfig } from '../core/config.js';
import { silentLogger } from '../core/logger.js';
import { generateClaimCode, type EnrollmentRecord } from '../sync/enrollment.js';
import { benchLog, round, runBench, type BenchResult } from './lib/harness.js';

const BENCH = 'central-api';
const CONNECTIONS = 10;
const PIPELINING = 1;
const WARMUP_S = 1;
const MEASURE_S = 5;
const ROUNDS = 3;
const TARGET_RATIO = 0.5;
const DEVICES = 3;
/** Hard stop: the whole bench normally takes ~45 s. */
const HARD_TIMEOUT_MS = 180_000;

// autocannon ships no type declarations; this is the part of its API used here.
interface AutocannonOptions {
  url: string;
  connections: number;
  pipelining: number;
  duration: number;
  workers?: number;
  headers?: Record<string, string>;
}
interface AutocannonResult {
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  '2xx': number;
  statusCodeStats: Record<string, { count: number }>;
  requests: { average: number; total: number };
  latency: { average: number; p99: number };
}
const autocannon = createRequire(import.meta.url)('autocannon') as (
  opts: AutocannonOptions,
) => Promise<AutocannonResult>;

const log = benchLog(BENCH);

async function call(
  base: string,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
  auth?: string,
): Promise<{ status: number; json: unknown }> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (auth !== undefined) headers.authorization = auth;
  const res = await fetch(`${base}${path}`, {
    method,
    headers,
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  let json: unknown = text;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON: keep the text for error messages
  }
  return { status: res.status, json };
}

async function expectStatus(
  base: string,
  want: number,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
  auth?: string,
): Promise<unknown> {
  const res = await call(base, method, path, body, auth);
  if (res.status !== want)
    throw new Error(`${method} ${path}: expected ${want}, got ${res.status} ${JSON.stringify(res.json)}`);
  return res.json;
}

async function login(base: string, email: string, password: string): Promise<string> {
  const body = (await expectStatus(base, 200, 'POST', '/auth/login', { email, password })) as { access_token: string };
  return `Bearer ${body.access_token}`;
}

/** What `ares hub enroll` produces. */
function enrollmentRecord(): EnrollmentRecord {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    cpu_serial: randomBytes(8).toString('hex'),
    device_uuid: randomUUID(),
    hardware_version: '4B',
    hardware_variant: 'Standard',
    public_key: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    claim_code: generateClaimCode(),
  };
}

function describe(r: AutocannonResult): string {
  return `${round(r.requests.average, 0)} req/s, p99 ${r.latency.p99} ms, total ${r.requests.total}, non2xx ${r.non2xx}, errors ${r.errors}, timeouts ${r.timeouts}, status ${JSON.stringify(Object.fromEntries(Object.entries(r.statusCodeStats).map(([k, v]) => [k, v.count])))}`;
}

/** Why a run does not count as "every response was 200", or null when it does. */
function problems(r: AutocannonResult): string | null {
  const why: string[] = [];
  if (r.non2xx !== 0) why.push(`non2xx=${r.non2xx}`);
  const other = Object.keys(r.statusCodeStats).filter((s) => s !== '200');
  if (other.length > 0) why.push(`status codes other than 200: ${other.join(', ')}`);
  if (r.errors !== 0) why.push(`errors=${r.errors}`);
  if (r.timeouts !== 0) why.push(`timeouts=${r.timeouts}`);
  if (r.requests.total === 0) why.push('no completed requests');
  return why.length > 0 ? why.join('; ') : null;
}

async function main(): Promise<BenchResult[]> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ares-bench-central-'));
  let ctx: CentralContext | undefined;
  let central: FastifyInstance | undefined;
  let hello: FastifyInstance | undefined;
  try {
    // --- central, as `ares central serve` would build it, on a SQLite file in a temp dir
    const config = loadConfig({
      env: {},
      overrides: {
        'central.data_dir': dataDir,
        'central.database': `sqlite:${dataDir}/central.db`,
        'log.level': 'silent',
      },
    });
    ctx = await createCentralContext(config, silentLogger(), { mailer: { send: async () => undefined } });
    central = await buildCentralApp(ctx);
    await createAdmin(config, silentLogger(), 'root@ares.bench', 'root-password-1', ctx.db);
    const centralUrl = await central.listen({ host: '127.0.0.1', port: 0 });

    // --- a realistic user: registered, logged in, owner of DEVICES claimed hubs
    const adminAuth = await login(centralUrl, 'root@ares.bench', 'root-password-1');
    const email = `bench-${randomBytes(3).toString('hex')}@ares.bench`;
    const password = `pw-${randomBytes(6).toString('hex')}`;
    await expectStatus(centralUrl, 201, 'POST', '/auth/register', { username: 'bench', email, password });
    const userAuth = await login(centralUrl, email, password);
    for (let i = 0; i < DEVICES; i++) {
      const rec = enrollmentRecord();
      await expectStatus(centralUrl, 201, 'POST', '/api/devices/preregister', rec, adminAuth);
      await expectStatus(
        centralUrl,
        200,
        'POST',
        '/api/devices/claim',
        { cpu_serial: rec.cpu_serial, claim_code: rec.claim_code },
        userAuth,
      );
    }
    const listed = await expectStatus(centralUrl, 200, 'GET', '/api/devices', undefined, userAuth);
    if (!Array.isArray(listed) || listed.length !== DEVICES)
      throw new Error(`GET /api/devices: expected ${DEVICES} rows, got ${JSON.stringify(listed)}`);

    // --- the baseline: a plain fastify hello-world, same process, same machine, same run
    hello = Fastify({ logger: false });
    hello.get('/hello', async () => ({ hello: 'world' }));
    const helloUrl = await hello.listen({ host: '127.0.0.1', port: 0 });

    const subject = { url: `${centralUrl}/api/devices`, headers: { authorization: userAuth } };
    const baseline = { url: `${helloUrl}/hello`, headers: {} };
    const publicRoute = { url: `${centralUrl}/`, headers: {} };
    // Server CPU per request = main-thread event-loop utilization / throughput. Unlike req/s it does
    // not depend on how fast the load generator parses a 700-byte list versus a 17-byte hello.
    const cpuUs = new WeakMap<AutocannonResult, number>();
    const run = async (
      t: { url: string; headers: Record<string, string> },
      duration: number,
    ): Promise<AutocannonResult> => {
      const before = performance.eventLoopUtilization();
      const r = await autocannon({
        url: t.url,
        headers: t.headers,
        connections: CONNECTIONS,
        pipelining: PIPELINING,
        duration,
        workers: 1,
      });
      const elu = performance.eventLoopUtilization(before).utilization;
      if (r.requests.average > 0) cpuUs.set(r, (elu * 1e6) / r.requests.average);
      return r;
    };

    log(`setup done; rss ${round(process.memoryUsage().rss / 2 ** 20, 1)} MB before load`);
    log(`warm-up ${WARMUP_S}s each`);
    const warmups = [await run(baseline, WARMUP_S), await run(subject, WARMUP_S)];
    // Alternate baseline and subject, and keep the better run of each: a shared 2-core box is noisy.
    const baselineRuns: AutocannonResult[] = [];
    const centralRuns: AutocannonResult[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      baselineRuns.push(await run(baseline, MEASURE_S));
      log(`round ${i + 1} baseline GET /hello: ${describe(baselineRuns.at(-1)!)}`);
      centralRuns.push(await run(subject, MEASURE_S));
      log(`round ${i + 1} central GET /api/devices: ${describe(centralRuns.at(-1)!)}`);
    }
    const best = (rs: AutocannonResult[]): AutocannonResult =>
      rs.reduce((a, r) => (r.requests.average > a.requests.average ? r : a));
    const b = best(baselineRuns);
    const c = best(centralRuns);
    // Informational: central's own public route (no auth, no database) separates the framework's
    // per-request cost (hooks, request ids, metrics, logger) from the data path's.
    const p = await run(publicRoute, MEASURE_S);
    log(`central GET / (no auth, no DB): ${describe(p)}`);

    // Every central response (warm-up included) must have been a 200; so must the baseline's.
    const centralWhy = [warmups[1]!, ...centralRuns].map(problems).filter((p) => p !== null);
    const baselineWhy = [warmups[0]!, ...baselineRuns].map(problems).filter((p) => p !== null);
    if (centralWhy.length > 0)
      log(`FAIL: central GET /api/devices did not answer 200 to every request: ${centralWhy.join(' | ')}`);
    if (baselineWhy.length > 0)
      log(`FAIL: baseline GET /hello did not answer 200 to every request: ${baselineWhy.join(' | ')}`);
    const valid = centralWhy.length === 0 && baselineWhy.length === 0;

    const ratio = b.requests.average > 0 ? c.requests.average / b.requests.average : 0;
    const rssMb = process.resourceUsage().maxRSS / 1024;
    const baselineName = 'fastify_hello_world';
    return [
      {
        name: 'requests_per_s',
        value: round(c.requests.average),
        unit: 'req/s',
        baseline_name: baselineName,
        baseline_value: round(b.requests.average),
        ratio: round(ratio, 3),
        target: `>= ${TARGET_RATIO}`,
        pass: valid && ratio >= TARGET_RATIO,
      },
      {
        name: 'p99_latency',
        value: c.latency.p99,
        unit: 'ms',
        baseline_name: baselineName,
        baseline_value: b.latency.p99,
        ratio: b.latency.p99 > 0 ? round(c.latency.p99 / b.latency.p99, 3) : null,
        target: null,
        pass: null,
      },
      {
        name: 'server_cpu_per_request',
        value: round(cpuUs.get(c) ?? 0, 1),
        unit: 'µs',
        baseline_name: baselineName,
        baseline_value: round(cpuUs.get(b) ?? 0, 1),
        ratio: cpuUs.get(c) ? round((cpuUs.get(b) ?? 0) / cpuUs.get(c)!, 3) : null,
        target: null,
        pass: null,
      },
      {
        name: 'public_route_requests_per_s',
        value: round(p.requests.average),
        unit: 'req/s',
        baseline_name: baselineName,
        baseline_value: round(b.requests.average),
        ratio: round(p.requests.average / b.requests.average, 3),
        target: null,
        pass: null,
      },
      // The whole bench process: both servers plus the autocannon worker thread.
      {
        name: 'peak_rss',
        value: round(rssMb, 1),
        unit: 'MB',
        baseline_name: null,
        baseline_value: null,
        ratio: null,
        target: null,
        pass: null,
      },
    ];
  } finally {
    await hello?.close();
    await central?.close();
    await ctx?.db.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

runBench(BENCH, HARD_TIMEOUT_MS, main);
