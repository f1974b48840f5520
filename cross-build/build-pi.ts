#!/usr/bin/env node
/**
 * `npm run build:pi -- --arch arm64 [--out DIR]`: the release bundle of Ares edge for 64-bit Raspberry Pi
 * OS (or x86-64 with --arch x64) — Node 24, the compiled app, production node_modules with native
 * addons built for the target — as `ares-<version>-linux-<arch>.tar.gz`, plus the ares-hub and
 * ares-central .deb packages, with their sizes in `build-pi.json`. See cross-build/README.md.
 */
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildAddons, type BuiltAddon } from './lib/addons.js';
import { configTemplate, loadSchema } from './lib/config-template.js';
import {
  DEFAULT_DEB_COMPRESSION,
  packDeb,
  parseDebCompression,
  prepareDebRoot,
  type DebCompression,
  type Role,
} from './lib/deb.js';
import { assertElf, checkBundleElves } from './lib/elf.js';
import { BuildError } from './lib/errors.js';
import { mb, treeBytes } from './lib/fsutil.js';
import { sourceInfo } from './lib/git.js';
import { hubNodeFlags, writeLauncher } from './lib/launcher.js';
import { addonHeaders } from './lib/node-headers.js';
import { fetchNode } from './lib/node-runtime.js';
import { installProdModules } from './lib/prod-modules.js';
import { pruneModules } from './lib/prune.js';
import { onPath, run } from './lib/run.js';
import { sharedLibNeeds } from './lib/shlibs.js';
import { compileApp, copyModels, localDependencies, readProjectPackage, writeAppPackage } from './lib/stage-app.js';
import { makeTarball } from './lib/tarball.js';
import { NODE_VERSION, targetFor, type Target } from './lib/targets.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export interface BuildOptions {
  arch: string;
  outDir: string;
  debs: boolean;
  /** Reuse addon builds from node_modules/.cache/ares-cross (keyed by sources, target, Node and compiler). */
  addonCache: boolean;
  keepWork: boolean;
  /** Default xz level 2 (see DEFAULT_DEB_COMPRESSION). */
  debCompression?: DebCompression;
  log: (line: string) => void;
}

export interface ArtifactSize {
  /** File name, in the output folder (next to build-pi.json). */
  file: string;
  bytes: number;
  mb: number;
}

/** What build-pi.json holds (and buildPi() returns). */
export interface BuildResult {
  name: string;
  version: string;
  arch: string;
  node_version: string;
  commit: string | null;
  dirty: boolean | null;
  /** Seconds since the epoch of the sources (every tarball entry's mtime). */
  source_time: number;
  built_at: string;
  duration_s: number;
  steps_s: Record<string, number>;
  tarball: ArtifactSize;
  /** The bundle unpacked. */
  bundle_bytes: number;
  bundle_mb: number;
  debs: (ArtifactSize & { package: string; installed_size_kib: number })[];
  addons: BuiltAddon[];
  /** Every ELF file of the bundle, checked for the target's machine. */
  elf_checked: string[];
  depends: string[];
  hub_node_flags: string[];
}

const USAGE = `Usage: npm run build:pi -- [--arch arm64|x64] [--out DIR] [--no-deb] [--deb-compression TYPE[:LEVEL]]
                          [--no-addon-cache] [--keep-work]

Builds ares-<version>-linux-<arch>.tar.gz (Node ${NODE_VERSION}, the app, production node_modules with native
addons built for the target) and, unless --no-deb, ares-hub_<version>_<debarch>.deb and
ares-central_<version>_<debarch>.deb, into DIR (default: dist/), with their sizes in DIR/build-pi.json.
  --arch arm64   64-bit Raspberry Pi OS (Pi 3, 4, 5, Zero 2 W); the default. Cross-compiles with
                 Debian's aarch64-linux-gnu toolchain.
  --arch x64     the same bundle for x86-64 Linux, built natively (to measure the shipped runtime here).
  --deb-compression  xz:2 (the default; ~25 s), xz:6 (~20% smaller, minutes), gzip, or zstd (seconds, but
                     bookworm's lintian calls zstd packages malformed).
  --no-addon-cache   compile the native addons even if node_modules/.cache/ares-cross has them.
  --keep-work        keep the staging folder (printed) for inspection.
`;

/** Tools the build runs, with the Debian packages that provide them. */
function checkTools(target: Target, debs: boolean): void {
  const p = target.toolchain.prefix;
  const need: [string, string][] = [
    [`${p}gcc`, target.toolchain.debianPackages[0]!],
    [`${p}g++`, target.toolchain.debianPackages[1]!],
    [`${p}ar`, target.toolchain.debianPackages[2]!],
    [`${p}strip`, target.toolchain.debianPackages[2]!],
    [`${p}objdump`, target.toolchain.debianPackages[2]!],
    ['make', 'make'],
    ['python3', 'python3'],
    ['tar', 'tar'],
    ['gzip', 'gzip'],
    ['npm', 'npm'],
  ];
  if (debs) need.push(['dpkg-deb', 'dpkg']);
  const missing = need.filter(([cmd]) => !onPath(cmd));
  if (missing.length)
    throw new BuildError(
      `missing ${missing.map(([c]) => c).join(', ')}: apt-get install ${[...new Set(missing.map(([, d]) => d))].join(' ')}`,
    );
}

