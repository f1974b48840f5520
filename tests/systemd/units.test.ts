import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { loadConfig } from '../../core/config.js';

// The shipped units and sysusers/tmpfiles snippets (systemd/README.md): checked with systemd's own tools
// (systemd-analyze verify/security, systemd-sysusers, systemd-tmpfiles against a temporary root), plus
// the settings the daemons and the .deb rely on, so none of them can silently go.

const SYSTEMD_DIR = fileURLToPath(new URL('../../systemd/', import.meta.url));
const LAUNCHER = '/opt/ares/current/bin/ares';
const RUN_TIMEOUT_MS = 60_000;

interface UnitSpec {
  /** Unit name, also its file name under systemd/. */
  name: string;
  /** `ares` sub-command the unit runs. */
  command: string;
  user: string;
  config: string;
  stateDir: string;
  /** `systemd-analyze security` overall exposure must stay at or below this. */
  exposureLimit: number;
  /** Checks systemd-analyze security may still count against the unit: each is justified in systemd/README.md. */
  justifiedGaps: string[];
  /** Supplementary groups (and sysusers `m` lines). */
  groups: string[];
}

const COMMON_GAPS = [
  'RootDirectory=/RootImage=',
  'PrivateNetwork=',
  'IPAddressDeny=',
  'MemoryDenyWriteExecute=',
  'RestrictAddressFamilies=~AF_(INET|INET6)',
  'RestrictAddressFamilies=~AF_UNIX',
  'RestrictAddressFamilies=~AF_NETLINK',
  'DeviceAllow=',
];

const HUB: UnitSpec = {
  name: 'ares-hub.service',
  command: 'hub',
  user: 'ares-hub',
  config: '/etc/ares/hub.yaml',
  stateDir: '/var/lib/ares-hub',
  exposureLimit: 4.5,
  justifiedGaps: [
    ...COMMON_GAPS,
    'RestrictAddressFamilies=~…',
    'PrivateUsers=',
    'PrivateDevices=',
    'ProcSubset=',
    'AmbientCapabilities=',
    'SupplementaryGroups=',
    'CapabilityBoundingSet=~CAP_NET_ADMIN',
    'CapabilityBoundingSet=~CAP_NET_(BIND_SERVICE|BROADCAST|RAW)',
  ],
  groups: ['gpio', 'i2c', 'spi', 'dialout', 'bluetooth'],
};

const CENTRAL: UnitSpec = {
  name: 'ares-central.service',
  command: 'central',
  user: 'ares-central',
  config: '/etc/ares/central.yaml',
  stateDir: '/var/lib/ares-central',
  exposureLimit: 2.5,
  justifiedGaps: COMMON_GAPS,
  groups: [],
};

const UNITS = [HUB, CENTRAL];

const snippet = (unit: UnitSpec, kind: 'sysusers' | 'tmpfiles') => path.join(SYSTEMD_DIR, `${unit.user}.${kind}.conf`);

// ---- tools ----------------------------------------------------------------------------------------------

/** Undefined when `tool` runs here; otherwise why the tests that need it are skipped. CI must have it. */
function toolProblem(tool: string): string | undefined {
  const r = spawnSync(tool, ['--version'], { encoding: 'utf8' });
  if (!r.error) return undefined;
  const problem = `${tool} is not installed: \`apt-get install systemd\` (the Debian package systemd; .ci/run installs it)`;
  if (process.env['CI']) throw new Error(`CI requires ${problem}`);
  return problem;
}

const analyzeProblem = toolProblem('systemd-analyze');
const sysusersProblem = toolProblem('systemd-sysusers');
const tmpfilesProblem = toolProblem('systemd-tmpfiles');
const tmpfilesSkip =
  tmpfilesProblem ??
  (process.getuid?.() === 0 ? undefined : 'systemd-tmpfiles sets owners, which needs root (CI runs as root)');

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  lines: string[];
}

function run(cmd: string, args: string[]): Run {
  const r = spawnSync(cmd, args, {
    encoding: 'utf8',
    timeout: RUN_TIMEOUT_MS,
    killSignal: 'SIGKILL',
    env: { ...process.env, SYSTEMD_COLORS: '0', SYSTEMD_PAGER: '', SYSTEMD_LOG_COLOR: '0' },
  });
  if (r.error) throw r.error;
  const lines = `${r.stdout}\n${r.stderr}`.split('\n').filter((l) => l.trim() !== '');
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, lines };
}

