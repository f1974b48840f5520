import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { configTemplate } from '../../cross-build/lib/config-template.js';
import { debianVersion } from '../../cross-build/lib/deb.js';
import { checkBundleElves, elfMismatch, parseElfHeader } from '../../cross-build/lib/elf.js';
import { BuildError } from '../../cross-build/lib/errors.js';
import { launcherScript } from '../../cross-build/lib/launcher.js';
import { isDeadWeight, pruneModules } from '../../cross-build/lib/prune.js';
import { makeTarball } from '../../cross-build/lib/tarball.js';
import { targetFor } from '../../cross-build/lib/targets.js';
import { loadConfig } from '../../core/config.js';
import { CONFIG_SCHEMA } from '../../core/config-schema.js';
import { HUB_NODE_FLAGS } from '../../daemon/node-flags.js';

/** The first 64 bytes of an ELF file: identification, e_type and e_machine (little-endian unless told). */
function elfHeader(opts: { bits?: 32 | 64; machine: number; bigEndian?: boolean; type?: number }): Buffer {
  const b = Buffer.alloc(64);
  b.set([0x7f, 0x45, 0x4c, 0x46], 0);
  b[4] = opts.bits === 32 ? 1 : 2;
  b[5] = opts.bigEndian ? 2 : 1;
  b[6] = 1;
  const write = (v: number, at: number) => (opts.bigEndian ? b.writeUInt16BE(v, at) : b.writeUInt16LE(v, at));
  write(opts.type ?? 3, 16);
  write(opts.machine, 18);
  return b;
}

function tempDir(tt: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'ares-cross-unit-'));
  tt.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

t.test('ELF headers: only 64-bit little-endian files of the target machine pass', async (t) => {
  t.same(parseElfHeader(elfHeader({ machine: 183 })), { bits: 64, littleEndian: true, type: 3, machine: 183 });
  t.equal(elfMismatch(parseElfHeader(elfHeader({ machine: 183 })), 183), undefined, 'aarch64 for arm64');
  t.equal(
    elfMismatch(parseElfHeader(elfHeader({ machine: 62 })), 183),
    'built for x86-64, not AArch64',
    'an x86-64 file is rejected for arm64',
  );
  t.match(elfMismatch(parseElfHeader(elfHeader({ bits: 32, machine: 40 })), 183), /ARM \(32-bit\).*ELFCLASS32/);
  t.match(elfMismatch(parseElfHeader(elfHeader({ machine: 183, bigEndian: true })), 183), /big-endian/);
  t.equal(parseElfHeader(Buffer.from('#!/bin/sh\necho hi\n')), undefined, 'a script is not ELF');
  t.equal(parseElfHeader(Buffer.from([0x7f, 0x45, 0x4c])), undefined, 'truncated');
  t.equal(elfMismatch(undefined, 183), 'not an ELF file');
});

t.test('checkBundleElves names every offending file, and passes a clean tree', async (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'app/node_modules/better-sqlite3/build/Release'), { recursive: true });
  mkdirSync(join(dir, 'node/bin'), { recursive: true });
  writeFileSync(join(dir, 'node/bin/node'), elfHeader({ machine: 183, type: 2 }));
  writeFileSync(
    join(dir, 'app/node_modules/better-sqlite3/build/Release/better_sqlite3.node'),
    elfHeader({ machine: 183 }),
  );
  writeFileSync(join(dir, 'app/index.js'), 'export {};\n');
  t.same(checkBundleElves(dir, 183), [
    'app/node_modules/better-sqlite3/build/Release/better_sqlite3.node',
    'node/bin/node',
  ]);

  // A host build slipped in, a .node that is no ELF at all, and a stray x86-64 helper binary.
  writeFileSync(
    join(dir, 'app/node_modules/better-sqlite3/build/Release/better_sqlite3.node'),
    elfHeader({ machine: 62 }),
  );
  writeFileSync(join(dir, 'app/broken.node'), 'not a binary');
  writeFileSync(join(dir, 'app/helper'), elfHeader({ machine: 62, type: 2 }));
  const err = t.throws(() => checkBundleElves(dir, 183)) as BuildError;
  t.ok(err instanceof BuildError);
  t.match(err.message, /better_sqlite3\.node: built for x86-64, not AArch64/);
  t.match(err.message, /app\/broken\.node: not an ELF file/);
  t.match(err.message, /app\/helper: built for x86-64/);
});