/**
 * Folders 0755, files 0644 but the two programs (bin/ares, node/bin/node): the same modes whatever the
 * umask or the npm tarballs said. Nothing under app/ is executed directly (the bundled node loads it;
 * .node addons are dlopen()ed, which needs no execute bit).
 */
function normalizeModes(bundleDir: string): void {
  const executables = new Set([join(bundleDir, 'bin', 'ares'), join(bundleDir, 'node', 'bin', 'node')]);
  const walk = (dir: string): void => {
    chmodSync(dir, 0o755);
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) chmodSync(p, executables.has(p) ? 0o755 : 0o644);
    }
  };
  walk(bundleDir);
}

export async function buildPi(opts: BuildOptions): Promise<BuildResult> {
  const started = Date.now();
  const steps: Record<string, number> = {};
  let t = Date.now();
  const step = (name: string) => {
    steps[name] = Math.round((Date.now() - t) / 100) / 10;
    opts.log(`build:pi: ${name} done in ${steps[name]} s`);
    t = Date.now();
  };
  const target = targetFor(opts.arch);
  if (target.arch === 'x64' && process.arch !== 'x64')
    throw new BuildError(`--arch x64 builds natively and needs an x86-64 machine (this one is ${process.arch})`, 2);
  checkTools(target, opts.debs);

  const pkg = readProjectPackage(ROOT);
  const src = sourceInfo(ROOT);
  const name = `ares-${pkg.version}-linux-${target.arch}`;
  const cacheDir = join(ROOT, 'node_modules', '.cache', 'ares-cross');
  const work = mkdtempSync(join(tmpdir(), `ares-build-pi-${target.arch}-`));
  const bundleDir = join(work, name);
  const appDir = join(bundleDir, 'app');
  mkdirSync(appDir, { recursive: true });
  opts.log(
    `build:pi: ${name} (commit ${src.commit?.slice(0, 12) ?? 'unknown'}${src.dirty ? ', with local changes' : ''}) in ${work}`,
  );

  try {
    // Node 24 for the target: the binary (stripped: the debug symbols are a sixth of it) and its licence.
    const node = fetchNode(target, cacheDir, opts.log);
    assertElf(node.binary, target.elfMachine, `${target.nodePackage}@${NODE_VERSION} bin/node`);
    mkdirSync(join(bundleDir, 'node', 'bin'), { recursive: true });
    copyFileSync(node.binary, join(bundleDir, 'node', 'bin', 'node'));
    chmodSync(join(bundleDir, 'node', 'bin', 'node'), 0o755);
    run(`${target.toolchain.prefix}strip`, ['--strip-all', join(bundleDir, 'node', 'bin', 'node')]);
    copyFileSync(join(node.dir, 'LICENSE'), join(bundleDir, 'node', 'LICENSE'));
    step('node');

    compileApp(ROOT, appDir);
    const locals = localDependencies(pkg);
    const localVersions = new Map<string, string>();
    for (const [dep, rel] of locals) localVersions.set(dep, readProjectPackage(join(ROOT, rel)).version);
    writeAppPackage(pkg, appDir, localVersions);
    const models = copyModels(ROOT, appDir);
    opts.log(`build:pi: app compiled; models ${models.join(', ')}`);
    step('app');

    const nodeModules = installProdModules(ROOT, target, join(work, 'npm'));
    step('npm ci');
    const headers = addonHeaders(node);
    const addons = buildAddons({
      root: ROOT,
      nodeModules,
      target,
      headers,
      cacheDir: opts.addonCache ? join(cacheDir, 'addons') : undefined,
      logDir: join(work, 'logs'),
      log: opts.log,
    });
    step('addons');
    const pruned = pruneModules(nodeModules);
    if (pruned.removedPackages.length) opts.log(`build:pi: left out ${pruned.removedPackages.join(', ')}`);
    renameSync(nodeModules, join(appDir, 'node_modules'));
    step('prune');

    const hubFlags = await hubNodeFlags(appDir);
    writeLauncher(bundleDir, hubFlags);
    // The one field that differs between two builds of the same sources, unless SOURCE_DATE_EPOCH pins it.
    const builtAt = (process.env['SOURCE_DATE_EPOCH'] ? new Date(src.time * 1000) : new Date()).toISOString();
    writeFileSync(join(bundleDir, 'VERSION'), `${pkg.version}\n`);
    writeFileSync(
      join(bundleDir, 'manifest.json'),
      JSON.stringify(
        {
          name: pkg.name,
          version: pkg.version,
          arch: target.arch,
          platform: `linux-${target.arch}-glibc`,
          node_version: NODE_VERSION,
          node_package: `${target.nodePackage}@${NODE_VERSION}`,
          node_integrity: node.integrity,
          commit: src.commit,
          dirty: src.dirty,
          source_time: new Date(src.time * 1000).toISOString(),
          built_at: builtAt,
          hub_node_flags: hubFlags,
          addon_headers: headers.id,
          addons: addons.map((a) => ({ package: a.package, files: a.files })),
          models,
        },
        null,
        2,
      ) + '\n',
    );
    normalizeModes(bundleDir);
    const elfChecked = checkBundleElves(bundleDir, target.elfMachine);
    const needs = sharedLibNeeds(
      elfChecked.map((f) => join(bundleDir, f)),
      `${target.toolchain.prefix}objdump`,
      bundleDir,
    );
    opts.log(
      `build:pi: ${elfChecked.length} ELF files are ${target.elfMachineName}; they need ${needs.depends.join(', ')}`,
    );
    step('bundle');

    mkdirSync(opts.outDir, { recursive: true });
    const tarball = join(opts.outDir, `${name}.tar.gz`);
    const tarBytes = await makeTarball(work, name, tarball, src.time);
    step('tarball');

    const debs: BuildResult['debs'] = [];
    if (opts.debs) {
      const schema = await loadSchema(appDir);
      const maintainer = process.env['ARES_DEB_MAINTAINER'] ?? 'Ares edge maintainers <ares-edge@example.com>';
      const notes: Record<Role, string[]> = {
        hub: [
          'State (identity, credentials, buffer.db) is in /var/lib/ares-hub, which the unit uses as hub.state_dir.',
        ],
        central: [
          'ares-central.service sets ARES_CENTRAL_DATA_DIR=/var/lib/ares-central, which overrides central.data_dir.',
        ],
      };
      const roles: Role[] = ['hub', 'central'];
      const roots = roles.map((role) =>
        prepareDebRoot({
          root: ROOT,
          role,
          version: pkg.version,
          debArch: target.debArch,
          bundleDir,
          workDir: work,
          outDir: opts.outDir,
          depends: needs.depends,
          configText: configTemplate(schema, role, notes[role]),
          maintainer,
          time: src.time,
          compression: opts.debCompression ?? DEFAULT_DEB_COMPRESSION,
        }),
      );
      const built = await Promise.all(roots.map((r) => packDeb(r)));
      for (const d of built)
        debs.push({
          package: d.package,
          file: basename(d.file),
          bytes: d.bytes,
          mb: mb(d.bytes),
          installed_size_kib: d.installedSizeKiB,
        });
      step('debs');
    }

    const bundleBytes = treeBytes(bundleDir);
    const result: BuildResult = {
      name,
      version: pkg.version,
      arch: target.arch,
      node_version: NODE_VERSION,
      commit: src.commit,
      dirty: src.dirty,
      source_time: src.time,
      built_at: builtAt,
      duration_s: Math.round((Date.now() - started) / 100) / 10,
      steps_s: steps,
      tarball: { file: basename(tarball), bytes: tarBytes, mb: mb(tarBytes) },
      bundle_bytes: bundleBytes,
      bundle_mb: mb(bundleBytes),
      debs,
      addons,
      elf_checked: elfChecked,
      depends: needs.depends,
      hub_node_flags: hubFlags,
    };
    writeFileSync(join(opts.outDir, 'build-pi.json'), JSON.stringify(result, null, 2) + '\n');
    return result;
  } finally {
    if (opts.keepWork) opts.log(`build:pi: work folder kept: ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
}

function printSizes(r: BuildResult, outDir: string, log: (line: string) => void): void {
  const rows: [string, number][] = [
    [`${r.name}/ (unpacked)`, r.bundle_bytes],
    [join(outDir, r.tarball.file), r.tarball.bytes],
    ...r.debs.map((d): [string, number] => [join(outDir, d.file), d.bytes]),
  ];
  log('');
  log(`build:pi: ${r.name} in ${r.duration_s} s`);
  for (const [file, bytes] of rows)
    log(`  ${String(bytes).padStart(11)} bytes  ${mb(bytes).toFixed(1).padStart(6)} MB  ${file}`);
}

async function main(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        arch: { type: 'string', default: 'arm64' },
        out: { type: 'string', default: join(ROOT, 'dist') },
        'no-deb': { type: 'boolean', default: false },
        'no-addon-cache': { type: 'boolean', default: false },
        'keep-work': { type: 'boolean', default: false },
        'deb-compression': { type: 'string', default: 'xz' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    process.stderr.write(`build:pi: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const log = (line: string) => process.stdout.write(`${line}\n`);
  try {
    const compression = parseDebCompression(values['deb-compression']);
    const result = await buildPi({
      arch: values.arch,
      outDir: resolve(values.out),
      debs: !values['no-deb'],
      addonCache: !values['no-addon-cache'],
      keepWork: values['keep-work'],
      debCompression: compression,
      log,
    });
    printSizes(result, resolve(values.out), log);
    log(`  sizes: ${join(resolve(values.out), 'build-pi.json')}`);
    return 0;
  } catch (err) {
    if (err instanceof BuildError) {
      process.stderr.write(`build:pi: ${err.message}\n`);
      return err.exitCode;
    }
    throw err;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
