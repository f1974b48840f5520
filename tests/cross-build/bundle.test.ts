import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import t from 'tap';
import type { BuildResult } from '../../cross-build/build-pi.js';
import { readElfHeader } from '../../cross-build/lib/elf.js';
import { walkFiles } from '../../cross-build/lib/fsutil.js';
import { packageDirs } from '../../cross-build/lib/prod-modules.js';
import { startStack } from '../helpers/stack.js';
import { until } from '../helpers/wait.js';
import { publishSyntheticFall } from '../helpers/pendant-fall.js';

/*
 * `npm run build:pi -- --arch arm64` for real: the bundle and both .debs into a temp folder, then what
 * ships is checked (binaries, contents, packages, lintian) and the bundle's own bin/ares runs a hub under
 * qemu-aarch64 against a real central on loopback, until fall detection runs and raises an alert.
 */

// A cold build compiles better-sqlite3 for arm64 (~1.5 min on two cores); lintian and qemu add minutes.
t.setTimeout(25 * 60_000);

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const onPath = (cmd: string) => spawnSync('sh', ['-c', 'command -v "$1"', 'sh', cmd]).status === 0;
const SYSROOT = '/usr/aarch64-linux-gnu';
const QEMU = `qemu-aarch64 -L ${SYSROOT}`;

const missing: string[] = [];
if (!onPath('aarch64-linux-gnu-gcc') || !onPath('aarch64-linux-gnu-g++')) missing.push('g++-aarch64-linux-gnu');
if (!onPath('qemu-aarch64') || !existsSync(join(SYSROOT, 'lib', 'ld-linux-aarch64.so.1')))
  missing.push('qemu-user (and libc6-arm64-cross)');
if (!onPath('dpkg-deb')) missing.push('dpkg');
if (missing.length && process.env['CI']) {
  // CI must build and smoke-test the bundle: .ci/run installs these, so missing ones are a failure.
  t.fail(`needs the Debian packages ${missing.join(', ')}, which .ci/run installs`);
} else if (missing.length) {
  t.plan(0, `needs the Debian packages ${missing.join(', ')} (apt-get install them; .ci/run does)`);
} else {
  await suite();
}

function runAsync(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(cmd, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The environment without ARES_* settings of whoever runs the tests. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^ARES_/.test(k)) out[k] = v;
  return { ...out, ...extra };
}