t.test('--arch: 64-bit names and aliases; 32-bit is refused with the reason', async (t) => {
  t.equal(targetFor('arm64').elfMachine, 183);
  t.equal(targetFor('aarch64').arch, 'arm64');
  t.equal(targetFor('x64').debArch, 'amd64');
  for (const arch of ['armv7', 'armhf', 'armv7l', 'armv6l', 'i386']) {
    const err = t.throws(() => targetFor(arch)) as BuildError;
    t.match(err.message, new RegExp(`--arch ${arch}: 32-bit is not supported: .*Node\\.js 24.*64-bit Raspberry Pi OS`));
    t.equal(err.exitCode, 2, 'a usage error');
  }
  t.match((t.throws(() => targetFor('riscv64')) as Error).message, /unknown architecture/);
});

t.test('the launcher: the real release folder, the hub flags from daemon/node-flags.ts, a wrapper hook', async (t) => {
  const script = launcherScript(HUB_NODE_FLAGS);
  t.match(script, /^#!\/bin\/sh\n/);
  t.match(script, `exec \${ARES_NODE_WRAPPER-} "$root/node/bin/node" ${HUB_NODE_FLAGS.join(' ')} "$app" "$@"`);
  t.match(script, 'exec ${ARES_NODE_WRAPPER-} "$root/node/bin/node" "$app" "$@"');

  // Run it with sh, through a symlink, with `node` replaced by a script that prints its arguments.
  const dir = tempDir(t);
  const rel = join(dir, 'releases', '1.2.3');
  mkdirSync(join(rel, 'bin'), { recursive: true });
  mkdirSync(join(rel, 'node', 'bin'), { recursive: true });
  writeFileSync(join(rel, 'bin', 'ares'), script, { mode: 0o755 });
  writeFileSync(join(rel, 'node', 'bin', 'node'), '#!/bin/sh\nprintf "%s\\n" "$0" "$@"\n', { mode: 0o755 });
  spawnSync('ln', ['-s', 'releases/1.2.3', join(dir, 'current')]);
  const run = (...args: string[]) =>
    spawnSync(join(dir, 'current', 'bin', 'ares'), args, { encoding: 'utf8', env: { PATH: process.env['PATH'] } })
      .stdout.trim()
      .split('\n');
  t.same(run('hub', '--config', 'a b.yaml'), [
    join(rel, 'node', 'bin', 'node'),
    ...HUB_NODE_FLAGS,
    join(rel, 'app', 'dist', 'cli', 'ares.js'),
    'hub',
    '--config',
    'a b.yaml',
  ]);
  t.same(run('central'), [join(rel, 'node', 'bin', 'node'), join(rel, 'app', 'dist', 'cli', 'ares.js'), 'central']);
});

t.test('pruning keeps licences and code, drops maps, TypeScript, docs, C sources and dot-files', async (t) => {
  for (const keep of [
    'index.js',
    'LICENSE',
    'LICENSE.md',
    'license.txt',
    'NOTICE',
    'tfjs-backend-wasm.wasm',
    'package.json',
  ])
    t.notOk(isDeadWeight(keep), keep);
  for (const drop of [
    'index.js.map',
    'index.d.ts',
    'x.d.mts',
    'src.ts',
    'README.md',
    'sqlite3.c',
    'binding.gyp',
    '.npmignore',
  ])
    t.ok(isDeadWeight(drop), drop);
});

t.test("pruning drops better-sqlite3's prebuilds/ and keeps the addon built for the target", async (t) => {
  const nodeModules = join(tempDir(t), 'node_modules');
  const pkg = join(nodeModules, 'better-sqlite3');
  const files = {
    'package.json': '{"name":"better-sqlite3","version":"13.2.0","main":"lib/index.js"}',
    'lib/index.js': '',
    'lib/binding.js': '',
    'build/Release/better_sqlite3.node': 'elf',
    'build/Release/test_extension.node': 'elf',
    'prebuilds/linux-x64.node': 'elf',
    'prebuilds/darwin-arm64.node': 'mach-o',
    'prebuilds/win32-x64.node': 'pe',
  };
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(join(pkg, rel, '..'), { recursive: true });
    writeFileSync(join(pkg, rel), text);
  }
  pruneModules(nodeModules);
  t.notOk(existsSync(join(pkg, 'prebuilds')), 'prebuilds/ is gone');
  t.notOk(existsSync(join(pkg, 'build/Release/test_extension.node')), 'the test extension is gone');
  for (const keep of ['package.json', 'lib/index.js', 'lib/binding.js', 'build/Release/better_sqlite3.node'])
    t.ok(existsSync(join(pkg, keep)), keep);
});

t.test('Debian versions: a pre-release sorts before its release', async (t) => {
  t.equal(debianVersion('0.1.0'), '0.1.0');
  t.equal(debianVersion('1.2.0-rc.1'), '1.2.0~rc.1');
  t.equal(debianVersion('1.2.0+b5'), '1.2.0+b5');
  t.throws(() => debianVersion('v1'), /not semver/);
  const cmp = spawnSync('dpkg', ['--compare-versions', '1.2.0~rc.1', 'lt', '1.2.0']);
  if (cmp.error) t.comment('dpkg not installed: ordering not checked');
  else t.equal(cmp.status, 0, 'dpkg agrees');
});