if (!analyzeProblem) t.comment(`systemd: ${run('systemd-analyze', ['--version']).lines[0] ?? '?'}`);

interface Teardown {
  teardown(fn: () => unknown): void;
}

function tempDir(tt: Teardown): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ares-systemd-test-'));
  tt.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

// ---- unit files -----------------------------------------------------------------------------------------

interface Entry {
  section: string;
  key: string;
  value: string;
}

/** A unit file as its assignments, in file order (comments and blank lines dropped). */
function parseUnit(text: string): Entry[] {
  const entries: Entry[] = [];
  let section = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = header[1]!;
      continue;
    }
    const eq = line.indexOf('=');
    if (eq < 0) throw new Error(`not an assignment: ${line}`);
    entries.push({ section, key: line.slice(0, eq).trim(), value: line.slice(eq + 1).trim() });
  }
  return entries;
}

class Unit {
  readonly entries: Entry[];
  constructor(readonly spec: UnitSpec) {
    this.entries = parseUnit(fs.readFileSync(path.join(SYSTEMD_DIR, spec.name), 'utf8'));
  }

  /** Every value assigned to section.key, in order. */
  all(section: string, key: string): string[] {
    return this.entries.filter((e) => e.section === section && e.key === key).map((e) => e.value);
  }

  /** The effective value of a single-valued setting (the last assignment wins). */
  one(section: string, key: string): string | undefined {
    return this.all(section, key).at(-1);
  }

  /** Space-separated list settings: an empty assignment resets the list, as systemd does. */
  list(section: string, key: string): string[] {
    let out: string[] = [];
    for (const value of this.all(section, key)) out = value === '' ? [] : [...out, ...value.split(/\s+/)];
    return out;
  }
}

/** systemd time spans as used here ("30s", "2min", "1min 30s", "90"), in seconds. */
function seconds(span: string | undefined): number {
  if (span === undefined) return NaN;
  const units: Record<string, number> = { '': 1, s: 1, sec: 1, m: 60, min: 60, h: 3600 };
  let total = 0;
  for (const part of span.trim().split(/\s+/)) {
    const m = /^(\d+(?:\.\d+)?)([a-z]*)$/.exec(part);
    const factor = m ? units[m[2]!] : undefined;
    if (!m || factor === undefined) return NaN;
    total += Number(m[1]) * factor;
  }
  return total;
}

// ---- systemd-analyze verify ------------------------------------------------------------------------------

/**
 * verify insists that ExecStart's binary exists, and /opt/ares is not installed here: the unit is copied into
 * a temporary directory with only that path pointing at a stub executable, every other line as shipped.
 */
