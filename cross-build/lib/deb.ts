import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import { BuildError } from './errors.js';
import { run, runAsync } from './run.js';

export type Role = 'hub' | 'central';

export interface DebInput {
  root: string;
  role: Role;
  /** package.json version: the release folder /opt/ares/releases/<version>. */
  version: string;
  debArch: string;
  /** The bundle folder (the tarball's top folder). */
  bundleDir: string;
  workDir: string;
  outDir: string;
  depends: string[];
  configText: string;
  maintainer: string;
  /** Seconds since the epoch: the changelog date. */
  time: number;
  compression: DebCompression;
}

/**
 * dpkg-deb's compressor and level. xz is what Debian's tools accept (bookworm's lintian calls a zstd
 * member a malformed archive); level 2 builds both packages in ~25 s on two cores at ~41 MB each,
 * where xz's default 6 takes ~100 s per package for ~34 MB.
 */
export interface DebCompression {
  type: 'xz' | 'gzip' | 'zstd';
  level: number;
}

export const DEFAULT_DEB_COMPRESSION: DebCompression = { type: 'xz', level: 2 };

/** `xz`, `xz:6`, `gzip:9`, …: the --deb-compression argument. */
export function parseDebCompression(value: string): DebCompression {
  const m = /^(xz|gzip|zstd)(?::(\d{1,2}))?$/.exec(value);
  const max = { xz: 9, gzip: 9, zstd: 22 } as const;
  if (!m) throw new BuildError(`--deb-compression ${value}: use xz, gzip or zstd, optionally with :LEVEL (xz:6)`, 2);
  const type = m[1] as DebCompression['type'];
  const level = m[2] === undefined ? { xz: DEFAULT_DEB_COMPRESSION.level, gzip: 9, zstd: 9 }[type] : Number(m[2]);
  if (level > max[type]) throw new BuildError(`--deb-compression ${value}: ${type} levels go up to ${max[type]}`, 2);
  return { type, level };
}

export interface DebOutput {
  package: string;
  file: string;
  bytes: number;
  installedSizeKiB: number;
}

const DEBIAN_DIR = (root: string) => join(root, 'cross-build', 'debian');

/** package.json's semver as a Debian version: a pre-release sorts before its release (1.0.0~rc.1 < 1.0.0). */
export function debianVersion(version: string): string {
  const m = /^(\d+\.\d+\.\d+)(?:-([0-9A-Za-z.-]+))?(?:\+([0-9A-Za-z.-]+))?$/.exec(version);
  if (!m) throw new BuildError(`package.json version ${JSON.stringify(version)} is not semver (x.y.z[-pre][+build])`);
  return `${m[1]}${m[2] ? `~${m[2]}` : ''}${m[3] ? `+${m[3]}` : ''}`;
}

/** The unit, sysusers and tmpfiles snippets from systemd/, with the paths they are installed at. */
export function systemdFiles(root: string, pkg: string): { src: string; dest: string }[] {
  const files = [
    { src: join(root, 'systemd', `${pkg}.service`), dest: `usr/lib/systemd/system/${pkg}.service` },
    { src: join(root, 'systemd', `${pkg}.sysusers.conf`), dest: `usr/lib/sysusers.d/${pkg}.conf` },
    { src: join(root, 'systemd', `${pkg}.tmpfiles.conf`), dest: `usr/lib/tmpfiles.d/${pkg}.conf` },
  ];
  const missing = files.filter((f) => !existsSync(f.src)).map((f) => relative(root, f.src));
  if (missing.length) throw new BuildError(`${pkg}: missing ${missing.join(', ')} (the systemd/ folder)`);
  return files;
}

function render(template: string, vars: Record<string, string>): string {
  const out = template.replace(/@([A-Z_]+)@/g, (whole, name: string) => {
    const v = vars[name];
    if (v === undefined) throw new BuildError(`unknown placeholder ${whole} in a cross-build/debian template`);
    return v;
  });
  return out;
}

