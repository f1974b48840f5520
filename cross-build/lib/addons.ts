import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { BuildError } from './errors.js';
import { publishToCache, walkFiles } from './fsutil.js';
import { packageDirs } from './prod-modules.js';
import { run } from './run.js';
import type { Target } from './targets.js';
import type { AddonHeaders } from './node-headers.js';

export interface BuiltAddon {
  /** Package name and version, e.g. better-sqlite3@13.2.0. */
  package: string;
  /** The .node files kept, relative to node_modules. */
  files: string[];
  cached: boolean;
}

/** Packages with a binding.gyp at their root: node-gyp builds them, for the target, after npm ci. */
export function findAddons(nodeModules: string): string[] {
  return [...packageDirs(nodeModules)].filter((dir) => existsSync(join(dir, 'binding.gyp'))).sort();
}

/**
 * node-gyp: npm's own copy when run through `npm run` (npm_config_node_gyp), else the project's, else the one
 * inside the global npm. Running it with the build machine's Node is fine: it only drives gyp and make.
 */
export function findNodeGyp(root: string): string {
  const candidates = [process.env['npm_config_node_gyp'], join(root, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js')];
  try {
    const globalRoot = run('npm', ['root', '-g']).trim();
    candidates.push(join(globalRoot, 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
    // npm's own folder: the node on PATH may not be npm's (scripts/install-node.sh links a Node without
    // npm, whose global root then holds no npm at all).
    const npmCli = realpathSync(run('sh', ['-c', 'command -v npm']).trim());
    candidates.push(join(dirname(npmCli), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  } catch {
    // No npm on PATH: only the other candidates remain.
  }
  candidates.push(
    join(
      dirname(process.execPath),
      '..',
      'lib',
      'node_modules',
      'npm',
      'node_modules',
      'node-gyp',
      'bin',
      'node-gyp.js',
    ),
  );
  const found = candidates.find((c): c is string => typeof c === 'string' && c !== '' && existsSync(c));
  if (!found) throw new BuildError(`node-gyp not found (looked at ${candidates.filter(Boolean).join(', ')})`);
  return found;
}

/**
 * The environment node-gyp runs in: the target's compilers, and none of npm's `npm_config_*` variables,
 * which node-gyp lets override its command line (CI exports npm_config_nodedir for host builds; here
 * it would build against the build machine's Node headers).
 */
export function addonEnv(target: Target): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!/^npm_(config|package_config_node_gyp)_/i.test(k) && !/^(CC|CXX|AR|LINK|CFLAGS|CXXFLAGS|LDFLAGS)$/.test(k))
      env[k] = v;
  const p = target.toolchain.prefix;
  if (p) {
    Object.assign(env, { CC: `${p}gcc`, CXX: `${p}g++`, AR: `${p}ar`, LINK: `${p}g++`, STRIP: `${p}strip` });
    // gyp's host toolset (tools run during the build, none today) stays native.
    Object.assign(env, { CC_host: 'gcc', CXX_host: 'g++', AR_host: 'ar', LINK_host: 'g++' });
  }
  return env;
}

/** What decides an addon build's output: its sources, the target, Node's ABI and the compiler. */
function cacheKey(dir: string, target: Target, headers: AddonHeaders, compiler: string): string {
  const h = createHash('sha256');
  h.update(`${target.arch}\0${headers.id}\0${headers.dir}\0${compiler}\0`);
  for (const file of [...walkFiles(dir)].sort()) {
    const rel = relative(dir, file);
    if (rel.startsWith('build/') || rel.startsWith('node_modules/')) continue;
    h.update(rel).update('\0').update(readFileSync(file)).update('\0');
  }
  return h.digest('hex').slice(0, 32);
}

/**
 * Builds every addon for the target with node-gyp against the bundled Node's headers, keeps only the
 * .node files under build/Release (stripped) and drops the intermediates. Results are cached by
 * cacheKey() under `cacheDir`, so an unchanged addon is not compiled again.
 */
export function buildAddons(opts: {
  root: string;
  nodeModules: string;
  target: Target;
  headers: AddonHeaders;
  cacheDir: string | undefined;
  logDir: string;
  log: (line: string) => void;
}): BuiltAddon[] {
  const { nodeModules, target, headers, log } = opts;
  const env = addonEnv(target);
  const compiler = run(env['CXX'] ?? 'g++', ['--version']).split('\n')[0] ?? '';
  const strip = `${target.toolchain.prefix}strip`;
  let nodeGyp: string | undefined;
  const built: BuiltAddon[] = [];
  mkdirSync(opts.logDir, { recursive: true });
  for (const dir of findAddons(nodeModules)) {
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name: string; version: string };
    const id = `${pkg.name}@${pkg.version}`;
    const key = cacheKey(dir, target, headers, compiler);
    const cached = opts.cacheDir ? join(opts.cacheDir, `${pkg.name.replace('/', '+')}-${key}`) : undefined;
    const release = join(dir, 'build', 'Release');
    let fromCache = false;
    if (cached && existsSync(join(cached, '.complete'))) {
      log(`addon ${id}: cached build for ${target.arch}`);
      rmSync(join(dir, 'build'), { recursive: true, force: true });
      mkdirSync(release, { recursive: true });
      for (const f of readdirSync(cached)) if (f.endsWith('.node')) copyFileSync(join(cached, f), join(release, f));
      fromCache = true;
    } else {
      nodeGyp ??= findNodeGyp(opts.root);
      log(`addon ${id}: node-gyp rebuild --arch=${target.arch} against ${headers.id} headers`);
      const started = Date.now();
      const args = [nodeGyp, 'rebuild', '--release', `--arch=${target.arch}`, `--nodedir=${headers.dir}`, '--jobs=max'];
      // A gyp variable for every addon (the others never read it): better-sqlite3 13's binding.gyp builds
      // nothing when `node lib/binding.js` finds a prebuild for the machine running the build (its npm
      // package ships prebuilds/linux-x64.node), and force_build=1 is its own switch to compile anyway.
      args.push('--force_build=1');
      try {
        const out = run(process.execPath, args, { cwd: dir, env });
        writeFileSync(join(opts.logDir, `${pkg.name.replace('/', '+')}.log`), out);
      } catch (err) {
        throw new BuildError(`building the native addon ${id} for ${target.arch} failed: ${(err as Error).message}`);
      }
      log(`addon ${id}: built in ${((Date.now() - started) / 1000).toFixed(0)} s`);
      // Only the loadable result stays: object files, .deps and Makefiles are megabytes of nothing.
      const keep = existsSync(release) ? readdirSync(release).filter((f) => f.endsWith('.node')) : [];
      if (keep.length === 0) throw new BuildError(`${id}: node-gyp produced no .node file under build/Release`);
      const tmp = join(dir, 'build.keep');
      mkdirSync(tmp, { recursive: true });
      for (const f of keep) renameSync(join(release, f), join(tmp, f));
      rmSync(join(dir, 'build'), { recursive: true, force: true });
      mkdirSync(join(dir, 'build'), { recursive: true });
      renameSync(tmp, release);
      // Debug symbols are most of an addon's size and nothing on a Pi reads them.
      for (const f of keep) run(strip, ['--strip-unneeded', join(release, f)]);
      if (cached) {
        mkdirSync(opts.cacheDir!, { recursive: true });
        const tmp = mkdtempSync(`${cached}.tmp-`);
        for (const f of keep) copyFileSync(join(release, f), join(tmp, f));
        writeFileSync(join(tmp, '.complete'), `${id} ${target.arch}\n`);
        rmSync(cached, { recursive: true, force: true });
        publishToCache(tmp, cached);
      }
    }
    built.push({
      package: id,
      files: readdirSync(release)
        .filter((f) => f.endsWith('.node'))
        .map((f) => relative(nodeModules, join(release, f)))
        .sort(),
      cached: fromCache,
    });
  }
  return built;
}