function verifyCopy(tt: Teardown, unit: UnitSpec, extra = ''): { file: string; dir: string } {
  const dir = tempDir(tt);
  const stub = path.join(dir, 'ares');
  fs.writeFileSync(stub, '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  const shipped = fs.readFileSync(path.join(SYSTEMD_DIR, unit.name), 'utf8');
  const copy = shipped.replace(/^ExecStart=\/opt\/ares\/current\/bin\/ares /m, `ExecStart=${stub} `);
  const changed = shipped.split('\n').filter((line, i) => line !== copy.split('\n')[i]);
  if (changed.length !== 1 || !changed[0]!.startsWith(`ExecStart=${LAUNCHER} `))
    throw new Error(`${unit.name}: expected exactly one ExecStart=${LAUNCHER} line, changed: ${changed.join(' | ')}`);
  const file = path.join(dir, unit.name);
  fs.writeFileSync(file, copy + extra);
  return { file, dir };
}

function verify(file: string, dir: string, unit: UnitSpec) {
  const r = run('systemd-analyze', ['verify', '--man=no', file]);
  const ours = r.lines.filter((l) => l.includes(unit.name) || l.includes(dir));
  const host = r.lines.filter((l) => !ours.includes(l));
  return { r, ours, host };
}

for (const unit of UNITS) {
  t.test(`${unit.name}: systemd-analyze verify passes without a warning`, { skip: analyzeProblem }, async (t) => {
    const { file, dir } = verifyCopy(t, unit);
    const { r, ours, host } = verify(file, dir, unit);
    for (const line of host) t.comment(`verify (about the host, not our unit): ${line}`);
    t.same(ours, [], 'verify says nothing about the unit');
    t.equal(r.status, 0, 'verify exits 0');
  });

  t.test(`${unit.name}: verify would notice a broken line (control)`, { skip: analyzeProblem }, async (t) => {
    const { file, dir } = verifyCopy(t, unit, '\n[Service]\nWatchdogSec=30x\nRestrictRealtme=yes\n');
    const { ours } = verify(file, dir, unit);
    t.match(ours.join('\n'), /30x/, 'a bad time span is reported');
    t.match(ours.join('\n'), /RestrictRealtme/, 'an unknown key is reported');
  });

  // ---- systemd-analyze security ------------------------------------------------------------------------

  t.test(
    `${unit.name}: systemd-analyze security exposure ≤ ${unit.exposureLimit}`,
    { skip: analyzeProblem },
    async (t) => {
      const file = path.join(SYSTEMD_DIR, unit.name);
      const threshold = Math.round(unit.exposureLimit * 10); // --threshold counts tenths
      const r = run('systemd-analyze', ['security', '--offline=true', `--threshold=${threshold}`, '--no-pager', file]);
      const m = /Overall exposure level for (\S+): (\d+(?:\.\d+)?)/.exec(r.stdout);
      if (!m) {
        t.fail(`no overall exposure in the output:\n${r.stdout}\n${r.stderr}`);
        return;
      }
      const exposure = Number(m[2]);
      t.equal(m[1], unit.name);
      t.comment(`${unit.name}: measured exposure ${exposure} (limit ${unit.exposureLimit})`);
      t.ok(exposure <= unit.exposureLimit, `exposure ${exposure} ≤ ${unit.exposureLimit}`);
      t.equal(r.status, 0, `below --threshold=${threshold}`);
      t.same(
        r.stderr.split('\n').filter((l) => l.includes(unit.name)),
        [],
        'no complaint about the unit while loading it',
      );

      const json = run('systemd-analyze', ['security', '--offline=true', '--json=short', '--no-pager', file]);
      const checks = JSON.parse(json.stdout) as { set: boolean; name: string; exposure: string | null }[];
      t.ok(checks.length > 50, 'the JSON lists every check');
      const gaps = checks.filter((c) => !c.set && Number(c.exposure ?? 0) > 0).map((c) => c.name);
      t.comment(`${unit.name}: still counted: ${gaps.join(', ')}`);
      t.same(
        gaps.filter((g) => !unit.justifiedGaps.includes(g)),
        [],
        'every check still counted is one systemd/README.md justifies (justify a new one there and here)',
      );
    },
  );
}

// ---- the settings the daemons and the packages rely on --------------------------------------------------

for (const spec of UNITS) {
  t.test(`${spec.name}: key settings`, async (t) => {
    const u = new Unit(spec);
    const S = 'Service';
    t.equal(u.one(S, 'Type'), 'notify', 'Type=notify: the daemon sends READY=1');
    t.equal(u.one(S, 'NotifyAccess'), 'main', 'only the main process may notify');
    t.equal(u.one(S, 'ExecStart'), `${LAUNCHER} ${spec.command} --config ${spec.config}`);
    const watchdog = seconds(u.one(S, 'WatchdogSec'));
    t.ok(watchdog >= 10 && watchdog <= 120, `WatchdogSec=${u.one(S, 'WatchdogSec')} is set and sane`);
    t.ok(seconds(u.one(S, 'TimeoutStartSec')) >= 60, 'TimeoutStartSec leaves a Pi Zero 2 W time to start');
    t.ok(seconds(u.one(S, 'TimeoutStopSec')) > 0, 'TimeoutStopSec is explicit');
    t.equal(u.one(S, 'Restart'), 'always', 'restarted after any exit nobody asked for');
    t.ok(seconds(u.one(S, 'RestartSec')) > 0, 'RestartSec is explicit');
    t.equal(u.one('Unit', 'StartLimitIntervalSec'), '0', 'never stops retrying');
    t.equal(u.one(S, 'User'), spec.user);
    t.equal(u.one(S, 'Group'), spec.user);
    t.equal(u.one(S, 'StateDirectory'), path.basename(spec.stateDir));
    t.equal(u.one(S, 'StateDirectoryMode'), '0750');
    t.equal(u.one(S, 'NoNewPrivileges'), 'yes');
    t.equal(u.one(S, 'ProtectSystem'), 'strict');
    t.equal(u.one(S, 'ProtectHome'), 'yes');
    t.equal(u.one(S, 'PrivateTmp'), 'yes');
    t.equal(u.one(S, 'ProtectKernelTunables'), 'yes');
    t.equal(u.one(S, 'DevicePolicy'), 'closed');
    t.not(u.one(S, 'MemoryDenyWriteExecute'), 'yes', 'V8 needs writable+executable memory for its JIT');
    t.equal(u.one(S, 'SystemCallArchitectures'), 'native');
    t.ok(u.list(S, 'SystemCallFilter').includes('@system-service'), 'system calls are allow-listed');
    t.equal(u.one(S, 'SystemCallErrorNumber'), 'EPERM', 'filtered calls fail instead of killing Node');
    t.ok(u.list(S, 'ReadOnlyPaths').includes('/run'), '/run read-only (the API VFS would leave it writable)');
    t.ok(u.list(S, 'NoExecPaths').includes('/'), 'nothing executes outside ExecPaths');
    t.ok(u.list(S, 'NoExecPaths').includes(spec.stateDir), 'the state directory is not executable');
    t.same(u.list(S, 'ExecPaths').sort(), ['/opt/ares', '/usr']);
    t.equal(u.one(S, 'EnvironmentFile'), `-/etc/default/${spec.user}`);
    t.equal(u.one(S, 'SyslogIdentifier'), spec.user);
    t.equal(u.one('Install', 'WantedBy'), 'multi-user.target');
  });
}

t.test('ares-hub.service: starts without a network, with exactly the access its hardware needs', async (t) => {
  const u = new Unit(HUB);
  const S = 'Service';
  const deps = ['Wants', 'Requires', 'After', 'BindsTo', 'Requisite'].flatMap((k) => u.list('Unit', k));
  t.notOk(deps.includes('network-online.target'), 'no network-online.target: the hub buffers offline');
  t.notOk(deps.includes('time-sync.target'), 'no time-sync.target: an offline hub would wait forever');
  t.ok(u.list('Unit', 'After').includes('network.target'), 'stops before the network at shutdown');
  t.same(u.list(S, 'CapabilityBoundingSet').sort(), ['CAP_NET_ADMIN', 'CAP_NET_RAW'], 'only the BLE capabilities');
  t.same(u.list(S, 'AmbientCapabilities').sort(), ['CAP_NET_ADMIN', 'CAP_NET_RAW']);
  t.same(u.list(S, 'SupplementaryGroups').sort(), [...HUB.groups].sort());
  // /sys/class/gpio/gpioN are symlinks into /sys/devices/platform/...: the class directory alone stays EROFS.
  t.ok(u.list(S, 'ReadWritePaths').includes('-/sys/class/gpio'), 'GPIO export/unexport writable');
  t.ok(u.list(S, 'ReadWritePaths').includes('/sys/devices/platform'), 'exported pins writable (symlink targets)');
  const devices = u.all(S, 'DeviceAllow').map((d) => d.split(/\s+/)[0]);
  for (const d of ['char-gpiochip', 'char-i2c', 'char-spi', 'char-ttyAMA', 'char-ttyS'])
    t.ok(devices.includes(d), `DeviceAllow=${d}`);
  t.ok(u.list(S, 'RestrictAddressFamilies').includes('AF_BLUETOOTH'), 'BLE provisioning');
  t.not(u.one(S, 'PrivateUsers'), 'yes', 'capabilities and device groups need the host user namespace');
  t.not(u.one(S, 'ProcSubset'), 'pid', 'the hub reads /proc/cpuinfo (CPU serial) and /proc/meminfo');
});

t.test('ares-central.service: network and its data directory, nothing else', async (t) => {
  const u = new Unit(CENTRAL);
  const S = 'Service';
  t.same(u.list(S, 'CapabilityBoundingSet'), [], 'no capabilities');
  t.same(u.list(S, 'AmbientCapabilities'), []);
  t.same(u.list(S, 'SupplementaryGroups'), []);
  t.same(u.all(S, 'DeviceAllow'), []);
  t.equal(u.one(S, 'PrivateDevices'), 'yes');
  t.equal(u.one(S, 'PrivateUsers'), 'yes');
  t.equal(u.one(S, 'ProcSubset'), 'pid');
  t.same(u.list(S, 'ReadWritePaths'), [], 'writes only its state directory');
  t.ok(u.all(S, 'Environment').includes(`ARES_CENTRAL_DATA_DIR=${CENTRAL.stateDir}`), 'data dir = state dir');
  t.ok(u.list('Unit', 'Wants').includes('network-online.target'), 'a server waits for its network');
  t.notOk(u.list(S, 'RestrictAddressFamilies').includes('AF_BLUETOOTH'));
});

// ---- sysusers / tmpfiles snippets agree with the units ---------------------------------------------------

interface SysusersLine {
  type: string;
  name: string;
  id: string;
  gecos: string;
  home: string;
}

function parseSysusers(text: string): SysusersLine[] {
  const out: SysusersLine[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const fields = [...line.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? '');
    const [type = '', name = '', id = '-', gecos = '-', home = '-'] = fields;
    out.push({ type, name, id, gecos, home });
  }
  return out;
}

interface TmpfilesLine {
  type: string;
  path: string;
  mode: string;
  user: string;
  group: string;
}

function parseTmpfiles(text: string): TmpfilesLine[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const [type = '', p = '', mode = '', user = '', group = ''] = l.split(/\s+/);
      return { type, path: p, mode, user, group };
    });
}