/** Placeholders of the cross-build/debian templates. */
export function templateVars(role: Role, version: string, maintainer: string, time: number): Record<string, string> {
  const pkg = `ares-${role}`;
  return {
    PACKAGE: pkg,
    ROLE: role,
    VERSION: version,
    DEB_VERSION: debianVersion(version),
    STATE_DIR: `/var/lib/${pkg}`,
    OTHER: role === 'hub' ? 'ares-central' : 'ares-hub',
    MAINTAINER: maintainer,
    YEAR: String(new Date(time * 1000).getUTCFullYear()),
  };
}

export const MAINTAINER_SCRIPTS = ['postinst', 'prerm', 'postrm'] as const;

/** A rendered cross-build/debian template (maintainer scripts, copyright, lintian overrides). */
export function renderTemplate(root: string, name: string, vars: Record<string, string>): string {
  return render(readFileSync(join(DEBIAN_DIR(root), name), 'utf8'), vars);
}

/** Installed-Size the way dpkg-gencontrol counts it: KiB per file rounded up, plus one per directory and link. */
function installedSizeKiB(dir: string): number {
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'DEBIAN' && dir.endsWith('-root')) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) total += 1 + installedSizeKiB(p);
    else if (e.isSymbolicLink()) total += 1;
    else total += Math.ceil(lstatSync(p).size / 1024);
  }
  return total;
}

function md5sums(root: string, exclude: Set<string>): string {
  const lines: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = join(dir, e.name);
      const rel = relative(root, p);
      if (rel === 'DEBIAN') continue;
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && !exclude.has(`/${rel}`))
        lines.push(`${createHash('md5').update(readFileSync(p)).digest('hex')}  ${rel}`);
    }
  };
  walk(root);
  return lines.join('\n') + '\n';
}

function writeFile(path: string, text: string | Buffer, mode = 0o644): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  chmodSync(path, mode);
}

/**
 * ares-hub or ares-central: the release bundle at /opt/ares/releases/<version>/, the systemd unit with its
 * sysusers and tmpfiles snippets, a commented /etc/ares/<role>.yaml (conffile), /usr/bin/ares, docs and
 * lintian overrides; maintainer scripts from cross-build/debian/. packDeb() builds it with dpkg-deb.
 */
export interface DebRoot {
  input: DebInput;
  package: string;
  rootDir: string;
  file: string;
  installedSizeKiB: number;
}

