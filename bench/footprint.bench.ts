// The hub as it ships: the release bundle's own Node 24 running `bin/ares hub`, provisioned against a
// real central, with every driver type running. Measured per platform, each next to a bare process of
// the same bundled Node started the same way (the baseline, in the same run):
// - start-to-READY: from spawning bin/ares to the READY=1 datagram on NOTIFY_SOCKET (identity loaded,
//   buffer open, broker and HTTP listening: what systemd waits for);
// - idle RSS once every component started, and again with an IMU node attached (fall model loaded).
// x86-64 runs the x64 bundle natively (target: idle RSS <= 90 MB, the hub-broker bench's target, now
// on the runtime that ships). arm64 runs the arm64 bundle under qemu-aarch64 (user-mode emulation:
// times are many times a Pi's and the RSS is qemu's, so those figures are reported, not judged).
// Bundles are built fresh (cross-build/build-pi.ts, addon cache on) unless ARES_BUNDLE_DIR holds
// ares-<version>-linux-<arch>.tar.gz already.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildPi } from '../cross-build/build-pi.js';
import { notifyReceiver } from '../tests/helpers/notify-socket.js';
import { provisionedHub, rssMb } from './lib/provisioned-hub.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const SETTLE_MS = 5000;
const QEMU = ['qemu-aarch64', '-L', '/usr/aarch64-linux-gnu'];
const log = (m: string) => void process.stderr.write(`[footprint] ${m}\n`);
const round = (n: number, d = 1) => Math.round(n * 10 ** d) / 10 ** d;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface Platform {
  arch: 'x64' | 'arm64';
  label: string;
  /** Prefix for the launcher's Node (ARES_NODE_WRAPPER) and for the bare baseline. */
  wrapper: string[];
  /** Time limit for one start, ms. */
  limitMs: number;
  /** Starts of each kind (median taken): emulated starts are slow, so fewer. */
  rounds: number;
}

const cleanups: (() => unknown)[] = [];
const scope = { teardown: (fn: () => unknown) => void cleanups.push(fn) };

/** The bundle for `arch`, unpacked under `dir`; its root folder. */
async function bundle(arch: 'x64' | 'arm64', dir: string): Promise<string> {
  const name = `ares-${VERSION}-linux-${arch}`;
  let tarball = process.env['ARES_BUNDLE_DIR'] ? join(process.env['ARES_BUNDLE_DIR'], `${name}.tar.gz`) : '';
  if (!tarball || !existsSync(tarball)) {
    const out = join(dir, `build-${arch}`);
    log(`building the ${arch} bundle (cross-build/build-pi.ts) into ${out}`);
    const built = await buildPi({ arch, outDir: out, debs: false, addonCache: true, keepWork: false, log });
    tarball = join(out, built.tarball.file);
  }
  const into = join(dir, `unpacked-${arch}`);
  mkdirSync(into, { recursive: true });
  const r = spawnSync('tar', ['-xzf', tarball, '-C', into], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`tar -xzf ${tarball} failed`);
  return join(into, name);
}

interface Start {
  readyMs: number;
  rssMb: number;
}

/**
 * Spawns `cmd`, waits for `ready` (a notify datagram or an output line), notes the time, waits for
 * `settled` on its output and SETTLE_MS more, reads its RSS, and stops it with SIGTERM.
 */
