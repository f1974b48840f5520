import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  statSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { MAINTAINER_SCRIPTS, renderTemplate, templateVars } from '../../cross-build/lib/deb.js';
import { ROOT } from '../../cross-build/build-pi.js';

/*
 * The maintainer scripts run for real, in a DPKG_ROOT tree, with the system tools they call replaced by
 * stubs that log their arguments: what they do to /opt/ares/current, the state and the config.
 */

const SYSTEMD_TOOLS = ['systemd-sysusers', 'systemd-tmpfiles'];
const SERVICE_TOOLS = ['deb-systemd-helper', 'deb-systemd-invoke', 'systemctl'];
const onPath = (cmd: string) => spawnSync('sh', ['-c', 'command -v "$1"', 'sh', cmd]).status === 0;

function setup(
  tt: { teardown(fn: () => void): void },
  role: 'hub' | 'central',
  version = '1.2.3',
  /** Run the real systemd-sysusers and systemd-tmpfiles (on the DPKG_ROOT tree) instead of stubs. */
  realSystemd = false,
) {
  const dir = mkdtempSync(join(tmpdir(), 'ares-maint-'));
  tt.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const root = join(dir, 'root');
  const scripts = join(dir, 'scripts');
  const stubs = join(dir, 'stubs');
  const log = join(dir, 'calls.log');
  mkdirSync(scripts, { recursive: true });
  mkdirSync(stubs, { recursive: true });
  for (const s of realSystemd ? SERVICE_TOOLS : [...SYSTEMD_TOOLS, ...SERVICE_TOOLS])
    writeFileSync(join(stubs, s), `#!/bin/sh\necho "${s} $*" >> "${log}"\n`, { mode: 0o755 });
  const vars = templateVars(role, version, 'Test <test@example.com>', 0);
  for (const s of MAINTAINER_SCRIPTS) writeFileSync(join(scripts, s), renderTemplate(ROOT, s, vars), { mode: 0o755 });
  /** What dpkg unpacks: the release, the config, the systemd snippets from systemd/. */
  const unpack = (v: string) => {
    for (const [from, to] of [
      [`ares-${role}.sysusers.conf`, `usr/lib/sysusers.d/ares-${role}.conf`],
      [`ares-${role}.tmpfiles.conf`, `usr/lib/tmpfiles.d/ares-${role}.conf`],
    ] as const) {
      mkdirSync(join(root, to, '..'), { recursive: true });
      writeFileSync(join(root, to), readFileSync(join(ROOT, 'systemd', from)));
    }
    mkdirSync(join(root, 'opt/ares/releases', v, 'bin'), { recursive: true });
    writeFileSync(join(root, 'opt/ares/releases', v, 'bin/ares'), '#!/bin/sh\n', { mode: 0o755 });
    mkdirSync(join(root, 'etc/ares'), { recursive: true });
    writeFileSync(join(root, `etc/ares/${role}.yaml`), '# settings\n');
  };
  const run = (script: (typeof MAINTAINER_SCRIPTS)[number], ...args: string[]) => {
    rmSync(log, { force: true });
    const r = spawnSync('sh', [join(scripts, script), ...args], {
      encoding: 'utf8',
      env: { PATH: `${stubs}:${process.env['PATH']}`, DPKG_ROOT: root },
    });
    const calls = existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : [];
    return { status: r.status, stderr: r.stderr, calls };
  };
  const current = () => {
    try {
      return readlinkSync(join(root, 'opt/ares/current'));
    } catch {
      return undefined;
    }
  };
  return { root, run, unpack, current };
}

t.test('install: user, tmpfiles, /opt/ares/current, enabled; nothing started inside DPKG_ROOT', async (t) => {
  const { root, run, unpack, current } = setup(t, 'hub');
  unpack('1.2.3');
  const r = run('postinst', 'configure', '');
  t.equal(r.status, 0, r.stderr);
  t.equal(current(), 'releases/1.2.3', 'relative, so it resolves inside DPKG_ROOT too');
  t.same(r.calls.slice(0, 2), [
    `systemd-sysusers --root=${root} ares-hub.conf`,
    `systemd-tmpfiles --root=${root} --create ares-hub.conf`,
  ]);
  t.ok(r.calls.includes('deb-systemd-helper unmask ares-hub.service'));
  t.ok(r.calls.includes('deb-systemd-helper --quiet was-enabled ares-hub.service'));
  t.notOk(
    r.calls.some((c) => c.startsWith('systemctl') || c.startsWith('deb-systemd-invoke')),
    'no daemon-reload or start in an image being built',
  );
  t.notOk(existsSync(join(root, 'opt/ares/current.dpkg-new')), 'no temporary link left');
});

t.test(
  'with the real systemd-sysusers and systemd-tmpfiles: the user, the state folder, the config made 0640',
  { skip: !SYSTEMD_TOOLS.every(onPath) && 'needs the Debian package systemd' },
  async (t) => {
    const { root, run, unpack, current } = setup(t, 'hub', '1.2.3', true);
    unpack('1.2.3');
    for (const f of ['passwd', 'group', 'shadow', 'gshadow']) writeFileSync(join(root, 'etc', f), '');
    const r = run('postinst', 'configure', '');
    t.equal(r.status, 0, r.stderr);
    t.equal(current(), 'releases/1.2.3');
    const passwd = readFileSync(join(root, 'etc/passwd'), 'utf8');
    const user = /^ares-hub:x:(\d+):(\d+):[^:]*:\/var\/lib\/ares-hub:/m.exec(passwd);
    t.ok(user, 'the ares-hub system user');
    t.match(readFileSync(join(root, 'etc/group'), 'utf8'), /^gpio:x:\d+:ares-hub$/m, 'in the gpio group');
    const state = statSync(join(root, 'var/lib/ares-hub'));
    t.equal(state.mode & 0o777, 0o750);
    t.equal(String(state.uid), user?.[1], 'the state folder belongs to it');
    const config = statSync(join(root, 'etc/ares/hub.yaml'));
    t.equal(config.mode & 0o777, 0o640, 'the shipped 0644 config becomes 0640');
    t.equal(config.uid, 0);
    t.equal(String(config.gid), user?.[2], 'readable by the daemon’s group');
    t.equal(readFileSync(join(root, 'etc/ares/hub.yaml'), 'utf8'), '# settings\n', 'and keeps its contents');
  },
);