export function prepareDebRoot(input: DebInput): DebRoot {
  const pkg = `ares-${input.role}`;
  const other = input.role === 'hub' ? 'ares-central' : 'ares-hub';
  const version = debianVersion(input.version);
  const rootDir = join(input.workDir, `${pkg}-root`);
  rmSync(rootDir, { recursive: true, force: true });
  mkdirSync(rootDir, { recursive: true });
  chmodSync(rootDir, 0o755);

  // The bundle as hard links: no second copy of ~250 MB on disk, and dpkg-deb reads the same bytes.
  const releaseDir = join(rootDir, 'opt', 'ares', 'releases', input.version);
  mkdirSync(dirname(releaseDir), { recursive: true });
  run('cp', ['-al', input.bundleDir, releaseDir]);

  for (const f of systemdFiles(input.root, pkg)) {
    mkdirSync(dirname(join(rootDir, f.dest)), { recursive: true });
    copyFileSync(f.src, join(rootDir, f.dest));
    chmodSync(join(rootDir, f.dest), 0o644);
  }
  // Shipped all comments (no secrets yet) and 0644; postinst's systemd-tmpfiles then makes it
  // 0640 root:ares-<role> (systemd/<pkg>.tmpfiles.conf), since an edited one may hold secrets.
  writeFile(join(rootDir, 'etc', 'ares', `${input.role}.yaml`), input.configText, 0o644);
  mkdirSync(join(rootDir, 'usr', 'bin'), { recursive: true });
  // Through /opt/ares/current, so `ares` follows OTA's flips without dpkg.
  symlinkSync('/opt/ares/current/bin/ares', join(rootDir, 'usr', 'bin', 'ares'));

  const vars = templateVars(input.role, input.version, input.maintainer, input.time);
  const doc = join(rootDir, 'usr', 'share', 'doc', pkg);
  writeFile(join(doc, 'copyright'), renderTemplate(input.root, 'copyright', vars));
  const date = new Date(input.time * 1000).toUTCString().replace('GMT', '+0000');
  const changelog =
    `${pkg} (${version}) stable; urgency=medium\n\n` +
    `  * Ares edge ${input.version} (release notes: CHANGELOG.md of the sources).\n\n` +
    ` -- ${input.maintainer}  ${date}\n`;
  writeFile(join(doc, 'changelog.gz'), gzipSync(changelog, { level: 9 }));
  const overrides = renderTemplate(input.root, 'lintian-overrides', vars);
  writeFile(join(rootDir, 'usr', 'share', 'lintian', 'overrides', pkg), overrides);

  const control = join(rootDir, 'DEBIAN');
  mkdirSync(control, { recursive: true });
  chmodSync(control, 0o755);
  for (const script of MAINTAINER_SCRIPTS)
    writeFile(join(control, script), renderTemplate(input.root, script, vars), 0o755);
  const conffiles = [`/etc/ares/${input.role}.yaml`];
  writeFile(join(control, 'conffiles'), conffiles.join('\n') + '\n');
  writeFile(join(control, 'md5sums'), md5sums(rootDir, new Set(conffiles)));

  const size = installedSizeKiB(rootDir);
  const description =
    input.role === 'hub'
      ? [
          'Ares edge hub daemon for Raspberry Pi gateways',
          ' The edge gateway of an elderly-care smart home: GPIO and BLE sensors, a',
          ' LAN MQTT broker, fall detection with TensorFlow.js, and a store-and-forward',
          ' buffer synced to central. Runs as ares-hub.service, with its own Node.js 24',
          ' runtime under /opt/ares. A machine is a hub or a central: this package',
          ' conflicts with ares-central.',
        ]
      : [
          'Ares edge central backend',
          ' Accounts, device registry and provisioning, certificate authority,',
          ' telemetry ingest, commands and OTA releases for Ares hubs. Runs as',
          ' ares-central.service, with its own Node.js 24 runtime under /opt/ares.',
          ' A machine is a hub or a central: this package conflicts with ares-hub.',
        ];
  const fields = [
    `Package: ${pkg}`,
    `Version: ${version}`,
    `Architecture: ${input.debArch}`,
    `Maintainer: ${input.maintainer}`,
    `Installed-Size: ${size}`,
    `Depends: ${[...input.depends, 'systemd'].join(', ')}`,
    // Both carry the same release files and /usr/bin/ares: one or the other per machine.
    `Conflicts: ${other}`,
    `Replaces: ${other}`,
    'Section: net',
    'Priority: optional',
    `Description: ${description.join('\n')}`,
  ];
  writeFile(join(control, 'control'), fields.join('\n') + '\n');

  mkdirSync(input.outDir, { recursive: true });
  const file = join(input.outDir, `${pkg}_${version}_${input.debArch}.deb`);
  return { input, package: pkg, rootDir, file, installedSizeKiB: size };
}

/**
 * dpkg-deb on a prepared root. Several may run at once, but only once every root is prepared: the
 * roots share the bundle's inodes, and a new hard link (or a removed one) changes an inode's ctime,
 * which makes tar abort with "file changed as we read it".
 */
export async function packDeb(root: DebRoot): Promise<DebOutput> {
  const { input, rootDir, file } = root;
  rmSync(file, { force: true });
  await runAsync(
    'dpkg-deb',
    ['--build', '--root-owner-group', `-Z${input.compression.type}`, `-z${input.compression.level}`, rootDir, file],
    { env: { ...process.env, SOURCE_DATE_EPOCH: String(input.time) } },
  );
  return { package: root.package, file, bytes: statSync(file).size, installedSizeKiB: root.installedSizeKiB };
}