for (const spec of UNITS) {
  t.test(`${spec.user}: sysusers and tmpfiles snippets match ${spec.name}`, async (t) => {
    const sysusers = parseSysusers(fs.readFileSync(snippet(spec, 'sysusers'), 'utf8'));
    const users = sysusers.filter((l) => l.type === 'u');
    t.same(
      users.map((u) => [u.name, u.home]),
      [[spec.user, spec.stateDir]],
      'one system user, home = state directory',
    );
    t.same(
      sysusers
        .filter((l) => l.type === 'm')
        .map((l) => [l.name, l.id])
        .sort(),
      spec.groups.map((g) => [spec.user, g]).sort(),
      'a member of exactly the SupplementaryGroups',
    );

    const tmpfiles = parseTmpfiles(fs.readFileSync(snippet(spec, 'tmpfiles'), 'utf8'));
    const at = (p: string) =>
      tmpfiles.filter((l) => l.path === p).map(({ type, mode, user, group }) => ({ type, mode, user, group }));
    t.same(at('/etc/ares'), [{ type: 'd', mode: '0755', user: 'root', group: 'root' }]);
    t.same(at(spec.config), [{ type: 'f', mode: '0640', user: 'root', group: spec.user }], 'the --config file');
    t.same(at(spec.stateDir), [{ type: 'd', mode: '0750', user: spec.user, group: spec.user }], 'the state dir');
  });
}