async function measure(
  cmd: string[],
  env: NodeJS.ProcessEnv,
  ready: 'notify' | ((out: string) => boolean),
  settled: (out: string) => boolean,
  limitMs: number,
): Promise<Start> {
  const receiver = ready === 'notify' ? await notifyReceiver(scope) : undefined;
  const started = performance.now();
  const child = spawn(cmd[0]!, cmd.slice(1), {
    env: receiver ? { ...env, NOTIFY_SOCKET: receiver.path } : env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const deadline = started + limitMs;
  const waitFor = async (what: string, done: () => boolean) => {
    while (!done()) {
      if (child.exitCode !== null) throw new Error(`${what}: exited with ${child.exitCode}\n${out.slice(-2000)}`);
      if (performance.now() > deadline) throw new Error(`${what}: not within ${limitMs} ms\n${out.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  try {
    const isReady =
      receiver !== undefined
        ? () => receiver.received.some((d) => /^READY=1$/m.test(d.message))
        : () => (ready as (o: string) => boolean)(out);
    await waitFor('READY', isReady);
    const readyMs = performance.now() - started;
    await waitFor('settled', () => settled(out));
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    return { readyMs, rssMb: rssMb(child.pid!) };
  } finally {
    child.kill('SIGTERM');
    if (child.exitCode === null) await new Promise((r) => child.once('exit', r));
  }
}

async function platform(p: Platform, dir: string) {
  const root = await bundle(p.arch, dir);
  const hub = await provisionedHub(join(dir, `hub-${p.arch}`));
  try {
    const env = { ...hub.env, ARES_NODE_WRAPPER: p.wrapper.join(' ') };
    const launcher = [join(root, 'bin/ares'), 'hub'];
    const bareCmd = [
      ...p.wrapper,
      join(root, 'node/bin/node'),
      '-e',
      'console.log("ready"); setInterval(() => {}, 1000)',
    ];
    const hubRuns: Start[] = [];
    const bareRuns: Start[] = [];
    for (let i = 0; i < p.rounds; i++) {
      hubRuns.push(await measure(launcher, env, 'notify', (o) => hub.started(o), p.limitMs));
      bareRuns.push(
        await measure(
          bareCmd,
          process.env,
          (o) => o.includes('ready'),
          () => true,
          p.limitMs,
        ),
      );
      log(`${p.label} round ${i + 1}: hub READY ${round(hubRuns[i]!.readyMs, 0)} ms, ${round(hubRuns[i]!.rssMb)} MB`);
    }
    await hub.addImu();
    const withModel = await measure(
      launcher,
      env,
      'notify',
      (o) => hub.started(o) && o.includes('"msg":"fall detection running"'),
      p.limitMs,
    );
    return {
      ready: median(hubRuns.map((r) => r.readyMs)),
      rss: median(hubRuns.map((r) => r.rssMb)),
      bareReady: median(bareRuns.map((r) => r.readyMs)),
      bareRss: median(bareRuns.map((r) => r.rssMb)),
      modelRss: withModel.rssMb,
    };
  } finally {
    await hub.close();
  }
}

const dir = mkdtempSync(join(tmpdir(), 'ares-bench-footprint-'));
const hardStop = setTimeout(() => {
  log('hard timeout: giving up');
  process.exit(1);
}, 570_000);
try {
  const results: object[] = [];
  const platforms: Platform[] = [{ arch: 'x64', label: 'x86-64 Node 24', wrapper: [], limitMs: 30_000, rounds: 3 }];
  const qemu = spawnSync('qemu-aarch64', ['--version']).status === 0 && existsSync('/usr/aarch64-linux-gnu/lib');
  if (qemu)
    platforms.push({ arch: 'arm64', label: 'arm64 Node 24 under qemu', wrapper: QEMU, limitMs: 180_000, rounds: 1 });
  else
    log(
      'qemu-aarch64 or the aarch64 sysroot is missing (apt-get install qemu-user g++-aarch64-linux-gnu): arm64 not measured',
    );
  for (const p of platforms) {
    const m = await platform(p, dir);
    const judged = p.arch === 'x64';
    const suffix = p.arch === 'x64' ? 'x64_node24' : 'arm64_qemu';
    results.push(
      {
        name: `hub_start_to_ready_${suffix}`,
        value: round(m.ready, 0),
        unit: 'ms',
        baseline_name: 'bare_node_start',
        baseline_value: round(m.bareReady, 0),
        ratio: round(m.ready / m.bareReady, 2),
        target: null,
        pass: null,
      },
      {
        name: `hub_idle_rss_${suffix}`,
        value: round(m.rss),
        unit: 'MB',
        baseline_name: 'bare_node',
        baseline_value: round(m.bareRss),
        ratio: round(m.rss / m.bareRss, 2),
        target: judged ? '<= 90 MB' : null,
        pass: judged ? m.rss <= 90 : null,
      },
      {
        name: `hub_idle_rss_with_fall_model_${suffix}`,
        value: round(m.modelRss),
        unit: 'MB',
        baseline_name: 'hub_idle_rss',
        baseline_value: round(m.rss),
        ratio: round(m.modelRss / m.rss, 2),
        target: null,
        pass: null,
      },
    );
  }
  process.stdout.write(JSON.stringify({ bench: 'footprint', results }) + '\n');
} finally {
  clearTimeout(hardStop);
  for (const c of cleanups.reverse()) await c();
  rmSync(dir, { recursive: true, force: true });
}