t.test('the shipped /etc/ares/*.yaml list every setting, commented, and load as all defaults', async (t) => {
  const dir = tempDir(t);
  for (const role of ['hub', 'central'] as const) {
    const text = configTemplate(CONFIG_SCHEMA, role, ['a note']);
    const file = join(dir, `${role}.yaml`);
    writeFileSync(file, text);
    const cfg = loadConfig({ file, env: {} });
    t.same(cfg[role], loadConfig({ env: {} })[role], `${role}.yaml as shipped = the defaults`);
    for (const key of Object.keys(CONFIG_SCHEMA[role]))
      t.match(text, new RegExp(`^  # ${key}:`, 'm'), `${role}.${key}`);
    t.match(text, /^log:$/m);
    t.match(text, `ARES_${role.toUpperCase()}_`);
    // Uncommenting a line with its default is a valid setting.
    const uncommented = text.replace(/^ {2}# (\w+: .*?)\s+# .*$/gm, '  $1');
    writeFileSync(file, uncommented);
    t.doesNotThrow(() => loadConfig({ file, env: {} }), `${role}.yaml with every default uncommented`);
  }
  const hub = readFileSync(join(dir, 'hub.yaml'), 'utf8');
  t.match(hub, /^ {2}state_dir: "\/var\/lib\/ares-hub"$/m);
});

t.test('the build script refuses bad arguments with exit 2 naming them', async (t) => {
  const script = fileURLToPath(new URL('../../cross-build/build-pi.ts', import.meta.url));
  const run = (...args: string[]) =>
    spawnSync(process.execPath, ['--import', '@tapjs/typescript/import', script, ...args], {
      encoding: 'utf8',
      timeout: 60_000,
    });
  const armv7 = run('--arch', 'armv7');
  t.equal(armv7.status, 2, armv7.stderr);
  t.match(armv7.stderr, /--arch armv7: 32-bit is not supported/);
  const bad = run('--bogus');
  t.equal(bad.status, 2);
  t.match(bad.stderr, /--bogus/);
  t.match(bad.stderr, /Usage: npm run build:pi/);
  t.equal(run('--help').status, 0);
});

t.test('the tarball is byte-for-byte the same for the same files, whatever their mtimes and modes', async (t) => {
  const dir = tempDir(t);
  const tree = join(dir, 'ares-9.9.9-linux-arm64');
  mkdirSync(join(tree, 'bin'), { recursive: true });
  mkdirSync(join(tree, 'app', 'b'), { recursive: true });
  writeFileSync(join(tree, 'bin', 'ares'), '#!/bin/sh\n', { mode: 0o755 });
  writeFileSync(join(tree, 'app', 'b', 'z.js'), 'z');
  writeFileSync(join(tree, 'app', 'a.js'), 'a');
  const first = join(dir, 'first.tar.gz');
  await makeTarball(dir, 'ares-9.9.9-linux-arm64', first, 1_700_000_000);
  utimesSync(join(tree, 'app', 'a.js'), new Date(), new Date(2001, 1, 1));
  chmodSync(join(tree, 'app', 'a.js'), 0o664);
  const second = join(dir, 'second.tar.gz');
  await makeTarball(dir, 'ares-9.9.9-linux-arm64', second, 1_700_000_000);
  t.ok(readFileSync(first).equals(readFileSync(second)), 'identical bytes');
  const list = spawnSync('tar', ['-tvzf', first], { encoding: 'utf8' }).stdout.trim().split('\n');
  t.same(
    list.map((l) => l.split(/\s+/).slice(5).join(' ')),
    [
      'ares-9.9.9-linux-arm64/',
      'ares-9.9.9-linux-arm64/app/',
      'ares-9.9.9-linux-arm64/app/a.js',
      'ares-9.9.9-linux-arm64/app/b/',
      'ares-9.9.9-linux-arm64/app/b/z.js',
      'ares-9.9.9-linux-arm64/bin/',
      'ares-9.9.9-linux-arm64/bin/ares',
    ],
    'sorted by name, one top folder',
  );
  t.ok(
    list.every((l) => l.split(/\s+/)[1] === '0/0'),
    'owned by 0/0',
  );
  t.match(
    list.find((l) => l.endsWith('/bin/ares')),
    /^-rwxr-xr-x /,
  );
  t.match(
    list.find((l) => l.endsWith('/app/a.js')),
    /^-rw-r--r-- /,
    'group/other write bits dropped',
  );
});