async function suite(): Promise<void> {
  const out = mkdtempSync(join(tmpdir(), 'ares-build-pi-test-'));
  t.teardown(() => rmSync(out, { recursive: true, force: true }));
  const started = Date.now();
  const build = await runAsync(
    process.execPath,
    ['--import', '@tapjs/typescript/import', join(ROOT, 'cross-build', 'build-pi.ts'), '--arch', 'arm64', '--out', out],
    { cwd: ROOT },
  );
  const buildSeconds = (Date.now() - started) / 1000;
  if (build.code !== 0) {
    t.fail(`npm run build:pi failed (exit ${build.code}):\n${build.stdout.slice(-3000)}\n${build.stderr.slice(-3000)}`);
    return;
  }
  const result = JSON.parse(readFileSync(join(out, 'build-pi.json'), 'utf8')) as BuildResult;
  const name = result.name;
  t.comment(`build:pi --arch arm64 took ${buildSeconds.toFixed(0)} s: ${JSON.stringify(result.steps_s)}`);

  t.test('the build prints and records its sizes', async (t) => {
    t.equal(name, `ares-${result.version}-linux-arm64`);
    t.equal(result.node_version, '24.21.0');
    t.equal(result.tarball.file, `${name}.tar.gz`);
    t.equal(result.tarball.bytes, statSync(join(out, result.tarball.file)).size);
    t.same(result.debs.map((d) => d.file).sort(), [
      `ares-central_${result.version}_arm64.deb`,
      `ares-hub_${result.version}_arm64.deb`,
    ]);
    for (const d of result.debs) t.equal(d.bytes, statSync(join(out, d.file)).size, `${d.package} size`);
    t.match(
      build.stdout,
      new RegExp(`${result.tarball.bytes} bytes +${result.tarball.mb.toFixed(1)} MB .*\\.tar\\.gz`),
    );
    for (const d of result.debs) t.match(build.stdout, `${d.bytes} bytes`);
    t.comment(
      `sizes: tarball ${result.tarball.mb} MB, unpacked ${result.bundle_mb} MB, ` +
        result.debs.map((d) => `${d.package} ${d.mb} MB`).join(', '),
    );
  });

  const unpacked = join(out, 'unpacked');
  mkdirSync(unpacked);
  const listing = spawnSync('tar', ['-tvzf', join(out, `${name}.tar.gz`)], { encoding: 'utf8', maxBuffer: 64 << 20 });
  spawnSync('tar', ['-xzf', join(out, `${name}.tar.gz`), '-C', unpacked]);
  const bundle = join(unpacked, name);

  t.test('the tarball: one top folder, root-owned, bin/ares executable', async (t) => {
    t.equal(listing.status, 0);
    const lines = listing.stdout.trim().split('\n');
    const paths = lines.map((l) => l.split(/\s+/).slice(5).join(' '));
    t.same([...new Set(paths.map((p) => p.split('/')[0]))], [name], 'one top folder');
    t.ok(
      lines.every((l) => l.split(/\s+/)[1] === '0/0'),
      'owner and group 0',
    );
    const ares = lines.find((l) => l.endsWith(` ${name}/bin/ares`));
    t.match(ares, /^-rwxr-xr-x /, 'bin/ares is executable');
    // Reproducible: one mtime for every entry (tarball.ts's determinism has its own unit test).
    const stamp = new Date(result.source_time * 1000).toISOString().slice(0, 16).replace('T', ' ');
    t.ok(
      lines.every((l) => l.split(/\s+/).slice(3, 5).join(' ') === stamp),
      `every entry dated ${stamp} UTC, the sources' time`,
    );
    for (const f of ['VERSION', 'manifest.json', 'node/bin/node', 'node/LICENSE', 'app/package.json'])
      t.ok(existsSync(join(bundle, f)), f);
    for (const m of ['imu-fall', 'radar-fall'])
      for (const f of ['model.json', 'meta.json'])
        t.ok(existsSync(join(bundle, 'app/models', m, f)), `models/${m}/${f}`);
    const manifest = JSON.parse(readFileSync(join(bundle, 'manifest.json'), 'utf8')) as Record<string, unknown>;
    t.match(manifest, { version: result.version, arch: 'arm64', node_version: '24.21.0', hub_node_flags: Array });
    t.equal(readFileSync(join(bundle, 'VERSION'), 'utf8'), `${result.version}\n`);
    const pkg = JSON.parse(readFileSync(join(bundle, 'app/package.json'), 'utf8')) as Record<string, unknown>;
    t.same(Object.keys(pkg).includes('devDependencies'), false, 'app/package.json has no devDependencies');
    t.equal(pkg['type'], 'module');
  });

  t.test('every binary is a 64-bit AArch64 ELF', async (t) => {
    const binaries = [...walkFiles(bundle)].filter((f) => f.endsWith('.node') || f.endsWith('/node/bin/node'));
    const rel = binaries.map((f) => relative(bundle, f)).sort();
    t.ok(rel.includes('node/bin/node'));
    for (const addon of ['better-sqlite3', 'epoll'])
      t.ok(
        rel.some((f) => f.startsWith(`app/node_modules/${addon}/build/Release/`)),
        `${addon} is built`,
      );
    t.notOk(
      existsSync(join(bundle, 'app/node_modules/better-sqlite3/prebuilds')),
      "better-sqlite3's prebuilds for other platforms are left out",
    );
    for (const f of binaries) {
      const h = readElfHeader(f);
      t.match(h, { bits: 64, littleEndian: true, machine: 183 }, relative(bundle, f));
    }
    t.same(result.elf_checked.slice().sort(), rel, 'the build checked the same files');
  });

  t.test('production only: no devDependencies, no pigpio, no TypeScript, no source maps', async (t) => {
    const app = join(bundle, 'app');
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean }>;
    };
    const dirs = [...packageDirs(join(app, 'node_modules'))].map((d) => relative(app, d));
    t.ok(dirs.length > 50, `${dirs.length} packages`);
    t.same(
      dirs.filter((d) => lock.packages[d]?.dev === true),
      [],
      'no package the lockfile marks dev-only',
    );
    for (const dev of ['tap', 'typescript', 'eslint', 'prettier', '@types/node', 'pigpio', 'node-gyp'])
      t.notOk(existsSync(join(app, 'node_modules', dev)), `no ${dev}`);
    const files = [...walkFiles(app)].map((f) => relative(app, f));
    t.same(
      files.filter((f) => /\.(ts|mts|cts|map)$/.test(f)),
      [],
      'no .ts files or source maps in app/',
    );
    t.notOk(existsSync(join(app, 'tests')), 'no tests');
    t.ok(files.includes('dist/cli/ares.js'));
    t.notOk(
      files.some((f) => f.startsWith('dist/') && !f.endsWith('.js') && !f.endsWith('.json')),
      'dist/ holds JavaScript only',
    );
    t.ok(
      files.some((f) => /^node_modules\/@node-rs\/argon2-linux-arm64-gnu\/.*\.node$/.test(f)),
      "argon2's linux-arm64-gnu prebuilt package",
    );
    t.notOk(
      files.some((f) => /argon2-linux-x64/.test(f)),
      "not the build machine's",
    );
  });

  t.test('the .debs: control fields and paths', async (t) => {
    for (const role of ['hub', 'central'] as const) {
      const pkg = `ares-${role}`;
      const other = role === 'hub' ? 'ares-central' : 'ares-hub';
      const deb = join(out, `${pkg}_${result.version}_arm64.deb`);
      const info = spawnSync('dpkg-deb', ['--info', deb], { encoding: 'utf8' });
      t.equal(info.status, 0, info.stderr);
      t.match(info.stdout, new RegExp(`^ Package: ${pkg}$`, 'm'));
      t.match(info.stdout, /^ Architecture: arm64$/m);
      t.match(info.stdout, /^ Depends: libc6 \(>= 2\.\d+\), libstdc\+\+6 \(>= \d+\), libgcc-s1, systemd$/m);
      t.match(info.stdout, new RegExp(`^ Conflicts: ${other}$`, 'm'));
      t.match(info.stdout, new RegExp(`^ Replaces: ${other}$`, 'm'));
      t.match(info.stdout, /^ Installed-Size: \d+$/m);
      for (const f of ['postinst', 'prerm', 'postrm', 'conffiles', 'md5sums']) t.match(info.stdout, ` ${f} `);
      const conffiles = spawnSync('dpkg-deb', ['--info', deb, 'conffiles'], { encoding: 'utf8' }).stdout;
      t.equal(conffiles, `/etc/ares/${role}.yaml\n`);

      const contents = spawnSync('dpkg-deb', ['--contents', deb], { encoding: 'utf8', maxBuffer: 64 << 20 }).stdout;
      const entry = (path: string) =>
        contents.split('\n').find((l) => l.endsWith(` ./${path}`) || l.includes(` ./${path} -> `));
      const rel = `opt/ares/releases/${result.version}`;
      t.match(entry(`${rel}/bin/ares`), /^-rwxr-xr-x root\/root/);
      t.match(entry(`${rel}/node/bin/node`), /^-rwxr-xr-x root\/root/);
      t.ok(entry(`${rel}/app/dist/cli/ares.js`));
      t.ok(entry(`usr/lib/systemd/system/${pkg}.service`));
      t.ok(entry(`usr/lib/sysusers.d/${pkg}.conf`));
      t.ok(entry(`usr/lib/tmpfiles.d/${pkg}.conf`));
      t.match(entry(`etc/ares/${role}.yaml`), /^-rw-r--r-- root\/root/);
      t.match(entry('usr/bin/ares'), /^lrwxrwxrwx .* -> \/opt\/ares\/current\/bin\/ares$/);
      t.ok(entry(`usr/share/doc/${pkg}/copyright`));
      t.ok(entry(`usr/share/doc/${pkg}/changelog.gz`));
      t.ok(entry(`usr/share/lintian/overrides/${pkg}`));
      t.notOk(entry('opt/ares/current'), '/opt/ares/current is not a packaged file');
      t.equal(
        readFileSync(join(ROOT, 'systemd', `${pkg}.service`), 'utf8'),
        spawnSync(
          'sh',
          ['-c', `dpkg-deb --fsys-tarfile "$1" | tar -xOf - ./usr/lib/systemd/system/${pkg}.service`, 'sh', deb],
          {
            encoding: 'utf8',
          },
        ).stdout,
        'the unit from systemd/',
      );
    }
  });

  t.test(
    'lintian: no errors, no warnings that are not overridden',
    { skip: !onPath('lintian') && 'needs the Debian package lintian' },
    async (t) => {
      const runs = await Promise.all(
        result.debs.map((d) =>
          runAsync('lintian', ['--tag-display-limit', '0', '--show-overrides', join(out, d.file)]),
        ),
      );
      for (const [i, r] of runs.entries()) {
        const deb = result.debs[i]!.package;
        const tags = r.stdout.split('\n').filter((l) => /^[EWIO]: /.test(l));
        t.same(
          tags.filter((l) => /^[EW]: /.test(l)),
          [],
          `${deb}: lintian errors and warnings`,
        );
        t.comment(
          `${deb}: ${tags.filter((l) => l.startsWith('O: ')).length} overridden, ${tags.filter((l) => l.startsWith('I: ')).length} info tags`,
        );
      }
    },
  );

  t.test('qemu smoke: bin/ares hub runs, provisions, loads the fall model and raises an alert', async (t) => {
    const stack = await startStack(t, { 'hub.buffer_commit_ms': 50 });
    const attached = await stack.api(
      'POST',
      `/api/components/devices/${stack.deviceId}/components`,
      { component_type: 'imu', name: 'Pendant', config: { node_id: 'pendant' } },
      stack.user,
    );
    t.equal(attached.status, 201, JSON.stringify(attached.body));
    const hubCfg = stack.hubConfig.hub;
    const configFile = join(out, 'hub.yaml');
    writeFileSync(
      configFile,
      [
        'log:',
        '  level: info',
        'hub:',
        `  state_dir: ${JSON.stringify(hubCfg.state_dir)}`,
        `  host_root: ${JSON.stringify(hubCfg.host_root)}`,
        '  gpio: sim',
        '  mqtt_port: 0',
        '  http_port: 0',
        `  central_url: ${JSON.stringify(stack.central.url)}`,
        '  components_poll_s: 1',
        '  buffer_commit_ms: 50',
        '',
      ].join('\n'),
    );
    const ares = join(bundle, 'bin', 'ares');
    const env = cleanEnv({ ARES_NODE_WRAPPER: QEMU });

    // The CLI under qemu first: a LAN node for the pendant (better-sqlite3 loads and writes).
    const added = await runAsync(ares, ['hub', 'nodes', 'add', 'pendant', '--config', configFile], { env });
    t.equal(added.code, 0, added.stderr);
    const node = JSON.parse(added.stdout) as { node_id: string; password: string };
    t.equal(node.node_id, 'pendant');

    const t0 = Date.now();
    const hub: ChildProcess = spawn(ares, ['hub', '--config', configFile], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    t.teardown(() => {
      if (hub.exitCode === null && hub.signalCode === null) hub.kill('SIGKILL');
    });
    const exited = new Promise<number | null>((resolve) => hub.on('exit', (code) => resolve(code)));
    const logs: Record<string, unknown>[] = [];
    let stdout = '';
    let stderr = '';
    hub.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString();
      const lines = stdout.split('\n');
      stdout = lines.pop()!;
      for (const l of lines) {
        try {
          logs.push(JSON.parse(l) as Record<string, unknown>);
        } catch {
          logs.push({ msg: l });
        }
      }
    });
    hub.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const tail = () =>
      `\n${logs
        .slice(-15)
        .map((l) => JSON.stringify(l))
        .join('\n')}\n${stderr.slice(-2000)}`;
    const logged = (msg: string) => logs.find((l) => l['msg'] === msg);

    await until(
      '"hub started" in the log',
      () => logged('hub started') !== undefined || hub.exitCode !== null,
      90_000,
    ).catch((err: Error) => t.fail(`${err.message}${tail()}`));
    const startedLine = logged('hub started');
    if (!startedLine) return void t.fail(`the hub did not start${tail()}`);
    const httpPort = startedLine['http_port'] as number;
    const mqttPort = startedLine['mqtt_port'] as number;
    t.ok(httpPort > 0 && mqttPort > 0, 'free ports from the log');

    type Health = {
      provisioned: boolean;
      buffer: { lanes: Record<string, unknown>; disk_written_bytes?: number };
      fall: { status: string; model?: string; backend?: string };
    };
    let health: Health | undefined;
    let healthyAfter: number | undefined;
    const poll = async (): Promise<boolean> => {
      try {
        const res = await fetch(`http://127.0.0.1:${httpPort}/healthz`);
        if (res.status !== 200) return false;
        healthyAfter ??= Date.now() - t0;
        health = (await res.json()) as Health;
        return health.provisioned && health.fall.status === 'running';
      } catch {
        return false;
      }
    };
    await until('/healthz: provisioned, fall detection running', poll, 180_000).catch((err: Error) =>
      t.fail(`${err.message}: ${JSON.stringify(health)}${tail()}`),
    );
    const fallAfter = Date.now() - t0;
    t.comment(
      `under qemu: /healthz answered 200 after ${((healthyAfter ?? NaN) / 1000).toFixed(1)} s, ` +
        `fall detection running after ${(fallAfter / 1000).toFixed(1)} s`,
    );
    t.match(health, {
      provisioned: true,
      buffer: { lanes: { alert: Object, event: Object, telemetry: Object } },
      fall: { status: 'running', model: /imu-fall@/, backend: 'wasm' },
    });
    t.ok(existsSync(join(hubCfg.state_dir, 'buffer.db')), 'the store-and-forward buffer is open on disk');
    t.match(logged('fall detection running'), { model: /imu-fall@/, backend: 'wasm' });
    t.ok(logged('component list applied'), 'the component list from central');

    // A fall streamed by the pendant: the model runs on arm64 Node 24 and the LAN hears the alert.
    const phone = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, {
      username: 'pendant',
      password: node.password,
      reconnectPeriod: 0,
    });
    t.teardown(() => phone.endAsync());
    const lan: string[] = [];
    phone.on('message', (_topic, payload) => lan.push(payload.toString()));
    await phone.subscribeAsync('alerts/#');
    await publishSyntheticFall(phone, 'pendant');
    await until('the LAN hears the alert', () => lan.length > 0, 90_000).catch((err: Error) =>
      t.fail(`${err.message}${tail()}`),
    );
    t.match(JSON.parse(lan[0] ?? '{}'), { alerts: [{ node_id: 'pendant', status: 'open' }] });

    const sent = Date.now();
    hub.kill('SIGTERM');
    const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r('timeout'), 60_000))]);
    t.equal(code, 0, `exit code after SIGTERM${code === 0 ? '' : tail()}`);
    t.comment(`stopped ${((Date.now() - sent) / 1000).toFixed(1)} s after SIGTERM`);
    t.ok(
      logs.some((l) => l['msg'] === 'stopping'),
      'it logged its shutdown',
    );
  });
}