t.test('upgrade flips /opt/ares/current to the new release; a missing release fails loudly', async (t) => {
  const { run, unpack, current } = setup(t, 'hub', '2.0.0');
  unpack('1.0.0');
  unpack('2.0.0');
  t.equal(run('postinst', 'configure', '1.0.0').status, 0);
  t.equal(current(), 'releases/2.0.0');

  const broken = setup(t, 'hub', '3.0.0');
  broken.unpack('2.0.0');
  const r = broken.run('postinst', 'configure', '2.0.0');
  t.equal(r.status, 1);
  t.match(r.stderr, /releases\/3\.0\.0 is incomplete/);
  t.equal(broken.current(), undefined, 'current untouched');
});

t.test('remove keeps state and an OTA release; drops a dangling current; purge deletes state and config', async (t) => {
  const { root, run, unpack, current } = setup(t, 'hub');
  unpack('1.2.3');
  t.equal(run('postinst', 'configure', '').status, 0);
  mkdirSync(join(root, 'var/lib/ares-hub'), { recursive: true });
  writeFileSync(join(root, 'var/lib/ares-hub/buffer.db'), 'data');
  writeFileSync(join(root, 'etc/ares/hub.yaml.dpkg-old'), 'old');

  // dpkg deletes the package's files, then runs postrm remove.
  t.equal(run('prerm', 'remove').status, 0);
  rmSync(join(root, 'opt/ares/releases/1.2.3'), { recursive: true });
  const removed = run('postrm', 'remove');
  t.equal(removed.status, 0, removed.stderr);
  t.equal(current(), undefined, 'current pointed at the removed release: gone');
  t.notOk(existsSync(join(root, 'opt/ares')), 'empty /opt/ares folders go');
  t.ok(existsSync(join(root, 'var/lib/ares-hub/buffer.db')), 'state survives removal');
  t.ok(removed.calls.includes('deb-systemd-helper mask ares-hub.service'));

  const purged = run('postrm', 'purge');
  t.equal(purged.status, 0, purged.stderr);
  t.notOk(existsSync(join(root, 'var/lib/ares-hub')), 'purge deletes the state');
  t.notOk(existsSync(join(root, 'etc/ares')), 'and the config leftovers');
  t.ok(purged.calls.includes('deb-systemd-helper purge ares-hub.service'));
});

t.test('remove leaves /opt/ares/current alone when it points at a release OTA installed', async (t) => {
  const { root, run, unpack, current } = setup(t, 'central');
  unpack('1.2.3');
  unpack('1.3.0'); // OTA's release
  t.equal(run('postinst', 'configure', '').status, 0);
  rmSync(join(root, 'opt/ares/current'));
  symlinkSync('releases/1.3.0', join(root, 'opt/ares/current'));
  rmSync(join(root, 'opt/ares/releases/1.2.3'), { recursive: true });
  t.equal(run('postrm', 'remove').status, 0);
  t.equal(current(), 'releases/1.3.0');
  t.ok(existsSync(join(root, 'opt/ares/releases/1.3.0/bin/ares')), "OTA's release is not dpkg's business");
  t.equal(run('postrm', 'purge').status, 0);
  t.notOk(existsSync(join(root, 'etc/ares/central.yaml')));
});

t.test('upgrade and failed-upgrade leave state alone; prerm upgrade does not stop the service', async (t) => {
  const { root, run, unpack } = setup(t, 'hub');
  unpack('1.2.3');
  mkdirSync(join(root, 'var/lib/ares-hub'), { recursive: true });
  for (const args of [
    ['upgrade', '1.2.4'],
    ['failed-upgrade', '1.2.4'],
  ]) {
    const r = run('postrm', ...args);
    t.equal(r.status, 0);
    t.same(r.calls, [], `postrm ${args[0]} does nothing`);
  }
  t.same(run('prerm', 'upgrade', '1.2.4').calls, []);
  t.ok(existsSync(join(root, 'var/lib/ares-hub')));
});

t.test('the scripts are POSIX sh with set -e (dash parses them)', async (t) => {
  const vars = templateVars('hub', '1.2.3', 'x <x@example.com>', 0);
  for (const s of MAINTAINER_SCRIPTS) {
    const text = renderTemplate(ROOT, s, vars);
    t.match(text, /^#!\/bin\/sh\n/);
    t.match(text, /^set -e$/m);
    t.notMatch(text, /@[A-Z_]+@/, 'every placeholder filled');
    const shell = existsSync('/bin/dash') ? '/bin/dash' : 'sh';
    const r = spawnSync(shell, ['-n'], { input: text, encoding: 'utf8' });
    t.equal(r.status, 0, `${s}: ${r.stderr}`);
  }
});