// ---- systemd-sysusers / systemd-tmpfiles against a temporary root ---------------------------------------

function readDb(root: string, name: 'passwd' | 'group'): string[][] {
  const file = path.join(root, 'etc', name);
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(':'));
}

const member = (root: string, group: string) =>
  (readDb(root, 'group').find((g) => g[0] === group)?.[3] ?? '').split(',').filter(Boolean);

function sysusers(root: string, ...files: string[]): Run {
  return run('systemd-sysusers', [`--root=${root}`, ...files]);
}

t.test(
  'systemd-sysusers: --dry-run shows the users it would create and writes nothing',
  { skip: sysusersProblem },
  async (t) => {
    const root = tempDir(t);
    fs.mkdirSync(path.join(root, 'etc'));
    for (const spec of UNITS) {
      const r = run('systemd-sysusers', [`--root=${root}`, '--dry-run', snippet(spec, 'sysusers')]);
      t.equal(r.status, 0, 'exits 0', { output: r.lines });
      t.match(r.lines.join('\n'), new RegExp(`Creating user '${spec.user}'`));
    }
    t.notOk(fs.existsSync(path.join(root, 'etc', 'passwd')), 'nothing written');
  },
);

t.test(
  'systemd-sysusers: on a system without the device groups it creates them',
  { skip: sysusersProblem },
  async (t) => {
    const root = tempDir(t);
    fs.mkdirSync(path.join(root, 'etc'));
    const r = sysusers(root, snippet(HUB, 'sysusers'), snippet(CENTRAL, 'sysusers'));
    t.equal(r.status, 0, 'exits 0', { output: r.lines });
    for (const spec of UNITS) {
      const entry = readDb(root, 'passwd').find((p) => p[0] === spec.user);
      t.ok(entry, `user ${spec.user}`);
      if (!entry) continue;
      const [, , uid = '', gid = '', , home, shell = ''] = entry;
      t.ok(Number(uid) > 0 && Number(uid) < 1000, `${spec.user} is a system user (uid ${uid})`);
      t.equal(home, spec.stateDir);
      t.match(shell, /nologin$/);
      t.equal(readDb(root, 'group').find((g) => g[0] === spec.user)?.[2], gid, 'its own primary group');
    }
    for (const g of HUB.groups) t.same(member(root, g), ['ares-hub'], `group ${g} created, ares-hub in it`);
  },
);

t.test('systemd-sysusers: on Raspberry Pi OS it joins the existing groups', { skip: sysusersProblem }, async (t) => {
  const root = tempDir(t);
  fs.mkdirSync(path.join(root, 'etc'));
  const existing = [
    'root:x:0:',
    'dialout:x:20:pi',
    'gpio:x:997:pi',
    'i2c:x:998:pi',
    'spi:x:999:pi',
    'bluetooth:x:112:',
  ];
  fs.writeFileSync(path.join(root, 'etc', 'group'), existing.join('\n') + '\n');
  fs.writeFileSync(
    path.join(root, 'etc', 'passwd'),
    'root:x:0:0:root:/root:/bin/bash\npi:x:1000:1000::/home/pi:/bin/bash\n',
  );
  const r = sysusers(root, snippet(HUB, 'sysusers'));
  t.equal(r.status, 0, 'exits 0', { output: r.lines });
  t.notMatch(r.lines.join('\n'), /Creating group '(gpio|i2c|spi|dialout|bluetooth)'/, 'no device group re-created');
  const gids = Object.fromEntries(readDb(root, 'group').map((g) => [g[0], g[2]]));
  t.match(gids, { dialout: '20', gpio: '997', i2c: '998', spi: '999', bluetooth: '112' }, 'GIDs unchanged');
  for (const g of HUB.groups) t.ok(member(root, g).includes('ares-hub'), `ares-hub in ${g}`);
  t.ok(member(root, 'gpio').includes('pi'), 'existing members kept');

  const before = fs.readFileSync(path.join(root, 'etc', 'group'), 'utf8');
  const again = sysusers(root, snippet(HUB, 'sysusers'));
  t.equal(again.status, 0);
  t.notMatch(again.lines.join('\n'), /Creating/, 'a second run (an upgrade) changes nothing');
  t.equal(fs.readFileSync(path.join(root, 'etc', 'group'), 'utf8'), before);
});

t.test(
  'systemd-tmpfiles --create: config files and state directories',
  { skip: sysusersProblem ?? tmpfilesSkip },
  async (t) => {
    const root = tempDir(t);
    fs.mkdirSync(path.join(root, 'etc'));
    t.equal(sysusers(root, snippet(HUB, 'sysusers'), snippet(CENTRAL, 'sysusers')).status, 0);
    // An operator's central.yaml is kept, only its permissions are corrected.
    fs.mkdirSync(path.join(root, 'etc', 'ares'));
    const mine = 'central:\n  port: 8081\n';
    fs.writeFileSync(path.join(root, 'etc', 'ares', 'central.yaml'), mine, { mode: 0o644 });

    const r = run('systemd-tmpfiles', [
      `--root=${root}`,
      '--create',
      snippet(HUB, 'tmpfiles'),
      snippet(CENTRAL, 'tmpfiles'),
    ]);
    t.equal(r.status, 0, 'exits 0', { output: r.lines });
    t.same(r.lines, [], 'no warnings (both snippets list /etc/ares identically)');

    const ids = Object.fromEntries(readDb(root, 'passwd').map((p) => [p[0], Number(p[2])]));
    const gids = Object.fromEntries(readDb(root, 'group').map((g) => [g[0], Number(g[2])]));
    const stat = (p: string) => {
      const st = fs.statSync(path.join(root, p));
      return { dir: st.isDirectory(), mode: (st.mode & 0o7777).toString(8).padStart(4, '0'), uid: st.uid, gid: st.gid };
    };
    t.same(stat('/etc/ares'), { dir: true, mode: '0755', uid: 0, gid: 0 });
    for (const spec of UNITS) {
      t.same(stat(spec.config), { dir: false, mode: '0640', uid: 0, gid: gids[spec.user] }, `${spec.config}`);
      t.same(
        stat(spec.stateDir),
        { dir: true, mode: '0750', uid: ids[spec.user], gid: gids[spec.user] },
        spec.stateDir,
      );
    }
    t.equal(fs.readFileSync(path.join(root, CENTRAL.config), 'utf8'), mine, 'an existing config is not overwritten');

    // The file tmpfiles creates must be a valid configuration: every default.
    const created = path.join(root, HUB.config);
    t.match(fs.readFileSync(created, 'utf8'), /^#/, 'a comment pointing at the README');
    t.doesNotThrow(() => loadConfig({ file: created, env: {} }), 'ares accepts it');
    t.equal(
      loadConfig({ file: created, env: {} }).hub.state_dir,
      HUB.stateDir,
      'defaults: the state dir the unit uses',
    );
  },
);
